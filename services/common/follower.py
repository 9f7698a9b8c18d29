"""An event follower as a daemon runs it: over the daemon's store (its connection, lock and rollback), in a thread
started and stopped by the app's lifespan; when it cannot go on (another chain, a reorg too deep) the daemon stops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

from web3 import Web3
from web3.contract.base_contract import BaseContractEvent

from services.common.serve import stop_daemon
from services.common.store import SqliteStore
from zerog.follower import ChainFollower, Cursor, EventFollower, Handler, Rollback


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
        self._attach(
            EventFollower(
                w3,
                store.conn,
                name,
                events,
                handle,
                rollback,
                start_block=start_block,
                confirmations=confirmations,
                lock=store.lock,
                resync=resync,
                after_poll=after_poll,
            ),
            poll_interval,
        )

    @classmethod
    def running_follower(cls, follower: ChainFollower, poll_interval: float) -> Self:
        """A daemon follower over any ChainFollower built on the daemon's store (its `lock`)."""
        self = cls.__new__(cls)
        self._attach(follower, poll_interval)
        return self

    def _attach(self, follower: ChainFollower, poll_interval: float) -> None:
        self.follower = follower
        self.lock = follower.lock
        self.start_block = follower.start_block
        self.poll_interval = poll_interval

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
    def unreachable(self) -> bool:
        """Whether the chain node did not answer the last poll."""
        return self.follower.unreachable

    @property
    def failed(self) -> str | None:
        """Why the follower stopped for good (another chain, a reorg deeper than the kept checkpoints), if it did."""
        return getattr(self.follower, "failed", None)

    def start(self) -> None:
        self.follower.start(self.poll_interval, on_stopped=stop_daemon)

    def stop(self) -> None:
        self.follower.stop()
