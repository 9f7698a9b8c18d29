"""The provider's SQLite store: the latest voucher of every user (the money owed to us), receipts, settlements,
and the vouchers the contract skipped for good.

A voucher is committed before the model runs for its request, so whatever happens afterwards (a crash
mid-stream, a kill -9) the provider can still settle it after a restart. Wei amounts are decimal TEXT: they
exceed SQLite's 64-bit integers.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from services.common.store import SqliteStore
from zerog.compute.protocol import Receipt, Voucher
from zerog.follower import open_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user TEXT PRIMARY KEY,                 -- checksummed address
    owed TEXT NOT NULL DEFAULT '0',        -- wei the user owes in total (its vouchers and our receipts)
    voucher_nonce INTEGER NOT NULL DEFAULT 0,
    voucher_amount TEXT NOT NULL DEFAULT '0',
    voucher_request_hash TEXT,
    voucher_ack TEXT,
    voucher_signature TEXT,
    inflight_nonce INTEGER,                -- nonce of the request running now, NULL if none
    settled_nonce INTEGER NOT NULL DEFAULT 0,
    settled_amount TEXT NOT NULL DEFAULT '0',
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
    user TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    request_hash TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    fee TEXT NOT NULL,
    cumulative TEXT NOT NULL,
    signature TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user, nonce)
);
-- Vouchers the contract skipped for good (VoucherSkipped): never sent again; the user's next voucher is.
CREATE TABLE IF NOT EXISTS skipped_vouchers (
    user TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    reason TEXT NOT NULL,                  -- SkipReason name
    tx_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user, nonce)
);
CREATE TABLE IF NOT EXISTS settlements (
    tx_hash TEXT PRIMARY KEY,
    block_number INTEGER NOT NULL,
    vouchers INTEGER NOT NULL,
    paid TEXT NOT NULL,
    gas_used INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""

#: An account whose latest voucher is still to settle: newer than the settled one and not skipped for good.
_UNSETTLED = (
    "voucher_signature IS NOT NULL AND voucher_nonce > settled_nonce AND NOT EXISTS (SELECT 1 FROM "
    "skipped_vouchers s WHERE s.user = accounts.user AND s.nonce = accounts.voucher_nonce)"
)


@dataclass(frozen=True)
class AccountRow:
    user: str
    owed: int
    voucher: Voucher | None
    signature: str | None
    inflight_nonce: int | None
    settled_nonce: int
    settled_amount: int

    @property
    def voucher_nonce(self) -> int:
        return self.voucher.nonce if self.voucher else 0


@dataclass(frozen=True)
class StoredReceipt:
    receipt: Receipt
    signature: str


class ProviderStore(SqliteStore):
    """One SQLite connection shared by the API threads and the settler; `lock` serializes its use."""

    SCHEMA = _SCHEMA

    def __init__(self, conn: sqlite3.Connection, provider: str) -> None:
        super().__init__(conn)
        self.provider = provider

    @classmethod
    def open(cls, path: Path, provider: str) -> ProviderStore:  # type: ignore[override]
        return cls(open_store(path), provider)

    def _row(self, row: sqlite3.Row | None, user: str) -> AccountRow:
        if row is None:
            return AccountRow(user, 0, None, None, None, 0, 0)
        voucher = None
        if row["voucher_signature"]:
            voucher = Voucher(
                row["user"],
                self.provider,
                int(row["voucher_amount"]),
                row["voucher_nonce"],
                row["voucher_request_hash"],
                row["voucher_ack"],
            )
        return AccountRow(
            row["user"],
            int(row["owed"]),
            voucher,
            row["voucher_signature"],
            row["inflight_nonce"],
            row["settled_nonce"],
            int(row["settled_amount"]),
        )

    def account(self, user: str) -> AccountRow:
        with self.lock:
            row = self.conn.execute("SELECT * FROM accounts WHERE user = ?", (user,)).fetchone()
        return self._row(row, user)

    def clear_inflight(self) -> int:
        """At start: requests that were running when we stopped will never finish (nothing was charged)."""
        with self.lock:
            return self.conn.execute(
                "UPDATE accounts SET inflight_nonce = NULL WHERE inflight_nonce IS NOT NULL"
            ).rowcount

    def admit(self, voucher: Voucher, signature: str, owed: int) -> None:
        """Records `voucher` as the user's latest (what we will settle) and its request as running."""
        with self.lock:
            self.conn.execute(
                "INSERT INTO accounts (user, owed, voucher_nonce, voucher_amount, voucher_request_hash, voucher_ack, "
                "voucher_signature, inflight_nonce, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(user) DO UPDATE SET owed = excluded.owed, voucher_nonce = excluded.voucher_nonce, "
                "voucher_amount = excluded.voucher_amount, voucher_request_hash = excluded.voucher_request_hash, "
                "voucher_ack = excluded.voucher_ack, voucher_signature = excluded.voucher_signature, "
                "inflight_nonce = excluded.inflight_nonce, updated_at = excluded.updated_at",
                (
                    voucher.user,
                    str(owed),
                    voucher.nonce,
                    str(voucher.amount),
                    voucher.request_hash,
                    voucher.ack,
                    signature,
                    voucher.nonce,
                    time.time(),
                ),
            )

    def complete(self, receipt: Receipt, signature: str) -> None:
        """The request of `receipt` finished: the user owes its cumulative; nothing runs for it any more."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO receipts (user, nonce, request_hash, input_tokens, output_tokens, fee, "
                "cumulative, signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    receipt.user,
                    receipt.nonce,
                    receipt.request_hash,
                    receipt.input_tokens,
                    receipt.output_tokens,
                    str(receipt.fee),
                    str(receipt.cumulative),
                    signature,
                    time.time(),
                ),
            )
            self.conn.execute(
                "UPDATE accounts SET owed = ?, inflight_nonce = NULL, updated_at = ? WHERE user = ?",
                (str(receipt.cumulative), time.time(), receipt.user),
            )

    def release(self, user: str, nonce: int) -> None:
        """The request `nonce` failed before producing anything: nothing charged, the user may send again."""
        with self.lock:
            self.conn.execute(
                "UPDATE accounts SET inflight_nonce = NULL WHERE user = ? AND inflight_nonce = ?", (user, nonce)
            )

    def receipts_since(self, user: str, nonce: int) -> list[StoredReceipt]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT * FROM receipts WHERE user = ? AND nonce >= ? ORDER BY nonce", (user, nonce)
            ).fetchall()
        return [
            StoredReceipt(
                Receipt(
                    r["user"],
                    self.provider,
                    r["request_hash"],
                    r["nonce"],
                    r["input_tokens"],
                    r["output_tokens"],
                    int(r["fee"]),
                    int(r["cumulative"]),
                ),
                r["signature"],
            )
            for r in rows
        ]

    # ------------------------------------------------------------ settlement

    def unsettled(self, limit: int) -> list[AccountRow]:
        """Users whose latest voucher is newer than what we settled and was not skipped, oldest first."""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT * FROM accounts WHERE {_UNSETTLED} ORDER BY updated_at LIMIT ?", (limit,)
            ).fetchall()
        return [self._row(r, r["user"]) for r in rows]

    def unsettled_count(self) -> int:
        with self.lock:
            (count,) = self.conn.execute(f"SELECT COUNT(*) FROM accounts WHERE {_UNSETTLED}").fetchone()
        return int(count)

    def mark_settled(self, settled: list[tuple[str, int, int]]) -> None:
        """(user, nonce, amount) are settled on chain (by us now, or found so on chain)."""
        with self.lock:
            self.conn.executemany(
                "UPDATE accounts SET settled_nonce = MAX(settled_nonce, ?), settled_amount = ? WHERE user = ?",
                [(nonce, str(amount), user) for user, nonce, amount in settled],
            )

    def mark_skipped(self, skipped: list[tuple[str, int, str]], tx_hash: str) -> None:
        """(user, nonce, reason): vouchers the contract skipped and will never settle."""
        with self.lock:
            self.conn.executemany(
                "INSERT OR REPLACE INTO skipped_vouchers (user, nonce, reason, tx_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(user, nonce, reason, tx_hash, time.time()) for user, nonce, reason in skipped],
            )

    def record_settlement(self, tx_hash: str, block_number: int, vouchers: int, paid: int, gas_used: int) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO settlements (tx_hash, block_number, vouchers, paid, gas_used, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (tx_hash, block_number, vouchers, str(paid), gas_used, time.time()),
            )

    def settlements(self) -> list[dict[str, object]]:
        with self.lock:
            rows = self.conn.execute("SELECT * FROM settlements ORDER BY block_number").fetchall()
        return [dict(r) for r in rows]
