"""The indexer app: `create_app(settings)` on the daemon platform; JSON-RPC at POST / (`indexer_*`), GET /health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.app import create_daemon_app
from services.common.errors import JsonRpcErrors
from services.common.guard import BodyLimits
from services.common.jsonrpc import Dispatcher, Param, parse_hash, serve_http
from services.common.serve import DaemonEntry
from services.storage_miner.indexer.config import IndexerSettings
from services.storage_miner.indexer.directory import NodeDirectory
from zerog.config import get_settings
from zerog.errors import ConfigError

#: Indexer calls are small: no segment data goes through the indexer.
MAX_BODY_BYTES = 1024 * 1024


def indexer_dispatcher(directory: NodeDirectory) -> Dispatcher:
    d = Dispatcher()
    d.add("indexer_getShardedNodes", directory.sharded_nodes)
    d.add("indexer_getNodeLocations", directory.node_locations)
    d.add(
        "indexer_getFileLocations",
        lambda root: directory.file_locations("0x" + root.hex()),
        Param("root", parse_hash),
    )
    return d


class IndexerRuntime:
    """The node directory: nothing to open, its HTTP clients to close."""

    def __init__(self, directory: NodeDirectory) -> None:
        self.directory = directory
        self.dispatcher = indexer_dispatcher(directory)

    def open(self) -> None:
        pass

    def close(self) -> None:
        self.directory.close()


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
    urls = settings.indexer_node_urls
    if not urls:
        raise ConfigError("the indexer knows no storage nodes: set ZG_INDEXER_NODES (comma-separated URLs)")
    return create_daemon_app(
        title="0G storage indexer",
        summary="Lists the storage nodes, their shards, and which of them hold a file.",
        settings=settings,
        runtime=IndexerRuntime(NodeDirectory(urls)),
        routers=[router],
        dialect=JsonRpcErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
    )


DAEMON = DaemonEntry("storage indexer", IndexerSettings, "indexer", create_app)
