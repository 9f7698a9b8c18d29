"""The storage node app: `create_app(settings)` builds it; the lifespan runs the log sync."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import zerog
from services.storage_miner.api.main import api_router
from services.storage_miner.core.config import Settings, get_settings
from services.storage_miner.core.runtime import NodeRuntime


def create_app(settings: Settings | None = None) -> FastAPI:
    """The node app for `settings` (default: the process settings). Fails fast (ConfigError) on bad
    configuration: bad shard, no Flow in the manifest, another chain, a data dir of another shard."""
    runtime = NodeRuntime(settings or get_settings())
    runtime.check_chain()
    runtime.open_store()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.open()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="0G storage node",
        summary="Stores file segments of the Flow and serves them over the official zgs_* JSON-RPC.",
        version=zerog.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.include_router(api_router)
    return app
