"""The faucet app: `create_app(settings)` builds it; the lifespan runs the drip follower.

Every error leaves as ``{"error": {"code": ..., "message": ...}}`` with a fitting status: validation
errors are 400 (not FastAPI's 422), limits are 429 with Retry-After, chain trouble is 503, and so is a spent
drip budget (with Retry-After).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import zerog
from services.faucet.api.main import api_router
from services.faucet.core.config import Settings, get_settings
from services.faucet.core.runtime import FaucetRuntime
from services.faucet.errors import ApiError
from services.faucet.schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

_CLAIM_EXAMPLE = '{"address": "0x..."}'
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The faucet app for `settings` (default: the process settings). Fails fast on bad configuration
    (no deployment manifest, no dripper key, node on another chain); the store opens on startup."""
    runtime = FaucetRuntime(settings or get_settings())
    runtime.check_chain()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.open()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="0G Faucet",
        summary="Drips native tokens of the local 0G network to developer addresses.",
        version=zerog.__version__,
        lifespan=lifespan,
        # The interactive docs load their scripts from a CDN; the schema itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.include_router(api_router)
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    return app


# ---------------------------------------------------------------- error rendering


def error_response(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, retry_after=retry_after))
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.retry_after)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    code, message = describe_validation_errors(exc.errors())
    return error_response(400, code, message)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(exc.status_code, code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error in the faucet; the operator can see it in its log")


def describe_validation_errors(errors: Sequence[Any]) -> tuple[str, str]:
    """(code, message) for the first problem of a request, phrased for a person."""
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
