"""The KV node's SQLite store: the KV transactions seen in the Flow, and what replaying them made — versioned
values and access-control rows — with the official node's semantics (docs/storage-wire.md §7).

A value's version is the tx seq that wrote it; every query reads "as of" a version (newest row at or below it).
Replay applies one transaction at a time in tx-seq order, each in one SQLite transaction with its result, so a
crash never half-applies one; a reorg deletes the transactions of the dropped blocks and everything they wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from services.common.store import SqliteStore
from zerog.storage.kv import Control, KvError, Op, StreamData, decode

#: SQLite integers are signed 64-bit: "the newest" is the largest of them (no tx seq gets near it).
NEWEST = 2**63 - 1

# Results, with the official node's names.
COMMIT = "Commit"
VERSION_CONFLICTION = "VersionConfliction"
TAGS_MISMATCH = "TagsMismatch"
#: A transaction whose data could not be fetched within the retry window: skipped (the official node's record).
DOWNLOAD_FAILED = "DownloadFailed"


def too_large(size: int, limit: int) -> str:
    """The result of a transaction whose data is over the node's limit: a parse error, as the official node gives
    data it cannot parse (it has no size limit of its own)."""
    return f"DataParseError: data too large: {size} bytes, this node's limit is {limit}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_tx (
    seq INTEGER PRIMARY KEY, block_number INTEGER NOT NULL, root BLOB NOT NULL, size INTEGER NOT NULL,
    sender BLOB NOT NULL, streams BLOB NOT NULL, result TEXT
);
CREATE INDEX IF NOT EXISTS kv_tx_pending ON kv_tx(seq) WHERE result IS NULL;
CREATE TABLE IF NOT EXISTS kv_value (
    stream_id BLOB NOT NULL, key BLOB NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (stream_id, key, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_acl (
    stream_id BLOB NOT NULL, key BLOB NOT NULL, account BLOB NOT NULL, version INTEGER NOT NULL,
    op INTEGER NOT NULL, operator BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_acl_lookup ON kv_acl(stream_id, account, key, version);
CREATE INDEX IF NOT EXISTS kv_acl_version ON kv_acl(version);
CREATE TABLE IF NOT EXISTS kv_head (id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class KvTx:
    """A Flow submission tagged as a KV transaction."""

    seq: int
    block_number: int
    root: bytes
    size: int
    sender: bytes
    streams: tuple[bytes, ...]


def _at(version: int | None) -> int:
    return NEWEST if version is None or version > NEWEST else version


class KvStore(SqliteStore):
    SCHEMA = _SCHEMA

    # ------------------------------------------------------------ follower side

    def add_tx(self, conn: sqlite3.Connection, tx: KvTx) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO kv_tx (seq, block_number, root, size, sender, streams, result) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (tx.seq, tx.block_number, tx.root, tx.size, tx.sender, b"".join(tx.streams)),
        )

    def saw_seq(self, conn: sqlite3.Connection, seq: int) -> None:
        """The newest tx seq of the Flow (KV or not): the head the replay progress is measured against."""
        conn.execute("INSERT INTO kv_head (id, seq) VALUES (0, ?) ON CONFLICT(id) DO UPDATE SET seq = MAX(seq, ?)",
                     (seq, seq))  # fmt: skip

    def rollback(self, conn: sqlite3.Connection, from_block: int) -> None:
        """Follower rollback: forget the KV transactions of reorged blocks and everything they wrote."""
        conn.execute("DELETE FROM kv_tx WHERE block_number >= ?", (from_block,))
        kept = conn.execute("SELECT COALESCE(MAX(seq), -1) FROM kv_tx").fetchone()[0]
        conn.execute("DELETE FROM kv_value WHERE version > ?", (kept,))
        conn.execute("DELETE FROM kv_acl WHERE version > ?", (kept,))
        conn.execute("UPDATE kv_head SET seq = ?", (kept,))

    # ------------------------------------------------------------ replay

    def next_pending(self) -> KvTx | None:
        """The oldest transaction without a result: the next to replay (replay is strictly in seq order)."""
        with self.lock:
            row = self.conn.execute(
                "SELECT seq, block_number, root, size, sender, streams FROM kv_tx WHERE result IS NULL "
                "ORDER BY seq LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        streams = bytes(row["streams"])
        return KvTx(row["seq"], row["block_number"], bytes(row["root"]), row["size"], bytes(row["sender"]),
                    tuple(streams[i : i + 32] for i in range(0, len(streams), 32)))  # fmt: skip

    def apply(self, tx: KvTx, blob: bytes | None, held: set[bytes] | None) -> str | None:
        """Replay `tx` with its data (None: it could not be fetched) and record its result; None when the
        transaction is gone or was replaced by a reorg meanwhile. `held`: the node's streams (None: all)."""
        return self._settle(tx, lambda conn: DOWNLOAD_FAILED if blob is None else self._replay(conn, tx, blob, held))

    def skip(self, tx: KvTx, result: str) -> str | None:
        """Record `result` for `tx` without replaying it (its data is not to be fetched); None as `apply`."""
        return self._settle(tx, lambda _: result)

    def _settle(self, tx: KvTx, decide: Callable[[sqlite3.Connection], str]) -> str | None:
        with self.transaction() as conn:
            row = conn.execute("SELECT root, result FROM kv_tx WHERE seq = ?", (tx.seq,)).fetchone()
            if row is None or bytes(row["root"]) != tx.root or row["result"] is not None:
                return None
            result = decide(conn)
            conn.execute("UPDATE kv_tx SET result = ? WHERE seq = ?", (result, tx.seq))
            return result

    def _replay(self, conn: sqlite3.Connection, tx: KvTx, blob: bytes, held: set[bytes] | None) -> str:
        try:
            data = decode(blob)
        except KvError as exc:
            return f"DataParseError: {exc}"
        tagged = set(tx.streams)
        for stream_id, key in data.reads:
            if held is not None and stream_id not in held:
                return TAGS_MISMATCH
            if self._latest_version(conn, stream_id, key, tx.seq) > data.version:
                return VERSION_CONFLICTION
        for stream_id, key, _ in data.writes:
            if stream_id not in tagged:
                return TAGS_MISMATCH
            if self._latest_version(conn, stream_id, key, tx.seq) > data.version:
                return VERSION_CONFLICTION
            if not self.has_write_permission(conn, tx.sender, stream_id, key, tx.seq):
                return f"WritePermissionDenied: stream: 0x{stream_id.hex()}, key: {_show_key(key)}"
        controls, admin_of = self._controls(conn, tx, data)
        for c in controls:
            if c.stream_id not in tagged:
                return TAGS_MISMATCH
            if not self._may(conn, tx, c, admin_of):
                return (
                    f"AccessControlPermissionDenied: operation: {c.op.name}, stream: 0x{c.stream_id.hex()}, "
                    f"key: {_show_key(c.key)}, account: 0x{c.account.hex()}"
                )
        conn.executemany(
            "INSERT OR REPLACE INTO kv_value (stream_id, key, version, data) VALUES (?, ?, ?, ?)",
            [(s, k, tx.seq, v) for s, k, v in data.writes],
        )
        conn.executemany(
            "INSERT INTO kv_acl (stream_id, key, account, version, op, operator) VALUES (?, ?, ?, ?, ?, ?)",
            [(c.stream_id, c.key, c.account, tx.seq, int(c.op), operator) for c, operator in controls.items()],
        )
        return COMMIT

    def _controls(
        self, conn: sqlite3.Connection, tx: KvTx, data: StreamData
    ) -> tuple[dict[Control, bytes], set[bytes]]:
        """The access-control operations to apply (with their operator) and the streams the sender administers.
        As the official node: the first transaction of a new stream makes its sender the admin; of several
        operations of one category on one (stream, key, account) the last counts; renouncing applies to the
        sender; granting admin to oneself or twice is dropped."""
        ops: dict[tuple[int, bytes, bytes, bytes], tuple[Control, bytes]] = {}
        admin_of = set()
        zero = bytes(20)
        for stream_id in tx.streams:
            if self.is_new_stream(conn, stream_id, tx.seq):
                grant = Control(Op.GRANT_ADMIN_ROLE, stream_id, b"", tx.sender)
                ops[(0x00, stream_id, b"", tx.sender)] = (grant, zero)
                admin_of.add(stream_id)
            elif self.is_admin(conn, tx.sender, stream_id, tx.seq):
                admin_of.add(stream_id)
        renounces = {Op.RENOUNCE_ADMIN_ROLE, Op.RENOUNCE_WRITER_ROLE, Op.RENOUNCE_SPECIAL_WRITER_ROLE}
        for c in data.controls:
            if c.op in renounces:
                c = Control(c.op, c.stream_id, c.key, tx.sender)
            meta = (c.op & 0xF0, c.stream_id, c.key, c.account)
            if c.op != Op.GRANT_ADMIN_ROLE or (meta not in ops and c.account != tx.sender):
                ops.pop(meta, None)
                ops[meta] = (c, tx.sender)
        return dict(ops.values()), admin_of

    def _may(self, conn: sqlite3.Connection, tx: KvTx, c: Control, admin_of: set[bytes]) -> bool:
        if c.stream_id in admin_of:
            return True
        if c.op == Op.GRANT_WRITER_ROLE:  # a writer may make writers, a key's writer that key's writers
            return self.is_writer_of_stream(conn, tx.sender, c.stream_id, tx.seq)
        if c.op == Op.GRANT_SPECIAL_WRITER_ROLE:
            return self.is_writer_of_key(conn, tx.sender, c.stream_id, c.key, tx.seq)
        return c.op in (Op.RENOUNCE_ADMIN_ROLE, Op.RENOUNCE_WRITER_ROLE, Op.RENOUNCE_SPECIAL_WRITER_ROLE)

    # ------------------------------------------------------------ permissions (as of a version)

    @staticmethod
    def _latest_version(conn: sqlite3.Connection, stream_id: bytes, key: bytes, at: int) -> int:
        row = conn.execute(
            "SELECT MAX(version) FROM kv_value WHERE stream_id = ? AND key = ? AND version <= ?", (stream_id, key, at)
        ).fetchone()
        return row[0] or 0

    @staticmethod
    def _last_op(
        conn: sqlite3.Connection, stream_id: bytes, account: bytes | None, key: bytes | None, ops: tuple[Op, ...],
        at: int,
    ) -> int | None:  # fmt: skip
        where = ["stream_id = ?", "version <= ?", f"op IN ({','.join(str(int(o)) for o in ops)})"]
        args: list[object] = [stream_id, at]
        if account is not None:
            where.append("account = ?")
            args.append(account)
        if key is not None:
            where.append("key = ?")
            args.append(key)
        row = conn.execute(
            f"SELECT op FROM kv_acl WHERE {' AND '.join(where)} ORDER BY version DESC, rowid DESC LIMIT 1", args
        ).fetchone()
        return None if row is None else row[0]

    @staticmethod
    def is_new_stream(conn: sqlite3.Connection, stream_id: bytes, at: int | None = None) -> bool:
        row = conn.execute("SELECT 1 FROM kv_acl WHERE stream_id = ? AND version <= ? LIMIT 1", (stream_id, _at(at)))
        return row.fetchone() is None

    def is_admin(self, conn: sqlite3.Connection, account: bytes, stream_id: bytes, at: int | None = None) -> bool:
        ops = (Op.GRANT_ADMIN_ROLE, Op.RENOUNCE_ADMIN_ROLE)
        return self._last_op(conn, stream_id, account, None, ops, _at(at)) == Op.GRANT_ADMIN_ROLE

    def is_special_key(self, conn: sqlite3.Connection, stream_id: bytes, key: bytes, at: int | None = None) -> bool:
        ops = (Op.SET_KEY_TO_SPECIAL, Op.SET_KEY_TO_NORMAL)
        return self._last_op(conn, stream_id, None, key, ops, _at(at)) == Op.SET_KEY_TO_SPECIAL

    def is_writer_of_key(
        self, conn: sqlite3.Connection, account: bytes, stream_id: bytes, key: bytes, at: int | None = None
    ) -> bool:
        ops = (Op.GRANT_SPECIAL_WRITER_ROLE, Op.REVOKE_SPECIAL_WRITER_ROLE, Op.RENOUNCE_SPECIAL_WRITER_ROLE)
        return self._last_op(conn, stream_id, account, key, ops, _at(at)) == Op.GRANT_SPECIAL_WRITER_ROLE

    def is_writer_of_stream(
        self, conn: sqlite3.Connection, account: bytes, stream_id: bytes, at: int | None = None
    ) -> bool:
        ops = (Op.GRANT_WRITER_ROLE, Op.REVOKE_WRITER_ROLE, Op.RENOUNCE_WRITER_ROLE)
        return self._last_op(conn, stream_id, account, None, ops, _at(at)) == Op.GRANT_WRITER_ROLE

    def has_write_permission(
        self, conn: sqlite3.Connection, account: bytes, stream_id: bytes, key: bytes, at: int | None = None
    ) -> bool:
        """A new stream takes anybody's first write; then admins write anything, a special key takes its own
        writers only, any other key the stream's writers."""
        if self.is_new_stream(conn, stream_id, at) or self.is_admin(conn, account, stream_id, at):
            return True
        if self.is_special_key(conn, stream_id, key, at):
            return self.is_writer_of_key(conn, account, stream_id, key, at)
        return self.is_writer_of_stream(conn, account, stream_id, at)

    # ------------------------------------------------------------ reads (API)

    def value(self, stream_id: bytes, key: bytes, at: int | None) -> tuple[int, bytes] | None:
        """(version, data) of `key` as of `at`; an empty value is a deleted key."""
        with self.lock:
            row = self.conn.execute(
                "SELECT version, data FROM kv_value WHERE stream_id = ? AND key = ? AND version <= ? "
                "ORDER BY version DESC LIMIT 1",
                (stream_id, key, _at(at)),
            ).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def neighbour(
        self, stream_id: bytes, key: bytes | None, forward: bool, inclusive: bool, at: int | None
    ) -> tuple[bytes, int, bytes] | None:
        """(key, version, data) of the first live key after (forward) or before `key` (None: from the end)."""
        cmp = (">=" if inclusive else ">") if forward else ("<=" if inclusive else "<")
        order = "ASC" if forward else "DESC"
        while True:
            bound, args = ("", [stream_id, _at(at)]) if key is None else (f"AND key {cmp} ?", [stream_id, _at(at), key])
            with self.lock:
                row = self.conn.execute(
                    f"SELECT key, version, data FROM kv_value WHERE stream_id = ? AND version <= ? {bound} "
                    f"ORDER BY key {order}, version DESC LIMIT 1",
                    args,
                ).fetchone()
            if row is None:
                return None
            if row[2]:
                return bytes(row[0]), row[1], bytes(row[2])
            key, cmp = bytes(row[0]), cmp.rstrip("=")  # a deleted key: look past it

    def tx_result(self, seq: int) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT result FROM kv_tx WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else row[0]

    def stream_ids(self) -> list[bytes]:
        """Streams this node has seen transactions of."""
        with self.lock:
            rows = self.conn.execute("SELECT DISTINCT stream_id FROM kv_acl ORDER BY stream_id").fetchall()
        return [bytes(r[0]) for r in rows]

    def progress(self) -> dict[str, int | None]:
        with self.lock:
            done = self.conn.execute("SELECT MAX(seq) FROM kv_tx WHERE result IS NOT NULL").fetchone()[0]
            pending = self.conn.execute("SELECT COUNT(*) FROM kv_tx WHERE result IS NULL").fetchone()[0]
            head = self.conn.execute("SELECT seq FROM kv_head").fetchone()
        return {"lastReplayedTxSeq": done, "headTxSeq": head[0] if head else None, "lag": pending}

    def check(self, call: str, *args: object) -> bool:
        """A permission check for the API, under the lock."""
        with self.lock:
            return bool(getattr(self, call)(self.conn, *args))


def _show_key(key: bytes) -> str:
    """The official node's rendering of a key in a result: its UTF-8 text cut to 32 characters."""
    if not key:
        return "NONE"
    try:
        return key.decode()[:32]
    except UnicodeDecodeError:
        return "UNKNOWN"
