"""The storage node app: `create_app(settings)` builds it on the daemon platform; the lifespan runs the log sync."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_daemon_app
from services.common.errors import JsonRpcErrors
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry
from services.storage_miner.api.main import api_router
from services.storage_miner.config import StorageNodeSettings
from services.storage_miner.runtime import NodeRuntime
from zerog.config import get_settings

#: Largest request body accepted. The SDK sends one 256 KiB segment (≈350 KB of JSON) per call by
#: default; a 64 MiB body holds a batch of ~180 segments.
MAX_BODY_BYTES = 64 * 1024 * 1024


def create_app(settings: StorageNodeSettings | None = None) -> FastAPI:
    """The node app for `settings` (default: the process settings). Fails fast (ConfigError) on bad
    configuration: bad shard, no Flow in the manifest, another chain, a data dir of another shard."""
    settings = settings or get_settings(StorageNodeSettings)
    runtime = NodeRuntime(settings)
    runtime.check_chain()
    runtime.open_store()
    return create_daemon_app(
        title="0G storage node",
        summary="Stores file segments of the Flow and serves them over the official zgs_* JSON-RPC.",
        settings=settings,
        runtime=runtime,
        routers=[api_router],
        dialect=JsonRpcErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
    )


DAEMON = DaemonEntry(lambda s: f"storage node {s.storage_name}", StorageNodeSettings, "storage", create_app)
