"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.explorer.runtime import ExplorerRuntime
from services.explorer.views import Views


def get_runtime(request: Request) -> ExplorerRuntime:
    runtime: ExplorerRuntime = request.app.state.runtime
    return runtime


def get_views(runtime: Annotated[ExplorerRuntime, Depends(get_runtime)]) -> Views:
    return runtime.views


RuntimeDep = Annotated[ExplorerRuntime, Depends(get_runtime)]
ViewsDep = Annotated[Views, Depends(get_views)]
