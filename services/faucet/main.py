"""The faucet app: `create_app(settings)` builds it on the daemon platform; the lifespan runs the drip follower.

Every error leaves as ``{"error": {"code": ..., "message": ...}}`` with a fitting status: validation
errors are 400 (not FastAPI's 422), limits are 429 with Retry-After, chain trouble is 503, and so is a spent
drip budget (with Retry-After).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from services.common.app import create_daemon_app
from services.common.errors import JsonErrors
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry
from services.faucet.api.main import api_router
from services.faucet.config import FaucetDaemonSettings
from services.faucet.runtime import FaucetRuntime
from zerog.config import get_settings

_CLAIM_EXAMPLE = '{"address": "0x..."}'
#: A claim is one address: anything much larger is not a claim.
MAX_BODY_BYTES = 4096


def create_app(settings: FaucetDaemonSettings | None = None) -> FastAPI:
    """The faucet app for `settings` (default: the process settings). Fails fast on bad configuration
    (no deployment manifest, no dripper key, node on another chain); the store opens on startup."""
    settings = settings or get_settings(FaucetDaemonSettings)
    runtime = FaucetRuntime(settings)
    runtime.check_chain()
    return create_daemon_app(
        title="0G Faucet",
        summary="Drips native tokens of the local 0G network to developer addresses.",
        settings=settings,
        runtime=runtime,
        routers=[api_router],
        dialect=JsonErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
        describe=describe_validation_errors,
    )


def describe_validation_errors(errors: Sequence[Any]) -> tuple[str, str, str | None]:
    """(code, message, param) for the first problem of a request, phrased for a person."""
    code, message = _describe(errors)
    return code, message, None


def _describe(errors: Sequence[Any]) -> tuple[str, str]:
    if not errors:
        return "invalid_request", "invalid request"
    error = errors[0]
    kind, loc = error.get("type", ""), tuple(error.get("loc", ()))
    field = str(loc[1]) if len(loc) > 1 and loc[0] == "body" else None
    if kind == "json_invalid":
        detail = (error.get("ctx") or {}).get("error")
        return "invalid_request", f"request body is not valid JSON ({detail}); send {_CLAIM_EXAMPLE}"
    if loc == ("body",):
        if kind == "missing":
            return "invalid_request", f"request body is missing; send {_CLAIM_EXAMPLE}"
        return "invalid_request", f"request body must be a JSON object like {_CLAIM_EXAMPLE}"
    if field == "address":
        if kind == "missing":
            return "invalid_request", f'field "address" is required: send {_CLAIM_EXAMPLE}'
        if kind == "value_error":
            cause = (error.get("ctx") or {}).get("error")
            return "invalid_address", str(cause) if cause else str(error.get("msg"))
        return "invalid_address", f'"address" must be a string like "0x..." ({error.get("msg")})'
    where = ".".join(str(p) for p in loc)
    return "invalid_request", f"{where}: {error.get('msg', 'invalid value')}"


DAEMON = DaemonEntry("faucet", FaucetDaemonSettings, "faucet", create_app)
