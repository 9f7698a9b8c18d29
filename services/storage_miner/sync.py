"""Background thread that follows the Flow's `Submit` logs into the store (the node's log sync)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from web3 import Web3
from web3.types import EventData

from services.common.follower import DaemonFollower
from services.storage_miner.flow import Submission
from services.storage_miner.store import NodeStore

log = logging.getLogger(__name__)

FOLLOWER_NAME = "storage-flow-submit"


class SubmitFollower(DaemonFollower):
    """The node's log sync: Submit logs into the store; segment files of rolled-back submissions are deleted once
    the rollback is committed (the rollback handler runs inside the follower's transaction). `on_submissions` is
    called after a poll that recorded new submissions (replication looks for them at once)."""

    def __init__(
        self, w3: Web3, flow_address: str, flow_abi: list, store: NodeStore, *, start_block: int, confirmations: int,
        poll_interval: float, resync: bool = False, on_submissions: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self._on_submissions = on_submissions
        self._recorded = False
        contract = w3.eth.contract(address=flow_address, abi=flow_abi)
        super().__init__(
            w3, store, FOLLOWER_NAME, [contract.events.Submit], self._handle, store.rollback,
            start_block=start_block, confirmations=confirmations, poll_interval=poll_interval, resync=resync,
            after_poll=self._after_poll,
        )  # fmt: skip

    def _after_poll(self) -> None:
        if self.store.has_garbage:
            self.store.collect_garbage()
        if self._recorded and self._on_submissions is not None:
            self._recorded = False
            self._on_submissions()

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        submission = Submission.from_event(event)
        self.store.add_submission(conn, submission)
        self._recorded = True
        log.info(
            "synced tx %d: root 0x%s, %d bytes at sector %d (block %d)",
            submission.seq, submission.root.hex(), submission.size, submission.start_entry, submission.block_number,
        )  # fmt: skip
