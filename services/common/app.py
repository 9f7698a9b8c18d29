"""The app factory every daemon is built by: FastAPI with the daemon's routes, its runtime opened and closed by
the lifespan, the guard in front (Host, Origin, body size: services.common.guard), CORS only for the origins
listed in ZG_CORS_ORIGINS, and every error — the daemon's own, validation, unknown routes, anything unexpected —
rendered in the daemon's dialect (services.common.errors), never with a stack trace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import zerog
from services.common.errors import ApiError, ErrorDialect, code_for, describe_validation
from services.common.guard import BodyLimits, GuardMiddleware
from services.common.settings import DaemonSettings

log = logging.getLogger("services")

#: (code, message, param) of a request that failed validation, from pydantic's error list.
Describer = Callable[[Sequence[Any]], tuple[str, str, str | None]]
Handler = Callable[[Request, Any], Any]


class Runtime(Protocol):
    """What a daemon holds while it serves: opened on startup, closed on shutdown."""

    def open(self) -> None: ...

    def close(self) -> None: ...


def _default_describer(errors: Sequence[Any]) -> tuple[str, str, str | None]:
    message, param = describe_validation(errors)
    return "invalid_request", message, param


def create_daemon_app(
    *,
    title: str,
    summary: str,
    settings: DaemonSettings,
    runtime: Runtime,
    routers: Sequence[APIRouter],
    dialect: ErrorDialect,
    limits: BodyLimits,
    exception_handlers: Mapping[type[Exception], Handler] | None = None,
    describe: Describer = _default_describer,
) -> FastAPI:
    """A daemon app. `runtime` is kept in `app.state.runtime`; `limits` bound request bodies per endpoint."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.open()
        try:
            yield
        finally:
            runtime.close()

    # The interactive docs load their scripts from a CDN; the schema itself is at /openapi.json.
    app = FastAPI(
        title=title, summary=summary, version=zerog.__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router)

    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return dialect.render(exc.status, exc.code, exc.message, headers=exc.headers, param=exc.param)

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, param = describe(exc.errors())
        return dialect.render(400, code, message, param=param)

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else str(exc.detail)
        return dialect.render(exc.status_code, code_for(exc.status_code), message, headers=exc.headers)

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return dialect.render(
            500, "internal_error", f"internal error in the {title}; its operator can see it in its log"
        )

    app.add_exception_handler(ApiError, api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal_error)
    # The daemon's own handlers go last: they may replace the platform's (a page that answers HTML).
    for kind, handler in (exception_handlers or {}).items():
        app.add_exception_handler(kind, handler)

    cors = settings.cors_origin_list
    if cors:
        app.add_middleware(CORSMiddleware, allow_origins=cors, allow_methods=["*"], allow_headers=["*"])
    # Added last, so it runs first: nothing else sees a refused request.
    app.add_middleware(
        GuardMiddleware,
        dialect=dialect,
        limits=limits,
        allowed_hosts=settings.allowed_host_list,
        cors_origins=cors,
    )
    return app
