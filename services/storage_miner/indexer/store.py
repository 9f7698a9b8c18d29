"""The nodes that joined the indexer (SQLite), so that a restarted indexer lists them at once.

Each row belongs to one storage network (chain id and Flow address): a node checked against another deployment (a
wiped dev chain) is forgotten when the indexer opens its store. `announced_at` is the timestamp of the newest
announcement accepted for the URL: an announcement that is not newer is a replay.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from services.common.store import SqliteStore
from zerog.follower import open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JoinedNode:
    url: str
    account: str
    shard_id: int
    num_shard: int
    announced_at: int


class StaleAnnouncement(Exception):
    """An announcement of a URL was accepted at this timestamp or later already."""

    def __init__(self, accepted_at: int) -> None:
        super().__init__(accepted_at)
        self.accepted_at = accepted_at


class JoinedStore(SqliteStore):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS joined_node (
        url TEXT PRIMARY KEY,
        network TEXT NOT NULL,          -- '<chainId>:<flow address, lower case>' it was checked against
        account TEXT NOT NULL,          -- the announcing account (the node reported it)
        shard_id INTEGER NOT NULL,
        num_shard INTEGER NOT NULL,
        announced_at INTEGER NOT NULL,  -- timestamp of the newest accepted announcement
        joined_at INTEGER NOT NULL      -- when it first joined (unix seconds)
    );
    """

    def __init__(self, conn: sqlite3.Connection, network: str) -> None:
        super().__init__(conn)
        self.network = network
        with self.transaction() as c:
            gone = c.execute("DELETE FROM joined_node WHERE network != ?", (network,)).rowcount
        if gone:
            log.warning("forgot %d joined nodes checked against another chain or Flow than %s", gone, network)

    @classmethod
    def open_for(cls, path: Path, network: str) -> Self:
        return cls(open_store(path), network)

    def nodes(self) -> list[JoinedNode]:
        """In the order they joined."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT url, account, shard_id, num_shard, announced_at FROM joined_node ORDER BY joined_at, url"
            ).fetchall()
        return [JoinedNode(*row) for row in rows]

    def count(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT COUNT(*) FROM joined_node").fetchone()[0])

    def announced_at(self, url: str) -> int | None:
        with self.lock:
            row = self.conn.execute("SELECT announced_at FROM joined_node WHERE url = ?", (url,)).fetchone()
        return None if row is None else int(row[0])

    def put(self, node: JoinedNode) -> JoinedNode | None:
        """Insert or refresh `node`; the entry it replaces, if any. StaleAnnouncement if the stored announcement of
        its URL is as new or newer (accepted meanwhile)."""
        with self.transaction() as c:
            row = c.execute(
                "SELECT url, account, shard_id, num_shard, announced_at FROM joined_node WHERE url = ?", (node.url,)
            ).fetchone()
            previous = JoinedNode(*row) if row is not None else None
            if previous is not None and previous.announced_at >= node.announced_at:
                raise StaleAnnouncement(previous.announced_at)
            c.execute(
                """
                INSERT INTO joined_node (url, network, account, shard_id, num_shard, announced_at, joined_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET account = excluded.account, shard_id = excluded.shard_id,
                    num_shard = excluded.num_shard, announced_at = excluded.announced_at
                """,
                (node.url, self.network, node.account, node.shard_id, node.num_shard, node.announced_at,
                 int(time.time())),
            )  # fmt: skip
        return previous

    def remove(self, url: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM joined_node WHERE url = ?", (url,))
