"""GET /health: the daemon is up (always 200); `status` is "degraded" while the chain node does not answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.explorer.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> dict[str, Any]:
    state = runtime.follower_state()
    return {"status": "degraded" if state["unreachable"] or state["failed"] else "ok", **state}
