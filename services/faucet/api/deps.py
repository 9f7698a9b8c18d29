"""Dependencies of the routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.faucet.config import FaucetDaemonSettings
from services.faucet.dripper import Dripper
from services.faucet.runtime import FaucetRuntime
from services.faucet.store import FaucetStore


def get_runtime(request: Request) -> FaucetRuntime:
    runtime: FaucetRuntime = request.app.state.runtime
    return runtime


def get_settings(runtime: Annotated[FaucetRuntime, Depends(get_runtime)]) -> FaucetDaemonSettings:
    return runtime.settings


def get_dripper(runtime: Annotated[FaucetRuntime, Depends(get_runtime)]) -> Dripper:
    return runtime.dripper


def get_store(runtime: Annotated[FaucetRuntime, Depends(get_runtime)]) -> FaucetStore:
    return runtime.store


def get_client_ip(request: Request) -> str:
    """The peer address. Forwarded-for headers are not trusted: anyone can send them."""
    return request.client.host if request.client else "unknown"


RuntimeDep = Annotated[FaucetRuntime, Depends(get_runtime)]
SettingsDep = Annotated[FaucetDaemonSettings, Depends(get_settings)]
DripperDep = Annotated[Dripper, Depends(get_dripper)]
StoreDep = Annotated[FaucetStore, Depends(get_store)]
ClientIpDep = Annotated[str, Depends(get_client_ip)]
