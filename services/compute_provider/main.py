"""The provider app: `create_app(settings, runtime)` builds it; the lifespan opens the store and runs the settler
(which settles once more on shutdown).

Every error leaves in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``: validation errors
are 400 (not FastAPI's 422), unknown routes 404, anything unexpected 500 without internals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import zerog
from services.compute_provider.api.main import api_router
from services.compute_provider.core.config import Settings, get_settings
from services.compute_provider.core.runtime import ProviderRuntime
from services.compute_provider.errors import OpenAIError, error_body

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def create_app(settings: Settings | None = None, runtime: ProviderRuntime | None = None) -> FastAPI:
    """The app around `runtime` (default: a new one for `settings`, not yet prepared: /health answers 503
    until `runtime.prepare()` has loaded the model and registered the service)."""
    runtime = runtime or ProviderRuntime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.open()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="0G compute provider",
        summary="OpenAI-compatible inference, paid per token with EIP-712 vouchers.",
        version=zerog.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.include_router(api_router)
    app.add_exception_handler(OpenAIError, _openai_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    return app


async def _openai_error(request: Request, exc: OpenAIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    error = exc.errors()[0] if exc.errors() else {}
    param = ".".join(str(p) for p in error.get("loc", ())) or None
    return JSONResponse(error_body(400, "invalid_request", f"{param}: {error.get('msg', 'invalid')}", param), 400)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else str(exc.detail)
    return JSONResponse(error_body(exc.status_code, code, message), status_code=exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body(500, "internal_error", "internal error in the provider; the operator can see it in its log"), 500
    )
