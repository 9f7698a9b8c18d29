"""Settlement: the latest voucher of every user goes on chain every `compute_settle_interval` seconds, up to
`compute_settle_batch` vouchers per transaction, and once more when the daemon stops.

Before sending, each voucher is checked against the chain's sub-account, so no gas is spent on one that cannot
settle: one already settled (a crash after the transaction, before our store noted it) is only marked settled;
one the sub-account cannot cover any more is held back and logged. The contract skips (VoucherSkipped) rather
than reverts on a voucher that still fails, so one bad voucher never holds back the others: its reason is read
from the receipt. Short of funds, it is held back as above (a top-up heals it); any other reason (a bad
signature, a nonce the chain is past) can never settle, so it is marked skipped and not sent again; the user's
next voucher replaces it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from web3.logs import DISCARD

from services.compute_provider.store import AccountRow, ProviderStore
from zerog.compute.client import Compute
from zerog.compute.protocol import Voucher
from zerog.compute.records import SkipReason
from zerog.errors import ZeroGError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettleResult:
    vouchers: int = 0
    paid: int = 0
    transactions: int = 0
    gas_used: int = 0
    held_back: int = 0
    skipped: int = 0


class Settler:
    def __init__(self, compute: Compute, store: ProviderStore, batch: int, interval: float) -> None:
        self.compute = compute
        self.store = store
        self.batch = batch
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def settle_once(self) -> SettleResult:
        """Settles every unsettled voucher now (several transactions if needed)."""
        total = SettleResult()
        with self._lock:
            held: set[str] = set()
            while True:
                rows = [r for r in self.store.unsettled(self.batch + len(held)) if r.user not in held]
                if not rows:
                    return total
                result, newly_held = self._settle_rows(rows[: self.batch])
                held |= newly_held
                total = SettleResult(
                    total.vouchers + result.vouchers,
                    total.paid + result.paid,
                    total.transactions + result.transactions,
                    total.gas_used + result.gas_used,
                    len(held),
                    total.skipped + result.skipped,
                )

    def _settle_rows(self, rows: list[AccountRow]) -> tuple[SettleResult, set[str]]:
        users = [r.user for r in rows]
        accounts = self.compute.serving.functions.getSubAccounts(self.compute.address, users).call()
        ready: list[tuple[Voucher, str]] = []
        already: list[tuple[str, int, int]] = []
        held: set[str] = set()
        for row, raw in zip(rows, accounts, strict=True):
            voucher, signature = row.voucher, row.signature
            assert voucher is not None and signature is not None
            balance, settled, nonce = int(raw[0]), int(raw[1]), int(raw[2])
            if voucher.nonce <= nonce:
                already.append((row.user, nonce, settled))
            elif voucher.amount <= settled:
                # Nothing more to take; spending gas on it would only bump the nonce.
                already.append((row.user, voucher.nonce, settled))
            elif voucher.amount - settled > balance:
                log.error(
                    "voucher %d of %s asks %d wei, the sub-account holds %d: held back",
                    voucher.nonce,
                    row.user,
                    voucher.amount - settled,
                    balance,
                )
                held.add(row.user)
            else:
                ready.append((voucher, signature))
        if already:
            self.store.mark_settled(already)
        if not ready:
            return SettleResult(), held
        receipt = self.compute.settle(ready)
        tx_hash = receipt["transactionHash"].to_0x_hex()
        events = self.compute.serving.events
        paid = sum(int(e["args"]["paid"]) for e in events.VoucherSettled().process_receipt(receipt, errors=DISCARD))
        skipped = {
            (e["args"]["user"], int(e["args"]["nonce"])): SkipReason(e["args"]["reason"])
            for e in events.VoucherSkipped().process_receipt(receipt, errors=DISCARD)
        }
        for (user, nonce), reason in skipped.items():
            log.error("voucher %d of %s was skipped on chain (%s) in %s", nonce, user, reason.name, tx_hash)
        held |= {user for (user, _), reason in skipped.items() if reason is SkipReason.INSUFFICIENT_BALANCE}
        lost = [
            (user, nonce, r.name) for (user, nonce), r in skipped.items() if r is not SkipReason.INSUFFICIENT_BALANCE
        ]
        settled = [(v.user, v.nonce, v.amount) for v, _ in ready if (v.user, v.nonce) not in skipped]
        self.store.mark_settled(settled)
        self.store.mark_skipped(lost, tx_hash)
        self.store.record_settlement(tx_hash, receipt["blockNumber"], len(settled), paid, receipt["gasUsed"])
        log.info("settled %d vouchers for %d wei in %s (gas %d)", len(settled), paid, tx_hash, receipt["gasUsed"])
        return SettleResult(len(settled), paid, 1, int(receipt["gasUsed"]), skipped=len(lost)), held

    # ------------------------------------------------------------ background loop

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="settler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._settle_logged()

    def _settle_logged(self) -> SettleResult | None:
        try:
            result = self.settle_once()
        except (ZeroGError, OSError, ValueError) as exc:
            self.last_error = str(exc)
            log.warning("settlement failed, retrying next round: %s", exc)
            return None
        except Exception as exc:  # never let the loop die: unsettled vouchers stay in the store
            self.last_error = str(exc)
            log.exception("settlement failed, retrying next round")
            return None
        self.last_error = None
        return result

    def stop(self, final: bool = True) -> SettleResult | None:
        """Stops the loop; with `final`, settles what is left first (what a clean shutdown does)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self._settle_logged() if final else None
