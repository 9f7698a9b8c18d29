"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.storage_miner.runtime import NodeRuntime


def get_runtime(request: Request) -> NodeRuntime:
    runtime: NodeRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[NodeRuntime, Depends(get_runtime)]
