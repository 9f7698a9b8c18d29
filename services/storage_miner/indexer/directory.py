"""The indexer's view of the storage nodes: those it is configured with (`ZG_INDEXER_NODES`, static) and those that
joined it (indexer/joining.py, kept in the indexer's store).

Nodes are asked for their shard config in parallel; answers are cached for `CACHE_SECONDS`, so the
SDK's calls do not each fan out to every node. A node that does not answer, or answers with an
invalid shard config, is left out of the listing (and logged once per outage). A joined node that has not
answered for the grace period is forgotten (removed from the store); a static one stays configured.

Joined nodes are listed as "trusted", like the static ones: the official TS SDK selects upload nodes from
`trusted` only (Indexer.selectNodes), and a joined node has proven its URL, account, chain, Flow and shard config.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from services.storage_miner.indexer.store import JoinedStore
from zerog.storage.rpc import RpcError, StorageNodeClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 2.0
NODE_TIMEOUT_SECONDS = 5.0
#: Longest answer read from a node (joined nodes are anyone's; the indexer asks only for small answers).
NODE_MAX_REPLY_BYTES = 1024 * 1024
#: Nodes probed at once.
PROBE_THREADS = 16
#: What `indexer_getNodeLocations` says about a node on this machine or network (no geo lookup).
LOCAL_LOCATION = {"city": "local", "region": "local", "country": "local", "loc": "", "timezone": ""}


@dataclass(frozen=True)
class ShardedNode:
    url: str
    shard_id: int
    num_shard: int
    latency_ms: int
    since: int

    def to_json(self) -> dict[str, Any]:
        config = {"shardId": self.shard_id, "numShard": self.num_shard}
        return {"url": self.url, "config": config, "latency": self.latency_ms, "since": self.since}

    def holds(self, global_segment: int) -> bool:
        return global_segment % self.num_shard == self.shard_id


def valid_config(config: Any) -> tuple[int, int] | None:
    """(shardId, numShard) if `config` is what the SDK's isValidConfig accepts."""
    if not isinstance(config, dict):
        return None
    shard_id, num_shard = config.get("shardId"), config.get("numShard")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (shard_id, num_shard)):
        return None
    if num_shard < 1 or num_shard & (num_shard - 1) or not 0 <= shard_id < num_shard:
        return None
    return shard_id, num_shard


class NodeDirectory:
    def __init__(
        self, urls: list[str], cache_seconds: float = CACHE_SECONDS, grace_seconds: float = float("inf")
    ) -> None:
        self.static_urls = urls
        self.cache_seconds = cache_seconds
        self.grace_seconds = grace_seconds
        #: The nodes that joined; set while the indexer runs with joining on.
        self.joined: JoinedStore | None = None
        self._clients: dict[str, StorageNodeClient] = {}
        self._pool = ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="indexer-node")
        # One listing at a time (the others wait for its answer); the clients have their own lock (probes take it).
        self._lock = threading.Lock()
        self._clients_lock = threading.Lock()
        self._cached: tuple[float, list[ShardedNode]] | None = None
        self._up_since: dict[str, int] = {}
        #: When each node that does not answer stopped answering (monotonic seconds).
        self._down_since: dict[str, float] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._clients_lock:
            for client in self._clients.values():
                client.close()

    @property
    def urls(self) -> list[str]:
        """Static nodes, then those that joined, in the order they joined."""
        joined = [n.url for n in self.joined.nodes()] if self.joined is not None else []
        return self.static_urls + [url for url in joined if url not in self.static_urls]

    def _client(self, url: str) -> StorageNodeClient:
        with self._clients_lock:
            if url not in self._clients:
                self._clients[url] = StorageNodeClient(url, NODE_TIMEOUT_SECONDS, NODE_MAX_REPLY_BYTES)
            return self._clients[url]

    def joined_changed(self) -> None:
        """A node joined (or announced itself again): list it from the next call on. Without the listing lock: an
        announcement does not wait for a listing in progress."""
        self._cached = None

    # ------------------------------------------------------------ nodes

    def _probe(self, url: str) -> ShardedNode | None:
        started = time.monotonic()
        try:
            config = valid_config(self._client(url).shard_config())
            if config is None:
                raise RpcError(url, "zgs_getShardConfig", "invalid shard config (numShard: a power of two > shardId)")
        except RpcError as exc:
            if url not in self._down_since:
                log.warning("storage node %s left out: %s", url, exc)
            self._down_since.setdefault(url, time.monotonic())
            self._up_since.pop(url, None)
            return None
        if self._down_since.pop(url, None) is not None:
            log.info("storage node %s answers again", url)
        since = self._up_since.setdefault(url, int(time.time()))
        return ShardedNode(url, config[0], config[1], round((time.monotonic() - started) * 1000), since)

    def _forget_gone(self) -> None:
        """Remove the joined nodes that have not answered for the grace period."""
        if self.joined is None:
            return
        now = time.monotonic()
        for url, down_since in list(self._down_since.items()):
            if url not in self.static_urls and now - down_since >= self.grace_seconds:
                self.joined.remove(url)
                self._down_since.pop(url, None)
                with self._clients_lock:
                    client = self._clients.pop(url, None)
                if client is not None:
                    client.close()
                log.info("storage node %s forgotten: no answer for %.0f s", url, now - down_since)

    def nodes(self) -> list[ShardedNode]:
        """The nodes that answer with a valid shard config: static ones first, in configuration order."""
        with self._lock:
            cached = self._cached
            if cached and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
            found = [node for node in self._pool.map(self._probe, self.urls) if node is not None]
            self._forget_gone()
            self._cached = (time.monotonic(), found)
            return found

    def status(self) -> list[dict[str, Any]]:
        up = {node.url for node in self.nodes()}
        return [{"url": url, "reachable": url in up, "joined": url not in self.static_urls} for url in self.urls]

    # ------------------------------------------------------------ methods

    def sharded_nodes(self) -> dict[str, Any]:
        return {"trusted": [node.to_json() for node in self.nodes()], "discovered": []}

    def node_locations(self) -> dict[str, Any]:
        hosts = {urlparse(url).hostname or url for url in self.urls}
        return {host: dict(LOCAL_LOCATION) for host in sorted(hosts)}

    def file_locations(self, root: str) -> list[dict[str, Any]] | None:
        """The nodes holding `root` finalized, if together they hold every segment of it; else null (the
        SDK then reports "no locations found" cleanly, and the Go indexer answers null as well)."""
        nodes = self.nodes()

        def ask(node: ShardedNode) -> dict[str, Any] | None:
            try:
                info = self._client(node.url).file_info(root, True)
            except RpcError:
                return None
            return info if isinstance(info, dict) else None

        infos = list(self._pool.map(ask, nodes))
        holders = [(n, i) for n, i in zip(nodes, infos, strict=True) if i and i.get("finalized") is True]
        if not holders:
            return None
        tx = holders[0][1].get("tx") or {}
        try:
            first = int(tx["startEntryIndex"]) // 1024
            segments = -(-int(tx["size"]) // (1024 * 256))
        except (KeyError, TypeError, ValueError):
            return None
        missing = [g for g in range(first, first + segments) if not any(n.holds(g) for n, _ in holders)]
        if missing:
            log.info("file %s: no finalized copy of flow segments %s among the nodes", root, missing[:8])
            return None
        return [node.to_json() for node, _ in holders]
