"""What a signer holds while it runs: settings, its keys, the DA contracts, the store, the upload follower and
the registrar. Built by create_app (fails fast on bad configuration); `open()` / `close()` run in the lifespan."""

from __future__ import annotations

import logging

import requests
from web3 import Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from services.da_signer.core.config import Settings, signer_dir
from services.da_signer.registrar import Registrar
from services.da_signer.store import SignerStore
from services.da_signer.sync import UploadFollower
from zerog.chain import Deployment, connect
from zerog.da import kzg
from zerog.da.contracts import ENTRANCE_CONTRACT, DAContracts, SignerSetView
from zerog.da.keys import signer_account, signer_keys, signer_socket
from zerog.errors import ConfigError

log = logging.getLogger(__name__)

#: A dead chain node should make requests fail promptly, not after seconds of back-off.
RPC_RETRIES = 2
RPC_BACKOFF_SECONDS = 0.1


def signer_web3(rpc_url: str) -> Web3:
    w3 = connect(rpc_url, check=False)
    w3.provider.exception_retry_configuration = ExceptionRetryConfiguration(  # type: ignore[union-attr]
        errors=(ConnectionError, requests.ConnectionError, requests.Timeout),
        retries=RPC_RETRIES,
        backoff_factor=RPC_BACKOFF_SECONDS,
    )
    return w3


class SignerRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.account = signer_account(settings)
        self.keys = signer_keys(self.account)
        self.socket = signer_socket(settings)
        self.deployment = Deployment.for_settings(settings)
        self.w3 = signer_web3(settings.rpc_url)
        self.contracts = DAContracts(self.w3, self.deployment)
        record = self.deployment.record(ENTRANCE_CONTRACT)
        self.entrance_abi = record["abi"]
        self.start_block = int(record.get("deployBlock", 0))
        # A redeploy on a fresh chain can reuse the address; the deploy block hash tells them apart.
        self.deployment_id = f"{self.contracts.entrance_address}@{record.get('deployBlockHash', '')}"
        self.chain_id = self.deployment.chain_id
        self.registrar = Registrar(self.contracts, self.account, self.keys, self.socket, settings.da_signer_stake_wei)
        self._store: SignerStore | None = None
        self._follower: UploadFollower | None = None

    def check_chain(self) -> None:
        """If the chain answers, it must be the one the manifest was deployed on."""
        try:
            chain_id = self.w3.eth.chain_id
        except Exception:  # not a config error: the signer registers once the chain is back
            log.warning("chain node at %s does not answer yet", self.settings.rpc_url)
            return
        if chain_id != self.chain_id:
            raise ConfigError(
                f"the chain at {self.settings.rpc_url} has chain id {chain_id}, "
                f"but {self.deployment.path} is for chain {self.chain_id}"
            )

    def prepare(self) -> None:
        """Load the KZG setup and open the store (fails with ConfigError on another signer's data dir)."""
        kzg.load_setup()
        if self._store is None:
            self._store = SignerStore.open(
                signer_dir(self.settings), account=self.account.address, deployment_id=self.deployment_id
            )

    def open(self) -> None:
        self.prepare()
        assert self._store is not None
        self._follower = UploadFollower(
            signer_web3(self.settings.rpc_url),
            self.contracts.entrance_address,
            self.entrance_abi,
            self._store,
            start_block=self.start_block,
            confirmations=self.settings.confirmations,
            poll_interval=self.settings.poll_interval,
            resync=self.settings.resync,
        )
        self._follower.start()
        self.registrar.start()
        log.info(
            "DA signer %d: account %s, socket %s, DAEntrance %s (chain %d), store %s",
            self.settings.da_signer_index, self.account.address, self.socket, self.contracts.entrance_address,
            self.chain_id, signer_dir(self.settings),
        )  # fmt: skip

    def close(self) -> None:
        self.registrar.stop()
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> SignerStore:
        if self._store is None:
            raise RuntimeError("the signer is not running (app lifespan not started)")
        return self._store

    @property
    def follower(self) -> UploadFollower:
        if self._follower is None:
            raise RuntimeError("the signer is not running (app lifespan not started)")
        return self._follower

    def signer_set(self) -> SignerSetView:
        """The current epoch's signers, from the chain."""
        return self.contracts.current_signers()
