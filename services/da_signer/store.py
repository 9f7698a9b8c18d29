"""The signer's store: DataUpload events, blob metadata, the column index and attestations in SQLite; the cells
in files.

One file per stored column of a data root, `cells/<root>/<column>.col`: for each blob of the payload, the cell
(2048 bytes) then its proof (48 bytes), exactly as it arrived on the wire. A file is written to a temp name,
fsynced and renamed into place (and its directory fsynced) before its index row is committed, so a crash at
any point (kill -9 included) leaves either no row or a complete file; at startup, temp files, unindexed files
and rows whose file is missing or has the wrong size are dropped. Uploads are written by the event follower
inside its transaction and removed again on a reorg; stored cells stay (a reorged upload usually comes back,
and the cells are still valid for their root).
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from services.common.store import TMP_SUFFIX, SqliteStore, atomic_write, fsync_dir
from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF
from zerog.da.kzg import BYTES_PER_COMMITMENT
from zerog.errors import ConfigError
from zerog.follower import open_store

log = logging.getLogger(__name__)

COLUMN_SUFFIX = ".col"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS uploads (
    data_root TEXT PRIMARY KEY,            -- 0x + 64 lowercase hex
    sender TEXT NOT NULL,
    epoch INTEGER NOT NULL,                -- epoch of the upload
    blob_fee TEXT NOT NULL,                -- wei, as decimal text
    quorum_id INTEGER NOT NULL DEFAULT 0,  -- quorum given at upload
    length INTEGER NOT NULL DEFAULT 0,     -- payload bytes paid for
    expiry_epoch INTEGER NOT NULL DEFAULT 0, -- first epoch it is no longer kept
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_block ON uploads (block_number);

CREATE TABLE IF NOT EXISTS payloads (
    data_root TEXT PRIMARY KEY,
    length INTEGER NOT NULL,               -- payload bytes
    blobs INTEGER NOT NULL,
    commitments BLOB NOT NULL,             -- blobs x 48 bytes
    stored_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS columns (
    data_root TEXT NOT NULL,
    col INTEGER NOT NULL,
    size INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    PRIMARY KEY (data_root, col)
);

CREATE TABLE IF NOT EXISTS challenges (
    id INTEGER PRIMARY KEY,                -- DAChallenges id of a challenge of this signer
    data_root TEXT NOT NULL,
    blob_index INTEGER NOT NULL,
    col INTEGER NOT NULL,
    deadline INTEGER NOT NULL,             -- last block an answer counts in
    block_number INTEGER NOT NULL,         -- of the ChallengeCreated log (reorgs)
    state TEXT NOT NULL,                   -- open | sent | answered | claimed | missing
    tx_hash TEXT,                          -- the latest respond transaction sent
    updated_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS attestations (
    data_root TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    signature TEXT NOT NULL,               -- JSON [x, y]
    columns TEXT NOT NULL,                 -- JSON list of the columns held when signing
    signed_at REAL NOT NULL,
    PRIMARY KEY (data_root, epoch)
);
"""


#: Columns added to `uploads` after the first release: (name, declaration) for stores created before.
_UPLOAD_COLUMNS = (
    ("quorum_id", "INTEGER NOT NULL DEFAULT 0"),
    ("length", "INTEGER NOT NULL DEFAULT 0"),
    ("expiry_epoch", "INTEGER NOT NULL DEFAULT 0"),
)


@dataclass(frozen=True)
class Upload:
    data_root: str
    sender: str
    epoch: int
    blob_fee: int
    block_number: int
    tx_hash: str
    quorum_id: int = 0
    length: int = 0
    #: First epoch the signer no longer keeps (nor serves) the root's cells.
    expiry_epoch: int = 0


@dataclass(frozen=True)
class ChallengeRow:
    """A challenge of this signer, as the responder tracks it (states: open, sent, answered, claimed, missing)."""

    id: int
    data_root: str
    blob_index: int
    column: int
    deadline: int
    state: str
    tx_hash: str | None


#: States of a challenge the responder still watches (a missing cell may come back, and a claim closes it).
CHALLENGE_PENDING = ("open", "sent", "missing")


@dataclass(frozen=True)
class Payload:
    """What the signer knows of a data root's payload: its length and blob commitments, and stored columns."""

    data_root: str
    length: int
    commitments: list[bytes]
    columns: list[int]


def root_hex(data_root: bytes) -> str:
    return "0x" + data_root.hex()


class SignerStore(SqliteStore):
    """SQLite + column files under one directory; thread-safe (one lock around the connection)."""

    SCHEMA = _SCHEMA

    def __init__(self, directory: Path) -> None:
        super().__init__(open_store(directory / "signer.db"))
        self.directory = directory
        self.cells_dir = directory / "cells"

    @classmethod
    def open(cls, directory: Path, *, account: str, deployment_id: str) -> SignerStore:  # type: ignore[override]
        """Open (and recover) the store of signer `account` for the DA deployment `deployment_id`. A data dir of
        another account is refused; one of another deployment (a fresh chain) is emptied."""
        store = cls(directory)
        try:
            store._migrate()
            store._check_identity(account, deployment_id)
            store._recover()
        except BaseException:
            store.close()
            raise
        return store

    def _migrate(self) -> None:
        """Add the upload columns a store of an older release lacks (its rows belong to old contracts anyway)."""
        with self.lock:
            have = {r[1] for r in self.conn.execute("PRAGMA table_info(uploads)")}
            for name, declaration in _UPLOAD_COLUMNS:
                if name not in have:
                    self.conn.execute(f"ALTER TABLE uploads ADD COLUMN {name} {declaration}")

    def _meta(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM meta")}

    def _check_identity(self, account: str, deployment_id: str) -> None:
        with self.lock:
            meta = self._meta()
            if meta.get("account", account) != account:
                raise ConfigError(
                    f"{self.directory} holds the data of DA signer {meta['account']}, not {account}: "
                    "use another data dir or signer index"
                )
            if meta.get("deployment", deployment_id) != deployment_id:
                log.warning(
                    "the DA contracts changed (now %s, was %s): forgetting the uploads and cells of the old ones",
                    deployment_id, meta["deployment"],
                )  # fmt: skip
                self.conn.execute("BEGIN IMMEDIATE")
                for table in (
                    "uploads",
                    "payloads",
                    "columns",
                    "attestations",
                    "follower_cursor",
                    "follower_checkpoint",
                ):
                    if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                        self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
                self.conn.execute("COMMIT")
                shutil.rmtree(self.cells_dir, ignore_errors=True)
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("account", account), ("deployment", deployment_id)],
            )

    def _recover(self) -> None:
        """After a crash: drop temp files, files without an index row, and rows whose file is missing or short."""
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.cells_dir.glob(f"*/*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
        with self.lock:
            rows = self.conn.execute(
                "SELECT c.data_root, c.col, c.size, p.blobs FROM columns c LEFT JOIN payloads p USING (data_root)"
            ).fetchall()
            indexed = set()
            broken = []
            for row in rows:
                path = self.column_path(row["data_root"], row["col"])
                expected = (row["blobs"] or 0) * BYTES_PER_CELL_WITH_PROOF
                try:
                    ok = row["size"] == expected and path.stat().st_size == expected
                except FileNotFoundError:
                    ok = False
                if ok:
                    indexed.add(path)
                else:
                    broken.append((row["data_root"], row["col"]))
            if broken:
                log.warning("%d stored columns are missing or damaged on disk: dropped from the index", len(broken))
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany("DELETE FROM columns WHERE data_root = ? AND col = ?", broken)
                self.conn.execute("COMMIT")
        for path in self.cells_dir.glob(f"*/*{COLUMN_SUFFIX}"):
            if path not in indexed:
                path.unlink(missing_ok=True)

    # ------------------------------------------------------------ follower side (inside its transaction)

    def add_upload(self, conn: sqlite3.Connection, upload: Upload, block_hash: str, log_index: int) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO uploads (data_root, sender, epoch, blob_fee, quorum_id, length, expiry_epoch, "
            "block_number, block_hash, tx_hash, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.data_root, upload.sender, upload.epoch, str(upload.blob_fee), upload.quorum_id, upload.length,
                upload.expiry_epoch, upload.block_number, block_hash, upload.tx_hash, log_index,
            ),
        )  # fmt: skip

    def rollback(self, conn: sqlite3.Connection, from_block: int) -> None:
        count = conn.execute("DELETE FROM uploads WHERE block_number >= ?", (from_block,)).rowcount
        if count:
            log.warning("reorg: forgetting %d uploads from block %d on (their cells stay)", count, from_block)

    def add_challenge(
        self, conn: sqlite3.Connection, challenge_id: int, data_root: str, blob_index: int, column: int,
        deadline: int, block_number: int,
    ) -> None:  # fmt: skip
        """A challenge of this signer seen on chain (kept as it is if seen before: a resync must not reopen it)."""
        conn.execute(
            "INSERT OR IGNORE INTO challenges (id, data_root, blob_index, col, deadline, block_number, state, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
            (challenge_id, data_root, blob_index, column, deadline, block_number, time.time()),
        )

    def rollback_challenges(self, conn: sqlite3.Connection, from_block: int) -> None:
        conn.execute("DELETE FROM challenges WHERE block_number >= ? AND state = 'open'", (from_block,))

    def challenges(self, states: tuple[str, ...] | None = None) -> list[ChallengeRow]:
        query = "SELECT id, data_root, blob_index, col, deadline, state, tx_hash FROM challenges"
        with self.lock:
            if states is None:
                rows = self.conn.execute(f"{query} ORDER BY id").fetchall()
            else:
                marks = ", ".join("?" * len(states))
                rows = self.conn.execute(f"{query} WHERE state IN ({marks}) ORDER BY id", states).fetchall()  # noqa: S608
        return [ChallengeRow(*tuple(r)) for r in rows]

    def set_challenge_state(self, challenge_id: int, state: str, tx_hash: str | None = None) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE challenges SET state = ?, tx_hash = COALESCE(?, tx_hash), updated_at = ? WHERE id = ?",
                (state, tx_hash, time.time(), challenge_id),
            )

    # ------------------------------------------------------------ queries

    def upload(self, data_root: bytes) -> Upload | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM uploads WHERE data_root = ?", (root_hex(data_root),)).fetchone()
        if row is None:
            return None
        return Upload(
            row["data_root"], row["sender"], row["epoch"], int(row["blob_fee"]), row["block_number"], row["tx_hash"],
            row["quorum_id"], row["length"], row["expiry_epoch"],
        )  # fmt: skip

    def payload(self, data_root: bytes) -> Payload | None:
        key = root_hex(data_root)
        with self.lock:
            row = self.conn.execute("SELECT length, commitments FROM payloads WHERE data_root = ?", (key,)).fetchone()
            cols = [r[0] for r in self.conn.execute("SELECT col FROM columns WHERE data_root = ? ORDER BY col", (key,))]
        if row is None:
            return None
        raw = bytes(row["commitments"])
        commitments = [raw[i : i + BYTES_PER_COMMITMENT] for i in range(0, len(raw), BYTES_PER_COMMITMENT)]
        return Payload(key, row["length"], commitments, cols)

    def counts(self) -> dict[str, int]:
        """Rows of uploads, payloads (roots with cells stored) and columns, and the cells those columns hold."""
        with self.lock:
            return {
                "uploads": self.conn.execute("SELECT COUNT(*) FROM uploads").fetchone()[0],
                "payloads": self.conn.execute("SELECT COUNT(*) FROM payloads").fetchone()[0],
                "columns": self.conn.execute("SELECT COUNT(*) FROM columns").fetchone()[0],
                # A column file is one cell and its proof per blob.
                "cells": self.conn.execute("SELECT COALESCE(SUM(size), 0) FROM columns").fetchone()[0]
                // BYTES_PER_CELL_WITH_PROOF,
            }

    # ------------------------------------------------------------ columns

    def column_path(self, data_root: str, column: int) -> Path:
        return self.cells_dir / data_root.removeprefix("0x") / f"{column}{COLUMN_SUFFIX}"

    def write_columns(self, data_root: bytes, length: int, commitments: list[bytes], columns: dict[int, bytes]) -> None:
        """Store verified columns durably, then index them (one transaction)."""
        key = root_hex(data_root)
        directory = self.cells_dir / key.removeprefix("0x")
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.cells_dir)
        for column, data in columns.items():
            atomic_write(self.column_path(key, column), data, sync_dir=False)
        fsync_dir(directory)  # once for the whole bundle
        now = time.time()
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO payloads (data_root, length, blobs, commitments, stored_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, length, len(commitments), b"".join(commitments), now),
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO columns (data_root, col, size, stored_at) VALUES (?, ?, ?, ?)",
                [(key, c, len(d), now) for c, d in columns.items()],
            )

    def read_columns(self, data_root: bytes, columns: list[int]) -> dict[int, bytes]:
        """The stored data of `columns` (each checked against its indexed size); missing ones are left out."""
        key = root_hex(data_root)
        with self.lock:
            rows = {
                r["col"]: r["size"]
                for r in self.conn.execute("SELECT col, size FROM columns WHERE data_root = ?", (key,))
            }
        out = {}
        for column in columns:
            if column not in rows:
                continue
            try:
                data = self.column_path(key, column).read_bytes()
            except FileNotFoundError:
                continue
            if len(data) != rows[column]:
                log.error("column %d of %s is damaged on disk: not serving it", column, key)
                continue
            out[column] = data
        return out

    def prune(self, epoch: int) -> int:
        """Delete the cells, payload and attestations of every root whose retention ended by `epoch` (expiry epoch
        <= `epoch`); the upload row stays, so reads of it can say it expired. Index rows go first, so a crash
        leaves only unindexed files, which the next start removes. Returns the roots pruned."""
        with self.transaction():
            roots = [
                r[0]
                for r in self.conn.execute(
                    "SELECT p.data_root FROM payloads p JOIN uploads u USING (data_root) WHERE u.expiry_epoch <= ?",
                    (epoch,),
                )
            ]
            for table in ("columns", "payloads", "attestations"):
                self.conn.executemany(
                    f"DELETE FROM {table} WHERE data_root = ?",  # noqa: S608 - fixed table names
                    [(r,) for r in roots],
                )
        for root in roots:
            shutil.rmtree(self.cells_dir / root.removeprefix("0x"), ignore_errors=True)
        if roots:
            log.info("retention: deleted the cells of %d expired data roots (epoch %d)", len(roots), epoch)
        return len(roots)

    def record_attestation(self, data_root: bytes, epoch: int, signature: str, columns: list[int]) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO attestations (data_root, epoch, signature, columns, signed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (root_hex(data_root), epoch, signature, json.dumps(columns), time.time()),
            )
