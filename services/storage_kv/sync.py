"""Background threads of the KV node: the follower that records the Flow's KV transactions (Submit logs whose tags
mark streams), and the replayer that fetches each one's data and applies it, strictly in tx-seq order."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from web3 import Web3
from web3.types import EventData

from services.common.follower import DaemonFollower
from services.storage_kv.store import KvStore, KvTx, too_large
from zerog.storage.client import download, nodes_from_indexer
from zerog.storage.kv import tagged_streams
from zerog.storage.merkle import root_from_submission_nodes

log = logging.getLogger(__name__)

FOLLOWER_NAME = "kv-flow-submit"
#: Backoff between attempts to fetch a transaction's data: from the first to the last, doubling.
FIRST_RETRY_SECONDS = 0.2
LAST_RETRY_SECONDS = 5.0


class KvFollower(DaemonFollower):
    def __init__(
        self, w3: Web3, flow_address: str, flow_abi: list, store: KvStore, held: set[bytes] | None, *,
        start_block: int, confirmations: int, poll_interval: float, resync: bool = False,
    ) -> None:  # fmt: skip
        self.store, self.held = store, held
        contract = w3.eth.contract(address=flow_address, abi=flow_abi)
        super().__init__(
            w3, store, FOLLOWER_NAME, [contract.events.Submit], self._handle, store.rollback,
            start_block=start_block, confirmations=confirmations, poll_interval=poll_interval, resync=resync,
        )  # fmt: skip

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        seq = int(args["submissionIndex"])
        self.store.saw_seq(conn, seq)
        data = args["submission"]
        streams = tagged_streams(bytes(data["tags"]))
        # As the official node: a transaction is kept only if the node holds every stream it touches.
        if not streams or not data["nodes"] or (self.held is not None and not set(streams) <= self.held):
            return
        nodes = [(bytes(n["root"]), int(n["height"])) for n in data["nodes"]]
        sender = bytes.fromhex(str(args["sender"]).removeprefix("0x"))
        tx = KvTx(seq, int(event["blockNumber"]), root_from_submission_nodes(nodes), int(data["length"]), sender,
                  tuple(streams))  # fmt: skip
        self.store.add_tx(conn, tx)
        log.info("KV tx %d: %d bytes, streams %s", seq, tx.size, ", ".join("0x" + s.hex() for s in streams))


class Replayer:
    """Fetches the oldest unreplayed transaction's data from the storage nodes (through the indexer, every segment
    proof-checked against the root the chain logged) and applies it. Data that cannot be fetched is retried with
    backoff for `fetch_timeout` seconds, then recorded as DownloadFailed; data over `max_blob_bytes` is never
    fetched (it would be held in memory) and recorded as a parse error: either way later transactions go on."""

    def __init__(
        self, store: KvStore, held: set[bytes] | None, indexer_url: str, work_dir: Path, fetch_timeout: float,
        poll_interval: float, max_blob_bytes: int,
    ) -> None:  # fmt: skip
        self.store, self.held, self.indexer_url = store, held, indexer_url
        self.work_dir, self.fetch_timeout, self.poll_interval = work_dir, fetch_timeout, poll_interval
        self.max_blob_bytes = max_blob_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kv-replayer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.replay_next()
            except Exception:  # a store failure (disk full...): logged, retried, the thread lives on
                log.exception("KV replay failed; retrying")
                busy = False
            if not busy:
                self._stop.wait(self.poll_interval)

    def replay_next(self) -> bool:
        """Replay the oldest pending transaction; False when there is none."""
        tx = self.store.next_pending()
        if tx is None:
            return False
        if tx.size > self.max_blob_bytes:  # the size the chain logged: known before any download
            result = self.store.skip(tx, too_large(tx.size, self.max_blob_bytes))
        else:
            blob = self.fetch(tx)
            result = None if self._stop.is_set() else self.store.apply(tx, blob, self.held)
        if result is not None:
            log.info("KV tx %d: %s", tx.seq, result)
        return True

    def fetch(self, tx: KvTx) -> bytes | None:
        deadline = time.monotonic() + self.fetch_timeout
        wait, problem = FIRST_RETRY_SECONDS, ""
        while not self._stop.is_set():
            try:
                return self._download(tx)
            except Exception as exc:  # any failure (no node, not finalized, bad proof) is worth another try
                if str(exc) != problem:
                    problem = str(exc)
                    log.info("KV tx %d: data not available yet (%s)", tx.seq, problem)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("KV tx %d: no data after %.0fs, skipped (%s)", tx.seq, self.fetch_timeout, problem)
                return None
            self._stop.wait(min(wait, remaining))
            wait = min(wait * 2, LAST_RETRY_SECONDS)
        return None

    def _download(self, tx: KvTx) -> bytes:
        nodes = nodes_from_indexer(self.indexer_url)
        try:
            with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
                out = Path(tmp) / "blob"
                # Only the size the chain logged: a node's file info claiming more never makes us fetch or hold more.
                download("0x" + tx.root.hex(), out, nodes, length=tx.size)
                return out.read_bytes()
        finally:
            for node in nodes:
                node.client.close()
