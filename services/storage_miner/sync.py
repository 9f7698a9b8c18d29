"""Background thread that follows the Flow's `Submit` logs into the store (the node's log sync)."""

from __future__ import annotations

import logging
import sqlite3

from web3 import Web3
from web3.types import EventData

from services.common.serve import stop_daemon
from services.storage_miner.flow import Submission
from services.storage_miner.store import NodeStore
from zerog.follower import Cursor, EventFollower

log = logging.getLogger(__name__)

FOLLOWER_NAME = "storage-flow-submit"


class _Follower(EventFollower):
    """An EventFollower that deletes the segment files of rolled-back submissions once the rollback
    is committed (the rollback handler runs inside the follower's transaction)."""

    store: NodeStore

    def poll_once(self) -> int:
        try:
            return super().poll_once()
        finally:
            if self.store.has_garbage:
                self.store.collect_garbage()


class SubmitFollower:
    """Runs the Submit follower in a daemon thread; `start()` / `stop()` from the app lifespan."""

    def __init__(
        self, w3: Web3, flow_address: str, flow_abi: list, store: NodeStore, *, start_block: int, confirmations: int,
        poll_interval: float, resync: bool = False,
    ) -> None:  # fmt: skip
        self.store = store
        self.start_block = start_block
        self.poll_interval = poll_interval
        contract = w3.eth.contract(address=flow_address, abi=flow_abi)
        self.follower = _Follower(
            w3,
            store.conn,
            FOLLOWER_NAME,
            [contract.events.Submit],
            self._handle,
            store.rollback,
            start_block=start_block,
            confirmations=confirmations,
            lock=store.lock,
            resync=resync,
        )
        self.follower.store = store

    @property
    def cursor(self) -> Cursor | None:
        """Newest block whose logs are all applied."""
        with self.store.lock:
            return self.follower.cursor

    @property
    def sync_height(self) -> int:
        cursor = self.cursor
        return cursor.block_number if cursor else max(self.start_block - 1, 0)

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        submission = Submission.from_event(event)
        self.store.add_submission(conn, submission)
        log.info(
            "synced tx %d: root 0x%s, %d bytes at sector %d (block %d)",
            submission.seq, submission.root.hex(), submission.size, submission.start_entry, submission.block_number,
        )  # fmt: skip

    @property
    def failed(self) -> str | None:
        """Why the log sync stopped for good (another chain, a reorg deeper than the kept checkpoints), if it did."""
        return getattr(self.follower, "failed", None)

    def start(self) -> None:
        self.follower.start(self.poll_interval, on_stopped=stop_daemon)

    def stop(self) -> None:
        self.follower.stop()
