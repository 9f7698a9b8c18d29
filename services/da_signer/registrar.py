"""Registration on start, idempotent: register if unknown, fix the socket if it moved, refuse a record that holds
another BLS key. Retried in the background while the chain is unreachable or the transaction fails."""

from __future__ import annotations

import logging
import threading

from eth_account.signers.local import LocalAccount

from zerog.da.bls import KeyPair
from zerog.da.contracts import DAContracts, SignerRecord
from zerog.errors import ZeroGError

log = logging.getLogger(__name__)

#: Retries start quickly (a chain that is still starting) and back off to once a minute (a lasting failure,
#: e.g. an account without the stake, should not flood the log).
RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0
JOIN_TIMEOUT_SECONDS = 10


class Registrar:
    def __init__(self, contracts: DAContracts, account: LocalAccount, keys: KeyPair, socket: str, stake: int) -> None:
        self.contracts = contracts
        self.account = account
        self.keys = keys
        self.socket = socket
        self.stake = stake
        self.record: SignerRecord | None = None
        self.error: str | None = None
        self.fatal = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def registered(self) -> bool:
        return self.record is not None and self.record.registered

    def ensure(self) -> bool:
        """One attempt; True once the chain holds our registration with our key and socket."""
        try:
            record = self.contracts.signer_of(self.account.address)
            if record.registered and record.pk1 != self.keys.pk1:
                self.fatal = True
                raise ZeroGError(
                    f"account {self.account.address} is registered with another BLS key: this signer cannot sign "
                    "for it (was the key derivation or the account changed?)"
                )
            if not record.registered:
                log.info("registering signer %s at %s with stake %d wei", self.account.address, self.socket, self.stake)
                self.contracts.register(self.account, self.keys, self.socket, self.stake)
                record = self.contracts.signer_of(self.account.address)
            elif record.socket != self.socket:
                log.info("signer %s moved: socket %s -> %s", self.account.address, record.socket, self.socket)
                self.contracts.update_socket(self.account, self.socket)
                record = self.contracts.signer_of(self.account.address)
            if record.leaving:
                log.warning("signer %s is leaving: a member through epoch %d at most", self.account.address,
                            record.withdrawable_epoch - 1)  # fmt: skip
        except ZeroGError as exc:
            self.error = exc.message
            log.error("registration of %s failed: %s", self.account.address, exc.message)
            return False
        except Exception as exc:  # transport errors of every kind: the chain is unreachable
            self.error = f"chain unreachable: {type(exc).__name__}"
            log.warning("registration of %s: chain unreachable (%s), retrying", self.account.address, exc)
            return False
        self.record = record
        self.error = None
        log.info("signer %s registered in slot %d, member from epoch %d", self.account.address, record.slot,
                 record.active_from_epoch)  # fmt: skip
        return True

    def refresh(self) -> None:
        """Re-read the record (stake, leaving) for /health and /v1/signer."""
        try:
            self.record = self.contracts.signer_of(self.account.address)
        except Exception:  # keep the last known record while the chain is away
            log.debug("cannot refresh the signer record", exc_info=True)

    def start(self) -> None:
        """Try now; if that fails, keep trying in the background (unless the failure cannot heal)."""
        if self.ensure() or self.fatal:
            return
        self._thread = threading.Thread(target=self._run, name="da-signer-registrar", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = RETRY_SECONDS
        while not self._stop.wait(delay):
            if self.ensure() or self.fatal:
                return
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
            self._thread = None
