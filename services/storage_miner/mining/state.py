"""The miner's SQLite state (`<node dir>/mining/miner.db`): who it is, what it sealed, how far it searched each
epoch, the answers it found and sent, and the rewards and withdrawals the chain logged for it.

Everything the miner needs to resume after a restart is here: sealed segments are not sealed again, the nonce
search of the current epoch continues after the last nonce handed out, answers sent before a crash are looked up
by their transaction. Rewards and withdrawals are written by an EventFollower inside its own transaction and
rolled back with a reorg.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from web3.types import EventData

from services.common.store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS sealed (
    uid INTEGER NOT NULL,              -- the node store's submission uid
    seg_index INTEGER NOT NULL,        -- file-local segment index
    slot INTEGER NOT NULL UNIQUE,      -- 256 KiB slot in sealed.bin
    position INTEGER NOT NULL,         -- flow position of the segment's first sector
    sectors INTEGER NOT NULL,          -- sealed sectors (the segment's padded length)
    sealed_at REAL NOT NULL,
    PRIMARY KEY (uid, seg_index)
);

CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    digest TEXT NOT NULL,              -- context digest, 0x hex
    flow_length INTEGER NOT NULL,
    next_nonce INTEGER NOT NULL,       -- nonces below it were handed to the search
    tried INTEGER NOT NULL DEFAULT 0,  -- nonces searched
    hashed INTEGER NOT NULL DEFAULT 0, -- of those, recalls of data the miner holds (quality hashes computed)
    seconds REAL NOT NULL DEFAULT 0,   -- search time summed over the workers
    found INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch INTEGER NOT NULL,
    digest TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    recall_position INTEGER NOT NULL,
    quality TEXT NOT NULL,             -- 0x hex
    status TEXT NOT NULL,              -- found, sent, accepted, rejected, failed
    tx_hash TEXT,
    block_number INTEGER,
    gas_used INTEGER,
    reward TEXT,                       -- wei credited by this answer, decimal
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (epoch, nonce)
);
CREATE INDEX IF NOT EXISTS answers_by_status ON answers (status);

CREATE TABLE IF NOT EXISTS rewards (
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    pricing_index INTEGER NOT NULL,
    beneficiary TEXT NOT NULL,
    amount TEXT NOT NULL,              -- wei, decimal
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS rewards_by_block ON rewards (block_number);

CREATE TABLE IF NOT EXISTS withdrawals (
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,              -- wei, decimal
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS withdrawals_by_block ON withdrawals (block_number);
"""

#: Answer states: found by the search, sent in a transaction, and how that ended.
FOUND, SENT, ACCEPTED, REJECTED, FAILED = "found", "sent", "accepted", "rejected", "failed"


@dataclass(frozen=True)
class SealedSegment:
    uid: int
    seg_index: int
    slot: int
    position: int
    sectors: int


@dataclass(frozen=True)
class AnswerRow:
    id: int
    epoch: int
    digest: str
    nonce: int
    recall_position: int
    status: str
    tx_hash: str | None


class MinerState(SqliteStore):
    """The miner's progress, shared by its threads and its follower."""

    SCHEMA = _SCHEMA

    # ------------------------------------------------------------ identity

    def meta(self) -> dict[str, str]:
        with self.lock:
            return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}

    def reset_if_changed(self, identity: dict[str, str]) -> bool:
        """Forget everything (sealed data, search progress, answers, rewards) if the deployment or the miner id
        changed; True if it did. The caller deletes the sealed file."""
        with self.lock:
            meta = {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}
            changed = bool(meta) and any(meta.get(k) != v for k, v in identity.items())
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if changed:
                    for table in ("sealed", "epochs", "answers", "rewards", "withdrawals", "meta"):
                        self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
                    for table in ("follower_cursor", "follower_checkpoint"):
                        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
                self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(identity.items()))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return changed

    # ------------------------------------------------------------ sealed segments

    def sealed(self) -> dict[tuple[int, int], SealedSegment]:
        with self.lock:
            rows = self.conn.execute("SELECT uid, seg_index, slot, position, sectors FROM sealed").fetchall()
        return {(r["uid"], r["seg_index"]): SealedSegment(*tuple(r)) for r in rows}

    def free_slot(self) -> int:
        """The lowest slot no sealed segment uses."""
        with self.lock:
            slots = [r[0] for r in self.conn.execute("SELECT slot FROM sealed ORDER BY slot")]
        for expected, slot in enumerate(slots):
            if slot != expected:
                return expected
        return len(slots)

    def add_sealed(self, segment: SealedSegment) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO sealed (uid, seg_index, slot, position, sectors, sealed_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (segment.uid, segment.seg_index, segment.slot, segment.position, segment.sectors, time.time()),
            )

    def drop_sealed(self, keys: list[tuple[int, int]]) -> None:
        with self.lock:
            self.conn.executemany("DELETE FROM sealed WHERE uid = ? AND seg_index = ?", keys)

    # ------------------------------------------------------------ search progress

    def epoch_progress(self, epoch: int, digest: str, flow_length: int) -> int:
        """The next nonce to hand out in `epoch` (0 for a new epoch, or one whose context changed)."""
        with self.lock:
            row = self.conn.execute("SELECT digest, next_nonce FROM epochs WHERE epoch = ?", (epoch,)).fetchone()
            if row is not None and row["digest"] == digest:
                return int(row["next_nonce"])
            self.conn.execute(
                "INSERT OR REPLACE INTO epochs (epoch, digest, flow_length, next_nonce) VALUES (?, ?, ?, 0)",
                (epoch, digest, flow_length),
            )
        return 0

    def hand_out(self, epoch: int, next_nonce: int) -> None:
        with self.lock:
            self.conn.execute("UPDATE epochs SET next_nonce = ? WHERE epoch = ?", (next_nonce, epoch))

    def searched(self, epoch: int, tried: int, hashed: int, seconds: float, found: int) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE epochs SET tried = tried + ?, hashed = hashed + ?, seconds = seconds + ?, found = found + ? "
                "WHERE epoch = ?",
                (tried, hashed, seconds, found, epoch),
            )

    # ------------------------------------------------------------ answers

    def add_answer(self, epoch: int, digest: str, nonce: int, position: int, quality: int) -> int | None:
        """Record a found answer; None if this (epoch, nonce) is known already."""
        now = time.time()
        with self.lock:
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO answers (epoch, digest, nonce, recall_position, quality, status, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (epoch, digest, nonce, position, f"0x{quality:064x}", FOUND, now, now),
            )
            return cursor.lastrowid if cursor.rowcount else None

    def update_answer(self, answer_id: int, status: str, **fields: Any) -> None:
        columns = {"status": status, "updated_at": time.time(), **fields}
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self.lock:
            self.conn.execute(
                f"UPDATE answers SET {assignments} WHERE id = ?",  # noqa: S608 - column names are ours
                (*columns.values(), answer_id),
            )

    def answers_in(self, *statuses: str) -> list[AnswerRow]:
        marks = ",".join("?" for _ in statuses)
        with self.lock:
            rows = self.conn.execute(
                f"SELECT id, epoch, digest, nonce, recall_position, status, tx_hash FROM answers "  # noqa: S608
                f"WHERE status IN ({marks}) ORDER BY id",
                statuses,
            ).fetchall()
        return [AnswerRow(*tuple(r)) for r in rows]

    def recent_answers(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT epoch, nonce, recall_position, status, tx_hash, block_number, gas_used, reward, error "
                "FROM answers ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "epoch": r["epoch"],
                "nonce": r["nonce"],
                "recallPosition": r["recall_position"],
                "status": r["status"],
                "txHash": r["tx_hash"],
                "blockNumber": r["block_number"],
                "gasUsed": r["gas_used"],
                "rewardWei": int(r["reward"]) if r["reward"] is not None else None,
                "error": r["error"],
            }
            for r in rows
        ]

    # ------------------------------------------------------------ rewards (follower side)

    def add_reward(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        conn.execute(
            "INSERT OR IGNORE INTO rewards (tx_hash, log_index, block_number, pricing_index, beneficiary, amount) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                event["transactionHash"].to_0x_hex(),
                event["logIndex"],
                event["blockNumber"],
                int(args["pricingIndex"]),
                str(args["beneficiary"]),
                str(int(args["amount"])),
            ),
        )

    def add_withdrawal(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        conn.execute(
            "INSERT OR IGNORE INTO withdrawals (tx_hash, log_index, block_number, account, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                event["transactionHash"].to_0x_hex(),
                event["logIndex"],
                event["blockNumber"],
                str(args["account"]),
                str(int(args["amount"])),
            ),
        )

    def rollback(self, conn: sqlite3.Connection, from_block: int) -> None:
        conn.execute("DELETE FROM rewards WHERE block_number >= ?", (from_block,))
        conn.execute("DELETE FROM withdrawals WHERE block_number >= ?", (from_block,))

    # ------------------------------------------------------------ totals

    def totals(self) -> dict[str, Any]:
        with self.lock:
            counts = dict(self.conn.execute("SELECT status, COUNT(*) FROM answers GROUP BY status").fetchall())
            tried, hashed, seconds = self.conn.execute(
                "SELECT COALESCE(SUM(tried), 0), COALESCE(SUM(hashed), 0), COALESCE(SUM(seconds), 0) FROM epochs"
            ).fetchone()
            rewards = [int(r[0]) for r in self.conn.execute("SELECT amount FROM rewards")]
            withdrawn = [int(r[0]) for r in self.conn.execute("SELECT amount FROM withdrawals")]
            (sealed,) = self.conn.execute("SELECT COUNT(*) FROM sealed").fetchone()
        return {
            "answers": {status: counts.get(status, 0) for status in (FOUND, SENT, ACCEPTED, REJECTED, FAILED)},
            "tried": int(tried),
            "hashed": int(hashed),
            "searchSeconds": float(seconds),
            "rewardsWei": sum(rewards),
            "rewardCount": len(rewards),
            "withdrawnWei": sum(withdrawn),
            "sealedSegments": int(sealed),
        }
