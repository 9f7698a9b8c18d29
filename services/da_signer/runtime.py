"""What a signer holds while it runs: settings, its keys, the DA contracts, the store, the upload follower and
the registrar. Built by create_app (fails fast on bad configuration); `open()` / `close()` run in the lifespan."""

from __future__ import annotations

import logging
import threading
import time

from services.common.runtime import DaemonRuntime, daemon_web3
from services.da_signer.challenges import ChallengeFollower, ChallengeResponder
from services.da_signer.config import DASignerSettings, signer_account, signer_dir, signer_socket
from services.da_signer.registrar import Registrar
from services.da_signer.store import SignerStore
from services.da_signer.sync import UploadFollower
from zerog.da import kzg
from zerog.da.challenges import ChallengeContract
from zerog.da.contracts import ENTRANCE_CONTRACT, REQUIRED_CONTRACTS, DAContracts, SignerSetView
from zerog.da.keys import signer_keys
from zerog.errors import ComponentUnavailableError

log = logging.getLogger(__name__)


class SignerRuntime(DaemonRuntime[SignerStore, UploadFollower]):
    name = "signer"
    uses_contracts = REQUIRED_CONTRACTS

    def __init__(self, settings: DASignerSettings) -> None:
        super().__init__(settings)
        self.account = signer_account(settings)
        self.keys = signer_keys(self.account)
        self.socket = signer_socket(settings)
        self.contracts = DAContracts(self.w3, self.deployment)
        record = self.deployment.record(ENTRANCE_CONTRACT)
        self.entrance_abi = record["abi"]
        self.start_block = int(record.get("deployBlock", 0))
        # A redeploy on a fresh chain can reuse the address; the deploy block hash tells them apart.
        self.deployment_id = f"{self.contracts.entrance_address}@{record.get('deployBlockHash', '')}"
        self.registrar = Registrar(self.contracts, self.account, self.keys, self.socket, settings.da_signer_stake_wei)
        self._epoch: tuple[float, int] | None = None
        #: Bytes of the column bundles the data route accepted since start (GET /health `stored.bytesReceived`).
        self.bytes_received = 0
        self._stop_pruner = threading.Event()
        self._pruner: threading.Thread | None = None
        self.challenge_contract = self._challenge_contract()
        self.challenge_follower: ChallengeFollower | None = None

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
            daemon_web3(self.settings.rpc_url),
            self.contracts.entrance_address,
            self.entrance_abi,
            self._store,
            start_block=self.start_block,
            confirmations=self.settings.confirmations,
            poll_interval=self.settings.poll_interval,
            resync=self.settings.resync,
        )
        self._follower.start()
        if self.challenge_contract is not None:
            responder = ChallengeResponder(self.challenge_contract, self.account, self._store)
            self.challenge_follower = ChallengeFollower(
                daemon_web3(self.settings.rpc_url), self.challenge_contract, self.account.address, self._store,
                confirmations=self.settings.confirmations, poll_interval=self.settings.poll_interval,
                resync=self.settings.resync, after_poll=responder.run_once,
            )  # fmt: skip
            self.challenge_follower.start()
        self.registrar.start()
        self._stop_pruner.clear()
        self._pruner = threading.Thread(target=self._prune_loop, name="da-signer-pruner", daemon=True)
        self._pruner.start()
        log.info(
            "DA signer %d: account %s, socket %s, DAEntrance %s (chain %d), store %s",
            self.settings.da_signer_index, self.account.address, self.socket, self.contracts.entrance_address,
            self.chain_id, signer_dir(self.settings),
        )  # fmt: skip

    def _challenge_contract(self) -> ChallengeContract | None:
        """DAChallenges if the deployment has it enabled (the chain has the EIP-2537 precompiles), else None."""
        try:
            contract = ChallengeContract(self.w3, self.deployment)
        except ComponentUnavailableError:
            log.info("no DAChallenges in this deployment: not answering sampling challenges")
            return None
        if not contract.enabled():
            log.info("DAChallenges is disabled on this chain (no EIP-2537 precompiles): no challenges to answer")
            return None
        return contract

    def stop_workers(self) -> None:
        if self.challenge_follower is not None:
            self.challenge_follower.stop()
            self.challenge_follower = None
        self.registrar.stop()
        self._stop_pruner.set()
        if self._pruner is not None:
            self._pruner.join(10)
            self._pruner = None

    def epoch_now(self, default: int | None = None) -> int:
        """The chain's current epoch, cached for a second (reads check retention on every request). `default` if
        the chain does not answer (reads keep being served), else the error propagates."""
        now = time.monotonic()
        if self._epoch is not None and now - self._epoch[0] < 1.0:
            return self._epoch[1]
        try:
            epoch = self.contracts.epoch()
        except Exception:  # transport errors of every kind
            if default is None:
                raise
            return self._epoch[1] if self._epoch is not None else default
        self._epoch = (now, epoch)
        return epoch

    def _prune_loop(self) -> None:
        """Retention: delete the cells of roots whose expiry epoch has come, every da_prune_interval seconds."""
        while not self._stop_pruner.wait(self.settings.da_prune_interval):
            try:
                self.store.prune(self.epoch_now())
            except Exception:  # the chain away, or a disk error: try again next round
                log.warning("pruning expired data failed; retrying", exc_info=True)

    def signer_set(self) -> SignerSetView:
        """The current epoch's signers, from the chain."""
        return self.contracts.current_signers()
