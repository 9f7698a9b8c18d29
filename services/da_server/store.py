"""keccak256(batch) -> data root, for batchers in keccak-commitment mode (SQLite, survives restarts)."""

from __future__ import annotations

import threading
from pathlib import Path

from zerog.follower import open_store


class KeccakIndex:
    def __init__(self, path: Path) -> None:
        self.conn = open_store(path)
        self.conn.execute("CREATE TABLE IF NOT EXISTS keccak (hash BLOB PRIMARY KEY, data_root BLOB NOT NULL)")
        self.lock = threading.Lock()

    def put(self, digest: bytes, data_root: bytes) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO keccak (hash, data_root) VALUES (?, ?)", (digest, data_root))

    def get(self, digest: bytes) -> bytes | None:
        with self.lock:
            row = self.conn.execute("SELECT data_root FROM keccak WHERE hash = ?", (digest,)).fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        self.conn.close()
