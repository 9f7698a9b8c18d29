"""The indexer app: `create_app(settings)`; JSON-RPC at POST / (`indexer_*`), GET /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

import zerog
from services.storage_miner.indexer.directory import NodeDirectory
from services.storage_miner.jsonrpc import Dispatcher, Param, parse_hash, serve_http
from zerog.config import Settings, get_settings
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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    urls = settings.indexer_node_urls
    if not urls:
        raise ConfigError("the indexer knows no storage nodes: set ZG_INDEXER_NODES (comma-separated URLs)")
    directory = NodeDirectory(urls)
    dispatcher = indexer_dispatcher(directory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            directory.close()

    app = FastAPI(
        title="0G storage indexer",
        summary="Lists the storage nodes, their shards, and which of them hold a file.",
        version=zerog.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.directory = directory

    @app.post("/", tags=["json-rpc"])
    async def json_rpc(request: Request) -> Response:
        return await serve_http(request, dispatcher, MAX_BODY_BYTES)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, Any]:
        nodes = await run_in_threadpool(directory.status)
        up = sum(n["reachable"] for n in nodes)
        return {"status": "ok" if up else "degraded", "nodes": nodes}

    return app
