"""The DA signer app: `create_app(settings)` builds it; the lifespan runs the upload follower and registration.

Every error leaves as ``{"error": {"code": ..., "message": ...}}`` with a fitting status.
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
from services.da_signer.api.main import api_router
from services.da_signer.core.config import Settings, get_settings
from services.da_signer.core.runtime import SignerRuntime
from services.da_signer.errors import ApiError
from services.da_signer.schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The signer app for `settings` (default: the process settings). Fails fast (ConfigError) on bad
    configuration: no key, no DA contracts in the manifest, another chain, another signer's data dir."""
    runtime = SignerRuntime(settings or get_settings())
    runtime.check_chain()
    runtime.prepare()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.open()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="0G DA signer",
        summary="Verifies and stores its cell columns of paid data roots, attests them with BLS, serves them back.",
        version=zerog.__version__,
        lifespan=lifespan,
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


def error_response(status: int, code: str, message: str) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'path', 'body'))}: {e.get('msg')}"
        for e in exc.errors()
    )
    return error_response(400, "invalid_request", problems or "invalid request")


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error in the signer; the operator can see it in its log")
