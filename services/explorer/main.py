"""The explorer app: `create_app(settings)` builds it on the daemon platform; the lifespan runs the block indexer.

Errors under /api (and the Etherscan-style /api?module=…) are JSON (``{"error": {"code", "message"}}``); errors of
pages are HTML pages with the same message and status, never a stack trace."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.app import create_daemon_app
from services.common.errors import ApiError, JsonErrors, code_for, describe_validation
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry
from services.explorer.api.routes import etherscan, health, pages
from services.explorer.api.templates import render
from services.explorer.config import ExplorerDaemonSettings
from services.explorer.runtime import ExplorerRuntime
from zerog.config import get_settings

log = logging.getLogger("services")
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The explorer takes no request bodies.
MAX_BODY_BYTES = 1024
DIALECT = JsonErrors()
TITLES = {400: "Bad request", 404: "Not found", 405: "Not allowed", 500: "Something went wrong"}


def _error(request: Request, status: int, code: str, message: str) -> Response:
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return DIALECT.render(status, code, message)
    runtime: ExplorerRuntime = request.app.state.runtime
    try:
        views = runtime.views
    except RuntimeError:
        views = None
    data = {"status": status, "title": TITLES.get(status, "Error"), "message": message}
    return render(request, "error.html", data, views, status=status)


async def api_error(request: Request, exc: ApiError) -> Response:
    return _error(request, exc.status, exc.code, exc.message)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = f"there is no page at {request.url.path}" if exc.status_code == 404 else str(exc.detail)
    return _error(request, exc.status_code, code_for(exc.status_code), message)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    message, _ = describe_validation(exc.errors())
    return _error(request, 400, "invalid_request", message)


async def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error(request, 500, "internal_error", "internal error in the explorer; its operator can see it in its log")


def create_app(settings: ExplorerDaemonSettings | None = None) -> FastAPI:
    """The explorer app for `settings` (default: the process settings). Fails fast on bad configuration (no
    deployment manifest, node on another chain); the store opens and indexing starts on startup."""
    settings = settings or get_settings(ExplorerDaemonSettings)
    runtime = ExplorerRuntime(settings)
    runtime.check_chain()
    handlers: dict[type[Exception], Any] = {
        ApiError: api_error,
        StarletteHTTPException: http_error,
        RequestValidationError: validation_error,
        Exception: internal_error,
    }
    app = create_daemon_app(
        title="0G Explorer",
        summary="Blocks, transactions and what storage, compute, DA and the faucet did on the chain.",
        settings=settings,
        runtime=runtime,
        routers=[health.router, etherscan.router, pages.api_router, pages.html_router],
        dialect=DIALECT,
        limits=BodyLimits(MAX_BODY_BYTES),
        exception_handlers=handlers,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


DAEMON = DaemonEntry("explorer", ExplorerDaemonSettings, "explorer", create_app)
