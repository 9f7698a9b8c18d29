"""The event follower every daemon uses: durable cursor, confirmations, reorg detection and rollback.

Handlers write their effects into the follower's SQLite database through the connection they are given,
in the same transaction that advances the cursor, so a crash never applies a log twice or loses one.
On a reorg (a stored block hash no longer matches the chain) the follower walks back to the newest
block that still matches, asks the handler to roll back everything above it, and rescans from there.

Only a definite answer from a reachable node counts as a reorg: a different hash, or "no such block". A node
that does not answer (refused connection, timeout, a frozen process) is an outage: the call raises, the run loop
logs it once, backs off and retries, and nothing is rolled back. A chain that is not the one the data came from
(another genesis block, or none of the kept checkpoints left on it: a wiped dev chain) stops the follower with
ChainReplacedError, deleting nothing, unless it was started with `resync` (ZG_RESYNC=true), which drops what was
synced from the old chain and starts over.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.contract.base_contract import BaseContractEvent
from web3.exceptions import BlockNotFound, ProviderConnectionError
from web3.types import EventData, LogReceipt

log = logging.getLogger(__name__)

#: Checkpoint rows (block number + hash) kept per follower for walking back on a reorg.
CHECKPOINTS_KEPT = 512
DEFAULT_BATCH_BLOCKS = 2_000
THREAD_JOIN_SECONDS = 10

Handler = Callable[[sqlite3.Connection, EventData], None]
Rollback = Callable[[sqlite3.Connection, int], None]


def open_store(path: Path) -> sqlite3.Connection:
    """A SQLite connection in WAL mode, safe to share with a web server thread (serialized by us)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    return conn


_SCHEMA = """
CREATE TABLE IF NOT EXISTS follower_cursor (
    name TEXT PRIMARY KEY, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS follower_checkpoint (
    name TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
    PRIMARY KEY (name, block_number)
);
CREATE TABLE IF NOT EXISTS follower_chain (name TEXT PRIMARY KEY, genesis_hash TEXT NOT NULL);
"""

#: How to start over on a chain that replaced the one the data came from (in every stop message).
RESYNC_HINT = (
    "if the chain was reset on purpose, restart with ZG_RESYNC=true to drop what was synced "
    "from the old chain and sync again; otherwise point ZG_RPC_URL at the chain this data came from"
)


@dataclass(frozen=True)
class Cursor:
    block_number: int
    block_hash: str


class FollowerStoppedError(RuntimeError):
    """The follower cannot go on by itself; nothing was rolled back (the message says what to do)."""


class ReorgTooDeepError(FollowerStoppedError):
    """No stored checkpoint matches the chain any more."""


class ChainReplacedError(FollowerStoppedError):
    """The node serves another chain than the one the stored data came from."""


class ChainFollower:
    """Follows the chain `confirmations` blocks behind the head, a range of blocks at a time: `fetch` reads what a
    range holds from the node, `apply` writes it in the transaction that advances the cursor. Subclasses give both;
    the cursor, checkpoints, reorg walk-back, outage handling and the run loop are shared."""

    def __init__(
        self,
        w3: Web3,
        conn: sqlite3.Connection,
        name: str,
        rollback: Rollback,
        *,
        start_block: int = 0,
        confirmations: int = 0,
        batch_blocks: int = DEFAULT_BATCH_BLOCKS,
        lock: threading.Lock | None = None,
        resync: bool = False,
        after_poll: Callable[[], None] | None = None,
    ) -> None:
        self.w3 = w3
        self.conn = conn
        self.name = name
        self.rollback = rollback
        self.start_block = start_block
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.resync = resync
        # Called after each poll, committed or not (e.g. to delete files of rolled-back rows outside the transaction).
        self.after_poll = after_poll
        self._genesis_checked = False
        # Whether the last poll left confirmed blocks to do (the run loop then polls again at once).
        self.behind = False
        # The chain head the last poll saw (None before the first).
        self.head: int | None = None
        # True while the node does not answer (the run loop's outage state; a page can show it).
        self.unreachable = False
        # Shared with whoever else writes to `conn` (e.g. an API thread).
        self.lock = lock or threading.Lock()
        with self.lock:
            conn.executescript(_SCHEMA)

    def fetch(self, first: int, last: int) -> Any:
        """What blocks `first`..`last` hold, read from the node (no writes), or None when the node's answer was
        inconsistent (a reorg under our feet): the range is retried."""
        raise NotImplementedError

    def apply(self, conn: sqlite3.Connection, fetched: Any) -> int:
        """Write what `fetch` returned (inside the poll's transaction; `save_checkpoint` the blocks it touched);
        returns how many items it handled."""
        raise NotImplementedError

    # ------------------------------------------------------------ state

    @property
    def cursor(self) -> Cursor | None:
        row = self.conn.execute(
            "SELECT block_number, block_hash FROM follower_cursor WHERE name = ?", (self.name,)
        ).fetchone()
        return Cursor(row[0], row[1]) if row else None

    def _checkpoints(self) -> list[Cursor]:
        rows = self.conn.execute(
            "SELECT block_number, block_hash FROM follower_checkpoint WHERE name = ? ORDER BY block_number DESC",
            (self.name,),
        ).fetchall()
        return [Cursor(r[0], r[1]) for r in rows]

    # ------------------------------------------------------------ one step

    def poll_once(self) -> int:
        """Handle the logs of the next range of confirmed blocks; returns how many were handled. Raises the
        node's error when it does not answer (nothing changed), FollowerStoppedError when it cannot go on."""
        try:
            return self._poll()
        finally:
            if self.after_poll is not None:
                self.after_poll()

    def _poll(self) -> int:
        if not self._genesis_checked:
            self._check_genesis()
            self._genesis_checked = True
        self._check_reorg()
        cursor = self.cursor
        first = cursor.block_number + 1 if cursor else self.start_block
        self.head = self.w3.eth.block_number
        safe_head = self.head - self.confirmations
        if first > safe_head:
            self.behind = False
            return 0
        last = min(safe_head, first + self.batch_blocks - 1)
        last_hash = self._block_hash(last)
        fetched = self.fetch(first, last)
        # A reorg while we fetched changes the hash of `last`: drop this batch and retry.
        if fetched is None or self._block_hash(last) != last_hash:
            return 0
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                handled = self.apply(self.conn, fetched)
                self.save_checkpoint(last, last_hash)
                self.conn.execute(
                    "INSERT INTO follower_cursor (name, block_number, block_hash) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET block_number = excluded.block_number, "
                    "block_hash = excluded.block_hash",
                    (self.name, last, last_hash),
                )
                self._prune_checkpoints()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        self.behind = last < safe_head
        return handled

    def run(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Poll until `stop` is set. A node that is down is logged once and retried; other failures are
        logged and retried; only FollowerStoppedError ends the loop."""
        self.unreachable = False
        while not stop.is_set():
            try:
                handled = self.poll_once()
            except FollowerStoppedError:
                raise
            except (OSError, ProviderConnectionError) as exc:  # requests' errors are OSErrors
                if not self.unreachable:
                    log.warning("follower %s: chain node unreachable (%s), retrying", self.name, type(exc).__name__)
                self.unreachable, handled = True, 0
            except Exception:
                log.exception("follower %s: poll failed, retrying", self.name)
                handled = 0
            else:
                if self.unreachable:
                    log.info("follower %s: chain node answers again", self.name)
                self.unreachable = False
            if not handled and not self.behind:
                stop.wait(poll_interval)

    # ------------------------------------------------------------ background thread

    def start(self, poll_interval: float = 0.5, on_stopped: Callable[[str], None] | None = None) -> None:
        """Run `run()` in a daemon thread until `stop()`. When it cannot go on (FollowerStoppedError) the reason
        is kept in `failed` and passed to `on_stopped` (a daemon exits there)."""
        self._stop = threading.Event()
        self.failed: str | None = None

        def loop() -> None:
            try:
                self.run(self._stop, poll_interval)
            except FollowerStoppedError as exc:
                self.failed = str(exc)
                log.error("follower %s stopped, nothing rolled back: %s", self.name, exc)
                if on_stopped is not None:
                    on_stopped(str(exc))

        self._thread = threading.Thread(target=loop, name=f"follower-{self.name}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        thread = getattr(self, "_thread", None)
        return thread is not None and thread.is_alive()

    def stop(self, timeout: float = THREAD_JOIN_SECONDS) -> None:
        thread = getattr(self, "_thread", None)
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("follower %s did not stop within %.0f s", self.name, timeout)
        self._thread = None

    def sync(self, timeout: float = 30) -> None:
        """Poll until caught up with the confirmed head (for tests and one-shot tools)."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll_once()
            cursor = self.cursor
            done_through = cursor.block_number if cursor else self.start_block - 1
            if done_through >= self.w3.eth.block_number - self.confirmations:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"follower {self.name} did not catch up in {timeout}s")

    # ------------------------------------------------------------ reorgs

    def _check_genesis(self) -> None:
        """Stops (or, with resync, starts over) when the node's genesis block is not the one of our data."""
        genesis = self._block_hash(0)
        row = self.conn.execute("SELECT genesis_hash FROM follower_chain WHERE name = ?", (self.name,)).fetchone()
        if row is not None and row[0] != genesis:
            self._replaced(f"the chain's genesis block is {genesis}, the synced data came from a chain with {row[0]}")
        with self.lock:
            self.conn.execute(
                "INSERT INTO follower_chain (name, genesis_hash) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET genesis_hash = excluded.genesis_hash",
                (self.name, genesis),
            )

    def _replaced(self, why: str, error: type[FollowerStoppedError] = ChainReplacedError) -> None:
        """Raise `error` naming `why`; with resync, roll back everything instead and let the caller go on."""
        if not self.resync:
            raise error(f"follower {self.name}: {why}; {RESYNC_HINT}")
        log.warning("follower %s: %s; resync: dropping everything synced and starting over", self.name, why)
        self._roll_back_to(None)

    def _check_reorg(self) -> None:
        cursor = self.cursor
        if cursor is None or self._block_hash(cursor.block_number) == cursor.block_hash:
            return
        self._check_genesis()
        if self.cursor is None:  # resync started over
            return
        checkpoints = self._checkpoints()
        ancestor = None
        for checkpoint in checkpoints:
            if self._block_hash(checkpoint.block_number) == checkpoint.block_hash:
                ancestor = checkpoint
                break
        if ancestor is None:
            oldest = checkpoints[-1].block_number if checkpoints else cursor.block_number
            if oldest > self.start_block:
                self._replaced(f"reorg deeper than block {oldest}, the oldest checkpoint kept", ReorgTooDeepError)
            else:
                self._replaced(f"none of the synced blocks from {oldest} on is on this chain")
            return
        log.warning("follower %s: reorg detected, rolling back to block %d", self.name, ancestor.block_number)
        self._roll_back_to(ancestor)

    def _roll_back_to(self, ancestor: Cursor | None) -> None:
        """Undo everything above `ancestor` (everything, when None) in one transaction."""
        keep_through = ancestor.block_number if ancestor else self.start_block - 1
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.rollback(self.conn, keep_through + 1)
                self.conn.execute(
                    "DELETE FROM follower_checkpoint WHERE name = ? AND block_number > ?", (self.name, keep_through)
                )
                if ancestor:
                    self.conn.execute(
                        "UPDATE follower_cursor SET block_number = ?, block_hash = ? WHERE name = ?",
                        (ancestor.block_number, ancestor.block_hash, self.name),
                    )
                else:
                    self.conn.execute("DELETE FROM follower_cursor WHERE name = ?", (self.name,))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def save_checkpoint(self, number: int, block_hash: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO follower_checkpoint (name, block_number, block_hash) VALUES (?, ?, ?)",
            (self.name, number, block_hash),
        )

    def _prune_checkpoints(self) -> None:
        self.conn.execute(
            "DELETE FROM follower_checkpoint WHERE name = ? AND block_number NOT IN ("
            "SELECT block_number FROM follower_checkpoint WHERE name = ? ORDER BY block_number DESC LIMIT ?)",
            (self.name, self.name, CHECKPOINTS_KEPT),
        )

    def _block_hash(self, number: int) -> str | None:
        """The hash of block `number`, None when the node says it has no such block (its chain is shorter).
        Any other failure (refused, timed out) propagates: an outage is never taken for a reorg."""
        try:
            return self.w3.eth.get_block(number)["hash"].to_0x_hex()
        except BlockNotFound:
            return None


class EventFollower(ChainFollower):
    """Follows `events` of one contract into `handle`, a log at a time."""

    def __init__(
        self,
        w3: Web3,
        conn: sqlite3.Connection,
        name: str,
        events: Sequence[type[BaseContractEvent]],
        handle: Handler,
        rollback: Rollback,
        **options: Any,
    ) -> None:
        if not events:
            raise ValueError("follow at least one event")
        super().__init__(w3, conn, name, rollback, **options)
        self.address = events[0].address
        self._events = {_topic(e): e() for e in events}
        self.handle = handle

    def fetch(self, first: int, last: int) -> list[LogReceipt]:
        logs = self.w3.eth.get_logs(
            {"address": self.address, "fromBlock": first, "toBlock": last, "topics": [list(self._events)]}
        )
        return sorted(logs, key=lambda r: (r["blockNumber"], r["logIndex"]))

    def apply(self, conn: sqlite3.Connection, fetched: list[LogReceipt]) -> int:
        for raw in fetched:
            if raw.get("removed"):
                continue
            self.handle(conn, self._events[HexBytes(raw["topics"][0])].process_log(raw))
            self.save_checkpoint(raw["blockNumber"], raw["blockHash"].to_0x_hex())
        return len(fetched)


def _topic(event: type[BaseContractEvent]) -> HexBytes:
    return HexBytes(Web3.keccak(text=event.abi_element_identifier))
