"""GET /v1/signer: who this signer is, its registration, and its quorum and columns in the current epoch."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from services.da_signer.api.deps import RuntimeDep
from services.da_signer.schemas import SignerResponse

router = APIRouter(prefix="/v1", tags=["signer"])


@router.get("/signer")
async def signer(runtime: RuntimeDep) -> SignerResponse:
    def probe() -> tuple[int | None, list[int], int | None]:
        try:
            view = runtime.signer_set()
        except Exception:  # chain unreachable: report what is known
            return None, [], None
        me = view.by_account(runtime.account.address)
        return view.epoch, list(me.columns) if me else [], me.quorum_id if me else None

    await run_in_threadpool(runtime.registrar.refresh)
    epoch, columns, quorum_id = await run_in_threadpool(probe)
    record = runtime.registrar.record
    registered = record is not None and record.registered
    return SignerResponse(
        account=runtime.account.address,
        socket=runtime.socket,
        pk_g1=runtime.keys.pk1.to_json(),
        pk_g2=runtime.keys.pk2.to_json(),
        registered=registered,
        slot=record.slot if registered and record else None,
        leaving=bool(record and record.leaving),
        stake=str(record.stake if record else 0),
        active_from_epoch=record.active_from_epoch if registered and record else None,
        epoch=epoch,
        member=bool(columns),
        quorum_id=quorum_id,
        columns=columns,
    )
