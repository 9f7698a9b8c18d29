"""The DA disperser (`zg da disperser start`, `python -m services.da_disperser`) on the daemon platform.

Its API is gRPC — 0G DA client's `disperser.Disperser` (services.da_disperser.api) on ZG_DA_DISPERSER_PORT (51001),
served by its runtime — so that tools written for 0G's DA client can point at it. The FastAPI app beside it, on
ZG_DA_DISPERSER_HTTP_PORT, is what the platform runs: its lifespan starts and stops the gRPC server, and it answers
/health (what `zg up` waits for) and GET /v1/requests/<id> (a request's state, with the error message the gRPC
status cannot carry).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request

from services.common.app import create_daemon_app
from services.common.errors import ApiError, JsonErrors
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry, port_busy
from services.da_disperser.api import add_service
from services.da_disperser.config import DADisperserSettings
from services.da_disperser.runtime import DADisperserRuntime
from zerog.config import get_settings
from zerog.da.proto import disperser_pb2 as pb
from zerog.errors import ConfigError

router = APIRouter()


def _runtime(request: Request) -> DADisperserRuntime:
    return request.app.state.runtime


Runtime = Annotated[DADisperserRuntime, Depends(_runtime)]


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/requests/{request_id}")
def request_status(request_id: str, runtime: Runtime) -> dict[str, Any]:
    found = runtime.pipeline.queue.get(request_id)
    if found is None:
        raise ApiError(404, "not_found", f"no dispersal request {request_id!r}")
    status, _ = runtime.blob_status(found)
    return {**found.to_json(), "status": pb.BlobStatus.Name(status)}


def create_app(settings: DADisperserSettings | None = None) -> FastAPI:
    settings = settings or get_settings(DADisperserSettings)
    if port_busy(settings.da_disperser_host, settings.da_disperser_port):
        raise ConfigError(
            f"port {settings.da_disperser_port} on {settings.da_disperser_host} is busy (set ZG_DA_DISPERSER_PORT)"
        )
    return create_daemon_app(
        title="0G DA: disperser",
        summary="0G DA client's gRPC disperser API; this HTTP side serves /health and request status.",
        settings=settings,
        runtime=DADisperserRuntime(settings, add_service),
        routers=[router],
        dialect=JsonErrors(),
        limits=BodyLimits(0),
    )


DAEMON = DaemonEntry(
    "DA disperser", DADisperserSettings, "da_disperser", create_app, http_port="da_disperser_http_port"
)
