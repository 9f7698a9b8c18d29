"""GET /health: 200 once the signer is registered on chain (with this key and socket), its KZG setup is loaded
and its upload follower runs; 503 until then (or when the follower stopped). `status` is "degraded" while the
chain does not answer; `member` says whether the signer is in the current epoch's set. `stored`: the rows of its
store (uploads, payloads, columns), the cells its columns hold, and the bytes of the column bundles it accepted
since it started (`bytesReceived`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services.da_signer.api.deps import RuntimeDep
from services.da_signer.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def health(runtime: RuntimeDep) -> JSONResponse:
    def probe() -> tuple[int | None, bool | None]:
        try:
            view = runtime.signer_set()
        except Exception:  # any transport failure means "unreachable"
            return None, None
        return view.epoch, view.by_account(runtime.account.address) is not None

    epoch, member = await run_in_threadpool(probe)
    registrar = runtime.registrar
    follower = runtime.follower
    registered = registrar.registered
    ready = registered and follower.running and follower.failed is None
    if not ready:
        status = "failed" if registrar.fatal or follower.failed is not None else "starting"
    else:
        status = "ok" if epoch is not None else "degraded"
    body = HealthResponse(
        status=status,
        registered=registered,
        member=member,
        account=runtime.account.address,
        slot=registrar.record.slot if registered and registrar.record else None,
        epoch=epoch,
        chain="ok" if epoch is not None else "unreachable",
        chain_id=runtime.chain_id,
        sync_height=follower.sync_height,
        sync_error=follower.failed,
        registration_error=registrar.error,
        stored={**runtime.store.counts(), "bytesReceived": runtime.bytes_received},
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=200 if ready else 503)
