"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.compute_provider.errors import OpenAIError
from services.compute_provider.runtime import ProviderRuntime


def get_runtime(request: Request) -> ProviderRuntime:
    runtime: ProviderRuntime = request.app.state.runtime
    return runtime


def get_ready_runtime(runtime: Annotated[ProviderRuntime, Depends(get_runtime)]) -> ProviderRuntime:
    if not runtime.ready:
        raise OpenAIError(503, "not_ready", "the provider is starting (loading its model, registering); retry soon")
    return runtime


RuntimeDep = Annotated[ProviderRuntime, Depends(get_runtime)]
ReadyRuntimeDep = Annotated[ProviderRuntime, Depends(get_ready_runtime)]
