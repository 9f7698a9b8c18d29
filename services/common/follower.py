"""An event follower as a daemon runs it: over the daemon's store (its connection, lock and rollback), in a thread
started and stopped by the app's lifespan; when it cannot go on (another chain, a reorg too deep) the daemon stops."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from web3 import Web3
from web3.contract.base_contract import BaseContractEvent

from services.common.serve import stop_daemon
from services.common.store import SqliteStore
from zerog.follower import Cursor, EventFollower, Handler, Rollback


class DaemonFollower:
    def __init__(
        self,
        w3: Web3,
        store: SqliteStore,
        name: str,
        events: Sequence[type[BaseContractEvent]],
        handle: Handler,
        rollback: Rollback,
        *,
        start_block: int,
        confirmations: int,
        poll_interval: float,
        resync: bool = False,
        after_poll: Callable[[], None] | None = None,
    ) -> None:
        self.lock = store.lock
        self.start_block = start_block
        self.poll_interval = poll_interval
        self.follower = EventFollower(
            w3,
            store.conn,
            name,
            events,
            handle,
            rollback,
            start_block=start_block,
            confirmations=confirmations,
            lock=self.lock,
            resync=resync,
            after_poll=after_poll,
        )

    @property
    def cursor(self) -> Cursor | None:
        """Newest block whose logs are all applied."""
        with self.lock:
            return self.follower.cursor

    @property
    def sync_height(self) -> int:
        cursor = self.cursor
        return cursor.block_number if cursor else max(self.start_block - 1, 0)

    @property
    def running(self) -> bool:
        return self.follower.running

    @property
    def failed(self) -> str | None:
        """Why the follower stopped for good (another chain, a reorg deeper than the kept checkpoints), if it did."""
        return getattr(self.follower, "failed", None)

    def start(self) -> None:
        self.follower.start(self.poll_interval, on_stopped=stop_daemon)

    def stop(self) -> None:
        self.follower.stop()
