"""What the app holds while it runs: settings, the deployment, the hot key, the store, the follower."""

from __future__ import annotations

import logging

import requests
from web3 import Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from services.faucet.core.config import Settings, db_path
from services.faucet.dripper import FAUCET_CONTRACT, Dripper, load_dripper
from services.faucet.drips import DripFollower
from services.faucet.store import FaucetStore
from zerog.chain import Deployment, connect
from zerog.errors import ConfigError

log = logging.getLogger(__name__)

#: A dead node should turn into a prompt 503, not seconds of back-off inside one HTTP request.
RPC_RETRIES = 2
RPC_BACKOFF_SECONDS = 0.1


def faucet_web3(rpc_url: str) -> Web3:
    w3 = connect(rpc_url, check=False)
    w3.provider.exception_retry_configuration = ExceptionRetryConfiguration(  # type: ignore[union-attr]
        errors=(ConnectionError, requests.ConnectionError, requests.Timeout),
        retries=RPC_RETRIES,
        backoff_factor=RPC_BACKOFF_SECONDS,
    )
    return w3


class FaucetRuntime:
    """Built by create_app (fails fast on bad config); `open()`/`close()` run in the app lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deployment = Deployment.for_settings(settings)
        self.faucet_address = self.deployment.address(FAUCET_CONTRACT)
        self.account = load_dripper(settings)
        self._store: FaucetStore | None = None
        self._dripper: Dripper | None = None
        self._follower: DripFollower | None = None

    def check_chain(self) -> None:
        """If the node answers, it must be the chain the manifest was deployed on."""
        w3 = faucet_web3(self.settings.rpc_url)
        try:
            chain_id = w3.eth.chain_id
        except Exception:  # an unreachable node is not a config error: claims answer 503 until it is back
            log.warning("chain node at %s does not answer yet", self.settings.rpc_url)
            return
        if chain_id != self.deployment.chain_id:
            raise ConfigError(
                f"the node at {self.settings.rpc_url} runs chain {chain_id}, "
                f"but {self.deployment.path} is for chain {self.deployment.chain_id}"
            )

    def open(self) -> None:
        path = db_path(self.settings)
        self._store = FaucetStore.open(path)
        # The API threads and the follower thread each get their own HTTP connection pool.
        self._dripper = Dripper(
            self.settings, faucet_web3(self.settings.rpc_url), self.deployment, self.account, self._store
        )
        self._follower = DripFollower(self.settings, faucet_web3(self.settings.rpc_url), self.deployment, self._store)
        self._follower.start()
        try:
            if not self._dripper.has_role():
                log.warning(
                    "dripper %s lacks DRIPPER_ROLE on %s: claims will fail", self.account.address, self.faucet_address
                )
        except Exception:  # unreachable chain: already logged, claims report it
            pass
        log.info("faucet %s, dripper %s, store %s", self.faucet_address, self.account.address, path)

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._dripper = None

    @property
    def store(self) -> FaucetStore:
        if self._store is None:
            raise RuntimeError("the faucet is not running (app lifespan not started)")
        return self._store

    @property
    def dripper(self) -> Dripper:
        if self._dripper is None:
            raise RuntimeError("the faucet is not running (app lifespan not started)")
        return self._dripper

    @property
    def follower(self) -> DripFollower:
        if self._follower is None:
            raise RuntimeError("the faucet is not running (app lifespan not started)")
        return self._follower
