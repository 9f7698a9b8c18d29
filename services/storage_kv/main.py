"""The KV node app: `create_app(settings)` on the daemon platform; JSON-RPC at POST / (`kv_*`), GET /health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.app import create_daemon_app
from services.common.errors import JsonRpcErrors
from services.common.guard import BodyLimits
from services.common.jsonrpc import serve_http
from services.common.serve import DaemonEntry
from services.storage_kv.config import KVNodeSettings
from services.storage_kv.runtime import KvRuntime
from zerog.config import get_settings

#: Reads are small, but a key may be large (up to 16 MiB, base64 in the body).
MAX_BODY_BYTES = 24 * 1024 * 1024

router = APIRouter()


@router.post("/", tags=["json-rpc"])
async def json_rpc(request: Request) -> Response:
    runtime: KvRuntime = request.app.state.runtime
    return await serve_http(request, runtime.running(runtime.dispatcher))


@router.get("/health", tags=["health"])
async def health(request: Request) -> dict[str, Any]:
    runtime: KvRuntime = request.app.state.runtime
    progress = await run_in_threadpool(runtime.store.progress)
    failed = runtime.follower.failed
    return {"status": "ok" if failed is None else "degraded", "logSyncHeight": runtime.follower.sync_height,
            "logSyncError": failed, **progress}  # fmt: skip


def create_app(settings: KVNodeSettings | None = None) -> FastAPI:
    settings = settings or get_settings(KVNodeSettings)
    runtime = KvRuntime(settings)
    runtime.check_chain()
    return create_daemon_app(
        title="0G KV node",
        summary="Replays the KV streams of the Flow and serves them over the official kv_* JSON-RPC.",
        settings=settings,
        runtime=runtime,
        routers=[router],
        dialect=JsonRpcErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
    )


DAEMON = DaemonEntry("KV node", KVNodeSettings, "kv", create_app)
