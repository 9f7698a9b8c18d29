"""GET /health: the daemon is up (always 200); `status` is "degraded" while the chain does not answer."""

from __future__ import annotations

from fastapi import APIRouter

from services.faucet.api.deps import RuntimeDep
from services.faucet.errors import ApiError
from services.faucet.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> HealthResponse:
    dripper = runtime.dripper
    try:
        with dripper.chain_calls():
            block_number: int | None = dripper.w3.eth.block_number
    except ApiError:
        block_number = None
    reachable = block_number is not None
    return HealthResponse(
        status="ok" if reachable else "degraded",
        chain="ok" if reachable else "unreachable",
        chain_id=runtime.deployment.chain_id,
        faucet=runtime.faucet_address,
        block_number=block_number,
        follower_block=runtime.follower.block_number,
    )
