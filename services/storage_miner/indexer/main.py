"""The indexer app: `create_app(settings)` on the daemon platform; JSON-RPC at POST / (`indexer_*`), GET /health."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.app import create_daemon_app
from services.common.errors import JsonRpcErrors
from services.common.guard import BodyLimits
from services.common.jsonrpc import Dispatcher, Param, parse_hash, serve_http
from services.common.serve import DaemonEntry
from services.storage_miner.indexer.config import IndexerSettings, indexer_db_path
from services.storage_miner.indexer.directory import NodeDirectory
from services.storage_miner.indexer.joining import Joining, JoinNetwork, refused
from services.storage_miner.indexer.store import JoinedStore
from zerog.chain import Deployment
from zerog.config import get_settings
from zerog.errors import ConfigError, ZeroGError
from zerog.storage.contracts import FLOW

log = logging.getLogger(__name__)

#: Indexer calls are small: no segment data goes through the indexer.
MAX_BODY_BYTES = 1024 * 1024


def join_network(settings: IndexerSettings) -> tuple[JoinNetwork | None, str]:
    """The chain id and Flow address joining nodes are checked against, or None and why nodes cannot join."""
    if not settings.indexer_join:
        return None, "joining is off (ZG_INDEXER_JOIN)"
    try:
        deployment = Deployment.for_settings(settings)
        return JoinNetwork(deployment.chain_id, deployment.address(FLOW)), ""
    except ZeroGError as exc:
        return None, f"it knows no Flow contract to check nodes against: {exc.message}"


def indexer_dispatcher(directory: NodeDirectory, announce: Callable[[Any], None]) -> Dispatcher:
    d = Dispatcher()
    d.add("indexer_getShardedNodes", directory.sharded_nodes)
    d.add("indexer_getNodeLocations", directory.node_locations)
    d.add(
        "indexer_getFileLocations",
        lambda root: directory.file_locations("0x" + root.hex()),
        Param("root", parse_hash),
    )
    # Not an official indexer method: storage nodes join with it (indexer/joining.py).
    d.add("indexer_announce", announce, Param("announcement", lambda value, name: value))
    return d


class IndexerRuntime:
    """The node directory, and (joining on) the store of the nodes that joined."""

    def __init__(self, settings: IndexerSettings) -> None:
        self.settings = settings
        self.network, self.not_joining = join_network(settings)
        self.directory = NodeDirectory(settings.indexer_node_urls, grace_seconds=settings.indexer_join_grace_seconds)
        self._store: JoinedStore | None = None
        self.joining: Joining | None = None
        if self.network is not None:
            self.joining = Joining(
                self.network,
                self.store,
                settings.indexer_join_host_patterns,
                settings.indexer_join_window_seconds,
                self.directory.joined_changed,
            )
        self.dispatcher = indexer_dispatcher(self.directory, self.announce)

    def store(self) -> JoinedStore:
        if self._store is None:
            raise RuntimeError("the indexer is not running (app lifespan not started)")
        return self._store

    def announce(self, announcement: Any) -> None:
        if self.joining is None:
            raise refused(f"this indexer does not let nodes join: {self.not_joining}")
        self.joining.announce(announcement)

    def open(self) -> None:
        if self.network is None:
            log.info("storage nodes cannot join: %s", self.not_joining)
            return
        self._store = JoinedStore.open_for(indexer_db_path(self.settings), self.network.key)
        self.directory.joined = self._store
        log.info(
            "storage nodes may join from hosts %s (chain %d, Flow %s); %d joined before",
            ",".join(self.settings.indexer_join_host_patterns), self.network.chain_id, self.network.flow,
            self._store.count(),
        )  # fmt: skip

    def close(self) -> None:
        self.directory.close()
        self.directory.joined = None
        if self._store is not None:
            self._store.close()
            self._store = None


router = APIRouter()


@router.post("/", tags=["json-rpc"])
async def json_rpc(request: Request) -> Response:
    return await serve_http(request, request.app.state.runtime.dispatcher)


@router.get("/health", tags=["health"])
async def health(request: Request) -> dict[str, Any]:
    nodes = await run_in_threadpool(request.app.state.runtime.directory.status)
    up = sum(n["reachable"] for n in nodes)
    return {"status": "ok" if up else "degraded", "nodes": nodes}


def create_app(settings: IndexerSettings | None = None) -> FastAPI:
    settings = settings or get_settings(IndexerSettings)
    runtime = IndexerRuntime(settings)
    if not settings.indexer_node_urls and runtime.network is None:
        raise ConfigError(
            "the indexer knows no storage nodes: set ZG_INDEXER_NODES (comma-separated URLs), "
            f"or let nodes join (they cannot: {runtime.not_joining})"
        )
    return create_daemon_app(
        title="0G storage indexer",
        summary="Lists the storage nodes, their shards, and which of them hold a file.",
        settings=settings,
        runtime=runtime,
        routers=[router],
        dialect=JsonRpcErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
    )


DAEMON = DaemonEntry("storage indexer", IndexerSettings, "indexer", create_app)
