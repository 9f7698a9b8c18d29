"""The indexer's view of the storage nodes it is configured with (`ZG_INDEXER_NODES`).

Nodes are asked for their shard config in parallel; answers are cached for `CACHE_SECONDS`, so the
SDK's calls do not each fan out to every node. A node that does not answer, or answers with an
invalid shard config, is left out of the listing (and logged once per outage).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from zerog.storage.rpc import RpcError, StorageNodeClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 2.0
NODE_TIMEOUT_SECONDS = 5.0
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
    def __init__(self, urls: list[str], cache_seconds: float = CACHE_SECONDS) -> None:
        self.urls = urls
        self.cache_seconds = cache_seconds
        self._clients = {url: StorageNodeClient(url, NODE_TIMEOUT_SECONDS) for url in urls}
        self._pool = ThreadPoolExecutor(max(1, min(16, len(urls))), thread_name_prefix="indexer-node")
        self._lock = threading.Lock()
        self._cached: tuple[float, list[ShardedNode]] | None = None
        self._up_since: dict[str, int] = {}
        self._down: set[str] = set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()

    # ------------------------------------------------------------ nodes

    def _probe(self, url: str) -> ShardedNode | None:
        started = time.monotonic()
        try:
            config = valid_config(self._clients[url].shard_config())
            if config is None:
                raise RpcError(url, "zgs_getShardConfig", "invalid shard config (numShard: a power of two > shardId)")
        except RpcError as exc:
            if url not in self._down:
                log.warning("storage node %s left out: %s", url, exc)
            self._down.add(url)
            self._up_since.pop(url, None)
            return None
        if url in self._down:
            log.info("storage node %s answers again", url)
            self._down.discard(url)
        since = self._up_since.setdefault(url, int(time.time()))
        return ShardedNode(url, config[0], config[1], round((time.monotonic() - started) * 1000), since)

    def nodes(self) -> list[ShardedNode]:
        """The configured nodes that answer with a valid shard config, in configuration order."""
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            found = [node for node in self._pool.map(self._probe, self.urls) if node is not None]
            self._cached = (time.monotonic(), found)
            return found

    def status(self) -> list[dict[str, Any]]:
        up = {node.url for node in self.nodes()}
        return [{"url": url, "reachable": url in up} for url in self.urls]

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
                info = self._clients[node.url].file_info(root, True)
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
