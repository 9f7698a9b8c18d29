"""What every daemon's store shares: one SQLite connection (WAL) serialized by a lock, transactions, and
crash-safe file writes (temp file, fsync, rename, fsync of the directory) for data indexed in SQLite."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Self

from zerog.follower import open_store

#: Suffix of a file being written: a crash leaves only these behind, which stores delete on open.
TMP_SUFFIX = ".tmp"


class SqliteStore:
    """One SQLite connection shared by a daemon's threads (API, follower, workers); `lock` serializes its use.
    Subclasses set SCHEMA (run on open)."""

    SCHEMA: ClassVar[str] = ""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        with self.lock:
            conn.executescript(self.SCHEMA)

    @classmethod
    def open(cls, path: Path) -> Self:
        return cls(open_store(path))

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT under the lock; ROLLBACK on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never a torn one: a
    temp file beside it, fsynced, renamed over `path`, then (unless a batch syncs it once) the directory."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)
