"""What the app holds while it runs: settings, the deployment, the hot key, the store, the follower."""

from __future__ import annotations

import logging

from services.common.runtime import DaemonRuntime, daemon_web3
from services.faucet.config import FaucetDaemonSettings, db_path
from services.faucet.dripper import Dripper, load_dripper
from services.faucet.drips import DripFollower
from services.faucet.store import FaucetStore
from zerog.faucet.contracts import FAUCET

log = logging.getLogger(__name__)


class FaucetRuntime(DaemonRuntime[FaucetStore, DripFollower]):
    """Built by create_app (fails fast on bad config); `open()`/`close()` run in the app lifespan."""

    name = "faucet"
    uses_contracts = (FAUCET,)

    def __init__(self, settings: FaucetDaemonSettings) -> None:
        super().__init__(settings)
        self.faucet_address = self.deployment.address(FAUCET)
        self.account = load_dripper(settings)
        self._dripper: Dripper | None = None

    def open(self) -> None:
        path = db_path(self.settings)
        self._store = FaucetStore.open(path)
        # The API threads and the follower thread each get their own HTTP connection pool.
        self._dripper = Dripper(
            self.settings, daemon_web3(self.settings.rpc_url), self.deployment, self.account, self._store
        )
        self._follower = DripFollower(self.settings, daemon_web3(self.settings.rpc_url), self.deployment, self._store)
        self._follower.start()
        try:
            if not self._dripper.has_role():
                log.warning(
                    "dripper %s lacks DRIPPER_ROLE on %s: claims will fail", self.account.address, self.faucet_address
                )
        except Exception:  # unreachable chain: already logged, claims report it
            pass
        log.info("faucet %s, dripper %s, store %s", self.faucet_address, self.account.address, path)

    def stop_workers(self) -> None:
        self._dripper = None

    @property
    def dripper(self) -> Dripper:
        return self.running(self._dripper)
