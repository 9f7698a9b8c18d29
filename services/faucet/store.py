"""The faucet's SQLite store: successful claims (for the per-address and per-IP limits) and confirmed drips.

Claims are written by the API right after a drip transaction succeeded, so a failed drip never uses up
anyone's allowance. Drips are written by the event follower from `Dripped` logs, in the follower's own
transaction, and deleted again from the first reorged block on.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

from web3.types import EventData

from services.common.store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,          -- checksummed recipient
    ip TEXT NOT NULL,               -- client address the claim came from
    amount TEXT NOT NULL,           -- wei, decimal
    tx_hash TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    claimed_at REAL NOT NULL        -- unix seconds (service clock)
);
CREATE INDEX IF NOT EXISTS claims_by_address ON claims (address, claimed_at);
CREATE INDEX IF NOT EXISTS claims_by_ip ON claims (ip, claimed_at);

CREATE TABLE IF NOT EXISTS drips (
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    recipient TEXT NOT NULL,
    amount TEXT NOT NULL,           -- wei, decimal
    next_drip_at INTEGER NOT NULL,  -- unix seconds (chain clock)
    timestamp INTEGER,              -- block time
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS drips_by_block ON drips (block_number);
"""


@dataclass(frozen=True)
class Drip:
    recipient: str
    amount: int
    tx_hash: str
    block_number: int
    timestamp: int | None


class FaucetStore(SqliteStore):
    """Claims (service limits) and the drips the follower saw, shared by the API threads and the follower."""

    SCHEMA = _SCHEMA

    # ------------------------------------------------------------ service limits

    def address_retry_after(self, address: str, now: float, window: int) -> int | None:
        """Seconds until `address` may claim again, or None if it may claim now."""
        with self.lock:
            (last,) = self.conn.execute("SELECT MAX(claimed_at) FROM claims WHERE address = ?", (address,)).fetchone()
        if last is None or last + window <= now:
            return None
        return max(1, math.ceil(last + window - now))

    def ip_retry_after(self, ip: str, now: float, window: int, limit: int) -> int | None:
        """Seconds until `ip` is under `limit` claims per `window` again, or None if it is under it now."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT claimed_at FROM claims WHERE ip = ? AND claimed_at > ? ORDER BY claimed_at",
                (ip, now - window),
            ).fetchall()
        if len(rows) < limit:
            return None
        # The claim whose expiry brings the count back under the limit.
        freeing = rows[len(rows) - limit][0]
        return max(1, math.ceil(freeing + window - now))

    def record_claim(
        self, address: str, ip: str, amount: int, tx_hash: str, block_number: int, claimed_at: float
    ) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO claims (address, ip, amount, tx_hash, block_number, claimed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (address, ip, str(amount), tx_hash, block_number, claimed_at),
            )

    # ------------------------------------------------------------ drips (follower)

    @staticmethod
    def add_drip(conn: sqlite3.Connection, event: EventData, timestamp: int | None) -> None:
        """Follower handler body: runs inside the follower's transaction, on its connection."""
        conn.execute(
            "INSERT OR IGNORE INTO drips "
            "(tx_hash, log_index, block_number, block_hash, recipient, amount, next_drip_at, timestamp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event["transactionHash"].to_0x_hex(),
                event["logIndex"],
                event["blockNumber"],
                event["blockHash"].to_0x_hex(),
                event["args"]["recipient"],
                str(event["args"]["amount"]),
                event["args"]["nextDripAt"],
                timestamp,
            ),
        )

    @staticmethod
    def rollback_drips(conn: sqlite3.Connection, from_block: int) -> None:
        """Follower rollback: forget drips of reorged blocks (they are re-read if they come back)."""
        conn.execute("DELETE FROM drips WHERE block_number >= ?", (from_block,))

    def recent_drips(self, limit: int = 10) -> list[Drip]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT recipient, amount, tx_hash, block_number, timestamp FROM drips "
                "ORDER BY block_number DESC, log_index DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Drip(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows]
