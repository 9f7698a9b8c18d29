"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.da_signer.runtime import SignerRuntime


def get_runtime(request: Request) -> SignerRuntime:
    runtime: SignerRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[SignerRuntime, Depends(get_runtime)]
