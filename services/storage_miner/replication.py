"""Replication (0G's auto-sync): a background thread that fetches from peer nodes the segments of this node's shard
it lacks, so that a node that joins late ends up holding its shard.

Every round it takes the submissions synced from the chain that are not finalized here, asks the peers whose shard
overlaps this node's which of those they hold finalized (and not pruned, under the same root, size and position),
and fetches the missing segments with their proofs (`zgs_downloadSegmentWithProofByTxSeq`, a JSON-RPC batch per
call) from a peer whose shard holds them. A fetched segment passes exactly the checks an uploaded one passes, against
the submission this node synced from the chain (segments.verify), and goes into the store as an upload does
(finalization, mining data, uploadedSegNum follow). A peer that serves a bad segment is skipped for that file and
left alone for BAD_PEER_SECONDS; nothing it sent is stored.

The store is the progress: a segment stored is never fetched again, after a restart too. Fetches are rate-limited
(ZG_STORAGE_REPLICATION_RATE, a token bucket). Peers: the indexer's nodes (ZG_STORAGE_INDEXER_URL) and a static list
(ZG_STORAGE_PEERS), without this node itself (ZG_STORAGE_URL).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from services.common.jsonrpc import RpcError as InvalidSegmentError
from services.common.jsonrpc import invalid_params
from services.storage_miner.config import StorageNodeSettings, peer_urls, public_url
from services.storage_miner.flow import ShardConfig, first_segment
from services.storage_miner.segments import parse_segment, verify
from services.storage_miner.store import NodeStore, TxDroppedError, TxRecord
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_SIZE
from zerog.storage.rpc import IndexerClient, RpcError, StorageNodeClient

log = logging.getLogger(__name__)

#: A peer that does not answer within this long is skipped for the round.
PEER_TIMEOUT_SECONDS = 10
#: Segments per JSON-RPC batch request (fewer at a low rate), and batch requests in flight: fetching, checking and
#: storing (fsync) overlap.
BATCH_SEGMENTS = 8
FETCH_THREADS = 4
#: Submissions asked about per FileInfo batch request.
INFO_BATCH = 256
#: How long a peer that served a bad segment is not asked again.
BAD_PEER_SECONDS = 60
JOIN_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class ReplicationConfig:
    self_url: str
    peers: tuple[str, ...]
    indexer_url: str | None
    rate: int  # bytes per second, 0: unlimited
    interval: float

    @classmethod
    def resolve(cls, settings: StorageNodeSettings) -> ReplicationConfig | None:
        """The replication settings, or None when it is off (turned off, or no peers nor indexer configured)."""
        peers, indexer = tuple(peer_urls(settings)), settings.storage_indexer_url
        if not settings.storage_replication or not (peers or indexer):
            return None
        rate, interval = settings.storage_replication_rate, settings.storage_replication_interval
        return cls(public_url(settings), peers, indexer.rstrip("/") if indexer else None, rate, interval)


@dataclass(frozen=True)
class Peer:
    url: str
    shard: ShardConfig


class TokenBucket:
    """`rate` bytes per second with a burst of one second's worth (0: unlimited). A take larger than what is left
    goes into debt, paid by waiting, so any size passes."""

    def __init__(self, rate: int, stop: threading.Event) -> None:
        self.rate = rate
        self._stop = stop
        self._tokens = 0.0  # no burst at the start: a fresh node keeps to the rate from its first byte
        self._at = time.monotonic()

    def take(self, amount: int) -> bool:
        """Wait until `amount` bytes may go; False if stopped meanwhile."""
        if self.rate:
            now = time.monotonic()
            self._tokens = min(float(self.rate), self._tokens + (now - self._at) * self.rate) - amount
            self._at = now
            if self._tokens < 0:
                return not self._stop.wait(-self._tokens / self.rate)
        return not self._stop.is_set()


class Replicator:
    """The replication thread over the node's store; `start()`/`stop()` with the node's runtime."""

    def __init__(self, config: ReplicationConfig, store: NodeStore, shard: ShardConfig) -> None:
        self.config = config
        self.store = store
        self.shard = shard
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._bucket = TokenBucket(config.rate, self._stop)
        # A batch is at most a quarter second's worth, so that a low rate still flows evenly.
        per_quarter = config.rate // (4 * SEGMENT_SIZE)
        self._batch = max(1, min(BATCH_SEGMENTS, per_quarter)) if config.rate else BATCH_SEGMENTS
        self._clients: dict[str, StorageNodeClient] = {}
        self._pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="storage-replication-fetch")
        self._indexer = IndexerClient(config.indexer_url, PEER_TIMEOUT_SECONDS) if config.indexer_url else None
        self._thread: threading.Thread | None = None
        # Peers that served bad data: until when they are left alone. Peers down: logged once per outage.
        self._banned: dict[str, float] = {}
        self._down: set[str] = set()
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"peers": 0, "pendingFiles": 0, "segments": 0, "bytes": 0, "rejected": 0}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="storage-replication", daemon=True)
        self._thread.start()
        sources = [*self.config.peers, *([f"the indexer at {self.config.indexer_url}"] if self._indexer else [])]
        rate = f"{self.config.rate / 2**20:.1f} MiB/s" if self.config.rate else "unlimited"
        log.info("replication on: peers from %s, %s, this node is %s", ", ".join(sources), rate, self.config.self_url)

    def notify(self) -> None:
        """New submissions were synced: look for them now rather than after the interval."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                log.warning("replication did not stop within %d s", JOIN_TIMEOUT_SECONDS)
            self._thread = None
        self._pool.shutdown(wait=False, cancel_futures=True)
        for client in [*self._clients.values(), *([self._indexer] if self._indexer else [])]:
            client.close()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"enabled": True, "rate": self.config.rate, **self._status}

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for key, amount in amounts.items():
                self._status[key] += amount

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stored = self.replicate_once()
            except Exception:
                log.exception("replication round failed, retrying")
                stored = 0
            if not stored:  # nothing to do for now; after progress, look again at once
                self._wake.wait(self.config.interval)
            self._wake.clear()

    # ------------------------------------------------------------ peers

    def _client(self, url: str) -> StorageNodeClient:
        if url not in self._clients:
            self._clients[url] = StorageNodeClient(url, PEER_TIMEOUT_SECONDS)
        return self._clients[url]

    def _reachable(self, url: str, call: Callable[[], Any]) -> Any:
        """`call`'s answer, or None (logged once per outage) when `url` does not answer."""
        try:
            answer = call()
        except RpcError as exc:
            if url not in self._down:
                log.warning("replication: %s does not answer (%s)", url, exc)
                self._down.add(url)
            return None
        if url in self._down:
            log.info("replication: %s answers again", url)
            self._down.discard(url)
        return answer

    def peers(self) -> list[Peer]:
        """The peers now: the indexer's nodes and the static ones that answer, with their shards, not this node."""
        listed: dict[str, Any] = dict.fromkeys(self.config.peers)
        if self._indexer is not None:
            listing = self._reachable(self._indexer.url, self._indexer.sharded_nodes)
            listing = listing if isinstance(listing, dict) else {}
            for node in [*(listing.get("trusted") or []), *(listing.get("discovered") or [])]:
                if isinstance(node, dict) and isinstance(node.get("url"), str):
                    listed[node["url"].rstrip("/")] = node.get("config")
        peers = []
        for url, config in listed.items():
            if url == self.config.self_url:
                continue
            if config is None:
                config = self._reachable(url, self._client(url).shard_config)
            shard = _shard(config)
            if shard is not None:
                peers.append(Peer(url, shard))
        return peers

    # ------------------------------------------------------------ rounds

    def replicate_once(self) -> int:
        """One look at what is missing and who has it; returns the segments stored."""
        txs = self.store.open_txs()
        with self._lock:
            self._status.update(pendingFiles=len(txs))
        if not txs:
            return 0
        peers = [p for p in self.peers() if p.shard.overlaps(self.shard) and not self._is_banned(p)]
        with self._lock:
            self._status.update(peers=len(peers))
        if not peers:
            return 0
        finalized = {peer.url: self._finalized(peer, txs) for peer in peers}
        stored = 0
        for tx in txs:
            if self._stop.is_set():
                break
            holders = [peer for peer in peers if tx.seq in finalized[peer.url] and not self._is_banned(peer)]
            if holders:
                stored += self._replicate(tx, holders)
        return stored

    def _finalized(self, peer: Peer, txs: list[TxRecord]) -> set[int]:
        """Seqs of `txs` that `peer` holds finalized, unpruned, as the same submission (root, size, position)."""
        held: set[int] = set()
        client = self._client(peer.url)
        for i in range(0, len(txs), INFO_BATCH):
            batch = txs[i : i + INFO_BATCH]
            infos = self._reachable(peer.url, lambda b=batch: client.file_infos_by_tx_seq([tx.seq for tx in b]))
            if infos is None:
                break
            held.update(tx.seq for tx, info in zip(batch, infos, strict=True) if _serves(info, tx))
        return held

    def _replicate(self, tx: TxRecord, holders: list[Peer]) -> int:
        """Fetch the missing segments of `tx` from `holders`, in batches from a peer of their shard, FETCH_THREADS
        batches in flight; a peer that fails is dropped for this file and its segments asked of the others.
        Returns the segments stored."""
        first = first_segment(tx.start_entry)
        missing = self.store.missing_segments(tx)
        stored = 0
        while missing and holders and not self._stop.is_set():
            assigned: dict[str, list[int]] = {}
            for i in missing:
                peer = next((p for p in holders if p.shard.holds(first + i)), None)
                if peer is not None:
                    assigned.setdefault(peer.url, []).append(i)
            if not assigned:
                break  # the peers left hold none of the missing segments
            peers = {p.url: p for p in holders}
            queue = deque(
                (peers[url], indices[i : i + self._batch])
                for url, indices in assigned.items()
                for i in range(0, len(indices), self._batch)
            )
            failed: set[str] = set()
            in_flight: dict[Future[tuple[set[int] | None, bool]], Peer] = {}
            dropped = False
            while queue or in_flight:
                while queue and len(in_flight) < FETCH_THREADS and not dropped:
                    peer, batch = queue.popleft()
                    if peer.url in failed:
                        continue
                    if not self._bucket.take(sum(tx.layout.segment_chunks(i) * CHUNK_SIZE for i in batch)):
                        queue.clear()  # stopping
                        break
                    in_flight[self._pool.submit(self._fetch, tx, peer, batch)] = peer
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    peer = in_flight.pop(future)
                    done, ok = future.result()
                    dropped = dropped or done is None
                    stored += len(done or ())
                    if not ok:
                        failed.add(peer.url)
            if dropped:
                return stored  # the submission is gone (reorg)
            missing = self.store.missing_segments(tx)
            if not failed:
                break  # every batch was stored (or the node stops)
            holders = [p for p in holders if p.url not in failed]
        if stored:
            left = len(self.store.missing_segments(tx))
            log.info(
                "replicated %d segments of tx %d (root %s) from peers: %s", stored, tx.seq, tx.root,
                "finalized" if not left else f"{left} of this shard still missing",
            )  # fmt: skip
        return stored

    def _fetch(self, tx: TxRecord, peer: Peer, batch: list[int]) -> tuple[set[int] | None, bool]:
        """Fetch, check and store segments `batch` of `tx` from `peer`: (indices stored, whether the peer served
        them all); (None, _) if the submission was dropped meanwhile."""
        client = self._client(peer.url)
        answers = self._reachable(peer.url, lambda: client.download_segments_with_proof_by_tx_seq(tx.seq, batch))
        if answers is None:
            return set(), False
        done: set[int] = set()
        for index, answer in zip(batch, answers, strict=True):
            if isinstance(answer, RpcError) or answer is None:
                log.warning("replication: %s does not serve segment %d of tx %d (%s)", peer.url, index, tx.seq, answer)
                return done, False
            try:
                segment = parse_segment(answer, "segment")
                if segment.index != index:
                    raise invalid_params("index", f"asked for segment {index}, got segment {segment.index}")
                seg_root = verify(tx, segment, self.shard)
            except InvalidSegmentError as exc:
                self._reject(peer, tx, index, exc)
                return done, False
            try:
                self.store.write_segment(tx, index, segment.data, seg_root, segment.proof.to_json())
            except TxDroppedError:
                log.info("replication: tx %d was dropped by a chain reorg", tx.seq)
                return None, True
            done.add(index)
            self._count(segments=1, bytes=len(segment.data))
        return done, True

    def _is_banned(self, peer: Peer) -> bool:
        return self._banned.get(peer.url, 0) > time.monotonic()

    def _reject(self, peer: Peer, tx: TxRecord, index: int, exc: InvalidSegmentError) -> None:
        self._banned[peer.url] = time.monotonic() + BAD_PEER_SECONDS
        self._count(rejected=1)
        log.warning(
            "replication: %s served a bad segment %d of tx %d (%s): nothing stored from it, not asking it again "
            "for %d s", peer.url, index, tx.seq, exc.data or exc.message, BAD_PEER_SECONDS,
        )  # fmt: skip


def _shard(config: Any) -> ShardConfig | None:
    """The shard of a `zgs_getShardConfig` answer, if it is a valid one."""
    if not isinstance(config, dict):
        return None
    shard_id, num_shard = config.get("shardId"), config.get("numShard")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (shard_id, num_shard)):
        return None
    shard = ShardConfig(shard_id, num_shard)
    return None if shard.problem() else shard


def _serves(info: Any, tx: TxRecord) -> bool:
    """Whether a peer's FileInfo says it holds `tx` finalized and unpruned, as the submission this node synced."""
    if not isinstance(info, dict) or info.get("finalized") is not True or info.get("pruned"):
        return False
    peer_tx = info.get("tx") or {}
    return (peer_tx.get("dataMerkleRoot"), peer_tx.get("size"), peer_tx.get("startEntryIndex")) == (
        tx.root,
        tx.size,
        tx.start_entry,
    )
