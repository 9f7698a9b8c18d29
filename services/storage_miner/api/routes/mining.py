"""GET /mining: the miner's status (what `zg storage miner status` shows); {"enabled": false} when the node
does not mine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from services.storage_miner.api.deps import RuntimeDep

router = APIRouter(tags=["mining"])


@router.get("/mining")
async def mining_status(runtime: RuntimeDep) -> dict[str, Any]:
    miner = getattr(runtime, "miner", None)
    if miner is None:
        return {"enabled": False}
    return await run_in_threadpool(miner.status)
