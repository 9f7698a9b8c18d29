"""The node's store: Flow submissions and the segment index in SQLite, segment bytes in files.

Submissions are written by the event follower, inside its transaction, and deleted again from the
first reorged block on (with their segments). Each stored segment is one file,
`segments/<seq>_<uid>/<index>.seg`, where uid is the submission's row id (never reused, so a file of
a dropped submission can never be mistaken for one of a new submission with the same seq). A segment
is written to a temp file, fsynced and renamed into place before its index row is committed, so a
crash at any point leaves either no row (the file is ignored or overwritten later) or a complete file;
reads check size and segment root again before serving.

A root paid for twice has two submissions. Every node answers for the root with the same one, the first
finalized submission (lowest seq), else the first: a rule of the chain's order, not of which node got
which segments first. A node shares segments between the submissions of a root as 0G's node does: a
submission synced when another of its root is stored, or still open when another finalizes, gets the
segments it needs from it (hard links, no upload).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import sqlite3
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.store import TMP_SUFFIX, SqliteStore, atomic_write, fsync_dir
from services.storage_miner.flow import ShardConfig, Submission, shard_segments
from zerog.errors import ConfigError
from zerog.follower import open_store
from zerog.storage.merkle import FileLayout

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".seg"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS txs (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: names the segment directory
    seq INTEGER NOT NULL UNIQUE,            -- Flow submissionIndex
    root TEXT NOT NULL,                     -- file root (dataMerkleRoot), 0x + 64 lowercase hex
    start_entry INTEGER NOT NULL,           -- flow position in sectors (startPos)
    size INTEGER NOT NULL,                  -- file bytes
    tags BLOB NOT NULL,
    nodes TEXT NOT NULL,                    -- JSON [[height, "0x.."], ...] in flow order
    sender TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    needed INTEGER NOT NULL,                -- data segments of this node's shard
    stored INTEGER NOT NULL DEFAULT 0,      -- of those, how many are stored
    finalized INTEGER NOT NULL DEFAULT 0    -- 1 once stored == needed
);
CREATE INDEX IF NOT EXISTS txs_by_root ON txs (root, seq);
CREATE INDEX IF NOT EXISTS txs_by_block ON txs (block_number);

CREATE TABLE IF NOT EXISTS segments (
    uid INTEGER NOT NULL,
    seg_index INTEGER NOT NULL,             -- file-local segment index
    size INTEGER NOT NULL,                  -- bytes in the file
    seg_root TEXT NOT NULL,                 -- 0x hex: its leaf in the file's segment tree
    crc32 INTEGER NOT NULL,                 -- of the bytes on disk: a cheap check on every read
    proof TEXT NOT NULL,                    -- JSON {lemma, path}: verified when it was uploaded
    PRIMARY KEY (uid, seg_index)
);
"""


class TxDroppedError(Exception):
    """The submission a segment was written for is gone (a reorg dropped it meanwhile)."""


@dataclass(frozen=True)
class TxRecord:
    uid: int
    seq: int
    root: str
    start_entry: int
    size: int
    tags: bytes
    nodes: list[tuple[int, str]]
    block_number: int
    needed: int
    stored: int
    finalized: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TxRecord:
        return cls(
            uid=row["uid"],
            seq=row["seq"],
            root=row["root"],
            start_entry=row["start_entry"],
            size=row["size"],
            tags=bytes(row["tags"]),
            nodes=[(int(h), r) for h, r in json.loads(row["nodes"])],
            block_number=row["block_number"],
            needed=row["needed"],
            stored=row["stored"],
            finalized=bool(row["finalized"]),
        )

    @property
    def root_bytes(self) -> bytes:
        return bytes.fromhex(self.root[2:])

    @property
    def layout(self) -> FileLayout:
        return FileLayout(self.size)

    @property
    def dir_name(self) -> str:
        return f"{self.seq}_{self.uid}"

    def to_json(self) -> dict[str, Any]:
        """The official node's `Transaction`; merkleNodes depth = height + 1."""
        return {
            "streamIds": [],
            "data": [],
            "dataMerkleRoot": self.root,
            "merkleNodes": [[height + 1, root] for height, root in self.nodes],
            "startEntryIndex": self.start_entry,
            "size": self.size,
            "seq": self.seq,
        }


_TX_COLUMNS = "uid, seq, root, start_entry, size, tags, nodes, block_number, needed, stored, finalized"


class NodeStore(SqliteStore):
    """One SQLite connection shared by the API threads and the follower; `lock` serializes its use."""

    SCHEMA = _SCHEMA

    def __init__(self, conn: sqlite3.Connection, segments_dir: Path, shard: ShardConfig) -> None:
        super().__init__(conn)
        self.segments_dir = segments_dir
        self.shard = shard
        self._garbage = threading.Event()

    @classmethod
    def open(  # type: ignore[override]
        cls, db: Path, segments_dir: Path, shard: ShardConfig, flow: str, chain_id: int
    ) -> NodeStore:
        """`flow` identifies the deployment (address and deploy block hash): files of another are forgotten."""
        store = cls(open_store(db), segments_dir, shard)
        try:
            store._check_identity(flow, chain_id)
            store._recover()
        except BaseException:
            store.close()
            raise
        return store

    # ------------------------------------------------------------ identity and recovery

    def _meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}

    def _check_identity(self, flow: str, chain_id: int) -> None:
        """Refuse a data dir of another shard; forget the files of another Flow deployment (another address,
        or the same address deployed again on a fresh chain)."""
        wanted = {"shard_id": str(self.shard.shard_id), "num_shard": str(self.shard.num_shard)}
        chain = {"flow": flow.lower(), "chain_id": str(chain_id)}
        with self.lock:
            meta = self._meta()
            if meta and any(meta.get(k) != v for k, v in wanted.items()):
                raise ConfigError(
                    f"{self.segments_dir.parent} holds shard {meta.get('shard_id')}/{meta.get('num_shard')}, "
                    f"but this node is configured for shard {self.shard.shard_id}/{self.shard.num_shard}: "
                    "use another ZG_STORAGE_NAME (or data dir) for a node of another shard"
                )
            if meta and any(meta.get(k) != v for k, v in chain.items()):
                (count,) = self.conn.execute("SELECT COUNT(*) FROM txs").fetchone()
                log.warning(
                    "the Flow changed (%s on chain %s, was %s on chain %s): forgetting %d files of the old one",
                    flow, chain_id, meta.get("flow"), meta.get("chain_id"), count,
                )  # fmt: skip
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.execute("DELETE FROM segments")
                self.conn.execute("DELETE FROM txs")
                for table in ("follower_cursor", "follower_checkpoint"):
                    if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                        self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
                self.conn.execute("COMMIT")
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [*wanted.items(), *chain.items()]
            )

    def _recover(self) -> None:
        """After a crash: drop temp files and directories of forgotten submissions, and index rows whose
        file is missing or has the wrong size (then the file is no longer finalized)."""
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.segments_dir.glob(f"*/*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
        self.collect_garbage(everything=True)
        with self.lock:
            rows = self.conn.execute(
                "SELECT s.uid, s.seg_index, s.size, t.seq FROM segments s JOIN txs t ON t.uid = s.uid"
            ).fetchall()
            broken = []
            for row in rows:
                path = self.segments_dir / f"{row['seq']}_{row['uid']}" / f"{row['seg_index']}{SEGMENT_SUFFIX}"
                try:
                    ok = path.stat().st_size == row["size"]
                except FileNotFoundError:
                    ok = False
                if not ok:
                    broken.append((row["uid"], row["seg_index"]))
            if broken:
                log.warning(
                    "%d stored segments are missing or damaged on disk: they must be uploaded again", len(broken)
                )
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany("DELETE FROM segments WHERE uid = ? AND seg_index = ?", broken)
                self.conn.execute(
                    "UPDATE txs SET stored = (SELECT COUNT(*) FROM segments s WHERE s.uid = txs.uid), "
                    "finalized = ((SELECT COUNT(*) FROM segments s WHERE s.uid = txs.uid) >= needed)"
                )
                self.conn.execute("COMMIT")

    def collect_garbage(self, everything: bool = False) -> int:
        """Delete the segment directories of submissions no longer known (rolled back by a reorg). Only
        directories older than the newest recorded submission are considered, unless `everything`
        (at startup, when nothing else runs)."""
        self._garbage.clear()
        if not self.segments_dir.is_dir():
            return 0
        with self.lock:
            known = {r[0] for r in self.conn.execute("SELECT uid FROM txs")}
            # Submissions recorded after this snapshot have larger uids: never touch their directories.
            row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'txs'").fetchone()
        newest = row[0] if row else 0
        removed = 0
        for entry in self.segments_dir.iterdir():
            uid = _uid_of(entry.name)
            if uid is not None and (everything or uid <= newest) and uid not in known:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        if removed:
            log.info("deleted the segments of %d dropped submissions", removed)
        return removed

    @property
    def has_garbage(self) -> bool:
        return self._garbage.is_set()

    # ------------------------------------------------------------ follower side (inside its transaction)

    def add_submission(self, conn: sqlite3.Connection, sub: Submission) -> None:
        """Follower handler body: record a Submit log (runs inside the follower's transaction)."""
        existing = conn.execute("SELECT uid, tx_hash, log_index FROM txs WHERE seq = ?", (sub.seq,)).fetchone()
        if existing is not None:
            if (existing["tx_hash"], existing["log_index"]) == (sub.tx_hash, sub.log_index):
                return
            log.warning("submission %d reappeared in another transaction: replacing it", sub.seq)
            conn.execute("DELETE FROM segments WHERE uid = ?", (existing["uid"],))
            conn.execute("DELETE FROM txs WHERE uid = ?", (existing["uid"],))
            self._garbage.set()
        if problem := sub.problem():
            log.warning("submission %d (root 0x%s) can never be uploaded: %s", sub.seq, sub.root.hex(), problem)
        needed = len(shard_segments(FileLayout(sub.size), sub.start_entry, self.shard)) if sub.size > 0 else 0
        conn.execute(
            "INSERT INTO txs (seq, root, start_entry, size, tags, nodes, sender, block_number, block_hash, "
            "tx_hash, log_index, needed, stored, finalized) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (
                sub.seq,
                "0x" + sub.root.hex(),
                sub.start_entry,
                sub.size,
                sub.tags,
                json.dumps([[height, "0x" + root.hex()] for root, height in sub.nodes]),
                sub.sender,
                sub.block_number,
                sub.block_hash,
                sub.tx_hash,
                sub.log_index,
                needed,
                int(needed == 0 and sub.size > 0),
            ),
        )
        self._fill_from_same_root(conn, "0x" + sub.root.hex(), only_seq=sub.seq)

    def rollback(self, conn: sqlite3.Connection, from_block: int) -> None:
        """Follower rollback: forget submissions of reorged blocks with their segments (files are deleted
        by `collect_garbage` once the follower's transaction is committed)."""
        uids = [r[0] for r in conn.execute("SELECT uid FROM txs WHERE block_number >= ?", (from_block,))]
        if uids:
            log.warning("reorg: forgetting %d submissions from block %d on", len(uids), from_block)
            conn.executemany("DELETE FROM segments WHERE uid = ?", [(u,) for u in uids])
            conn.execute("DELETE FROM txs WHERE block_number >= ?", (from_block,))
            self._garbage.set()

    # ------------------------------------------------------------ queries

    def tx_by_seq(self, seq: int) -> TxRecord | None:
        with self.lock:
            row = self.conn.execute(f"SELECT {_TX_COLUMNS} FROM txs WHERE seq = ?", (seq,)).fetchone()
        return TxRecord.from_row(row) if row else None

    def tx_by_root(self, root: bytes) -> TxRecord | None:
        """Of the submissions of `root`: the first finalized one, else the first (see the module doc)."""
        with self.lock:
            row = self.conn.execute(
                f"SELECT {_TX_COLUMNS} FROM txs WHERE root = ? ORDER BY finalized DESC, seq LIMIT 1",
                ("0x" + root.hex(),),
            ).fetchone()
        return TxRecord.from_row(row) if row else None

    def open_txs(self) -> list[TxRecord]:
        """Submissions of which this node lacks segments of its shard (not finalized here), oldest first."""
        with self.lock:
            rows = self.conn.execute(f"SELECT {_TX_COLUMNS} FROM txs WHERE finalized = 0 ORDER BY seq").fetchall()
        return [TxRecord.from_row(row) for row in rows]

    def missing_segments(self, tx: TxRecord) -> list[int]:
        """File-local indices of the segments of this node's shard that are not stored."""
        with self.lock:
            have = {r[0] for r in self.conn.execute("SELECT seg_index FROM segments WHERE uid = ?", (tx.uid,))}
        return [i for i in shard_segments(tx.layout, tx.start_entry, self.shard) if i not in have]

    def next_tx_seq(self) -> int:
        with self.lock:
            (top,) = self.conn.execute("SELECT MAX(seq) FROM txs").fetchone()
        return 0 if top is None else top + 1

    # ------------------------------------------------------------ segments

    def segment_path(self, tx: TxRecord, index: int) -> Path:
        return self.segments_dir / tx.dir_name / f"{index}{SEGMENT_SUFFIX}"

    def has_segment(self, tx: TxRecord, index: int) -> bool:
        with self.lock:
            return bool(
                self.conn.execute("SELECT 1 FROM segments WHERE uid = ? AND seg_index = ?", (tx.uid, index)).fetchone()
            )

    def write_segment(self, tx: TxRecord, index: int, data: bytes, seg_root: bytes, proof: dict[str, Any]) -> bool:
        """Store a verified segment durably, then index it; True if the file is finalized afterwards.
        Raises TxDroppedError if the submission was rolled back meanwhile."""
        path = self.segment_path(tx, index)
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                fsync_dir(path.parent.parent)
            atomic_write(path, data)
        except FileNotFoundError as exc:  # the directory was collected: the submission is gone
            raise TxDroppedError(tx.seq) from exc
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                row = self.conn.execute("SELECT stored, needed, finalized FROM txs WHERE uid = ?", (tx.uid,)).fetchone()
                if row is None:
                    self.conn.execute("ROLLBACK")
                    path.unlink(missing_ok=True)
                    raise TxDroppedError(tx.seq)
                inserted = self.conn.execute(
                    "INSERT OR IGNORE INTO segments (uid, seg_index, size, seg_root, crc32, proof)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (tx.uid, index, len(data), "0x" + seg_root.hex(), zlib.crc32(data), json.dumps(proof)),
                ).rowcount
                finalized = bool(row["finalized"])
                if inserted:
                    stored = row["stored"] + 1
                    finalized = stored >= row["needed"]
                    self.conn.execute(
                        "UPDATE txs SET stored = ?, finalized = ? WHERE uid = ?", (stored, int(finalized), tx.uid)
                    )
                self.conn.execute("COMMIT")
            except TxDroppedError:
                raise
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if finalized and inserted:
            log.info("file %s (tx %d) finalized: %d segments of this shard stored", tx.root, tx.seq, row["needed"])
            with self.lock:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self._fill_from_same_root(self.conn, tx.root)
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
        return finalized

    def _fill_from_same_root(self, conn: sqlite3.Connection, root: str, only_seq: int | None = None) -> None:
        """Give the open submissions of `root` (or just `only_seq`) the segments they need that another
        submission of `root` stores: the bytes of a root's segment i are the same in every submission, only
        the shard that keeps it differs. Runs inside the caller's transaction."""
        stored = {
            r["seg_index"]: r
            for r in conn.execute(
                "SELECT s.*, t.seq FROM segments s JOIN txs t ON t.uid = s.uid WHERE t.root = ? ORDER BY t.seq DESC",
                (root,),
            )
        }
        targets = conn.execute(
            "SELECT uid, seq, start_entry, size, needed, stored FROM txs WHERE root = ? AND finalized = 0"
            + ("" if only_seq is None else " AND seq = ?"),
            (root,) if only_seq is None else (root, only_seq),
        ).fetchall()
        for target in targets:
            have = {r[0] for r in conn.execute("SELECT seg_index FROM segments WHERE uid = ?", (target["uid"],))}
            wanted = set(shard_segments(FileLayout(target["size"]), target["start_entry"], self.shard))
            copies = [stored[i] for i in sorted(wanted - have) if i in stored]
            if not copies:
                continue
            directory = self.segments_dir / f"{target['seq']}_{target['uid']}"
            directory.mkdir(parents=True, exist_ok=True)
            source = self.segments_dir
            copies = [c for c in copies if _link(source / f"{c['seq']}_{c['uid']}", directory, c["seg_index"])]
            fsync_dir(directory)
            conn.executemany(
                "INSERT INTO segments (uid, seg_index, size, seg_root, crc32, proof) VALUES (?, ?, ?, ?, ?, ?)",
                [(target["uid"], c["seg_index"], c["size"], c["seg_root"], c["crc32"], c["proof"]) for c in copies],
            )
            stored_now = target["stored"] + len(copies)
            conn.execute(
                "UPDATE txs SET stored = ?, finalized = ? WHERE uid = ?",
                (stored_now, int(stored_now >= target["needed"]), target["uid"]),
            )
            log.info(
                "tx %d: %d segments copied from another submission of root %s (%d of %d stored)",
                target["seq"], len(copies), root, stored_now, target["needed"],
            )  # fmt: skip

    def read_segment(self, tx: TxRecord, index: int) -> tuple[bytes, dict[str, Any]] | None:
        """(data, proof) of a stored segment, checked against its indexed size and checksum (the root was
        verified on upload; a CRC catches damage on disk at a fraction of re-hashing); None if absent."""
        with self.lock:
            row = self.conn.execute(
                "SELECT size, crc32, proof FROM segments WHERE uid = ? AND seg_index = ?", (tx.uid, index)
            ).fetchone()
        if row is None:
            return None
        path = self.segment_path(tx, index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None  # rolled back meanwhile
        if len(data) != row["size"] or zlib.crc32(data) != row["crc32"]:
            log.error("segment %d of tx %d is damaged on disk (%s): not serving it", index, tx.seq, path)
            return None
        return data, json.loads(row["proof"])


def _link(src_dir: Path, dst_dir: Path, index: int) -> bool:
    """Hard-link segment `index` of `src_dir` into `dst_dir`, replacing what is there (segment files are never
    modified, only replaced); False if the source is gone (rolled back or lost meanwhile)."""
    name = f"{index}{SEGMENT_SUFFIX}"
    tmp = dst_dir / f".{name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
    try:
        os.link(src_dir / name, tmp)
    except FileNotFoundError:
        return False
    os.replace(tmp, dst_dir / name)
    return True


def _uid_of(name: str) -> int | None:
    _, sep, uid = name.partition("_")
    return int(uid) if sep and uid.isdigit() else None
