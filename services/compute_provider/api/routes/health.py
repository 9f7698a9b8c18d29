"""GET /health: 200 only when the provider can serve (model loaded, service registered, chain answering)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.compute_provider.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = {"status": "starting", **runtime.describe()}
    if not runtime.ready:
        return JSONResponse(body, status_code=503)
    try:
        body["blockNumber"] = runtime.compute.w3.eth.block_number
    except Exception:  # any transport error: the chain is unreachable
        body.update(status="degraded", chain="unreachable")
        return JSONResponse(body, status_code=503)
    body.update(
        status="ok",
        chain="ok",
        unsettled=runtime.store.unsettled_count(),
        settlementError=runtime.settler.last_error,
    )
    return JSONResponse(body)
