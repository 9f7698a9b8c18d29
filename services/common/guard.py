"""Refuse hostile requests before any work, in front of every daemon (a pure ASGI middleware):

* **Host**: the Host header must be an IP address, ``localhost``, or a name listed in ``ZG_ALLOWED_HOSTS``, so a
  web page cannot reach a daemon on 127.0.0.1 through a DNS name that it rebinds there (403).
* **Origin**: a state-changing request (anything but GET, HEAD, OPTIONS) whose Origin is neither the daemon's
  own origin nor one listed in ``ZG_CORS_ORIGINS`` comes from another site's page: 403. Requests without an
  Origin (the SDK, curl, wallets' RPC) are not cross-site requests.
* **Body size**: a body larger than the endpoint's limit gets 413 — at once when Content-Length says so, and as
  soon as the streamed body passes the limit otherwise, never after reading it into memory.

Errors are rendered in the daemon's dialect (see services.common.errors).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import ErrorDialect

#: Methods that never change state: the Origin check lets them through (CORS keeps their answers unreadable).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class BodyLimits:
    """Most request-body bytes per path prefix (the longest matching prefix wins), else `default`."""

    default: int
    by_prefix: Mapping[str, int] = field(default_factory=dict)

    def for_path(self, path: str) -> int:
        matches = [prefix for prefix in self.by_prefix if path.startswith(prefix)]
        return self.by_prefix[max(matches, key=len)] if matches else self.default


def is_allowed_host(host: str, allowed: Iterable[str]) -> bool:
    """True for an IP literal, localhost, or a listed name (the port is ignored)."""
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name in {a.lower() for a in allowed}:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class GuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        dialect: ErrorDialect,
        limits: BodyLimits,
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.dialect = dialect
        self.limits = limits
        self.allowed_hosts = tuple(allowed_hosts)
        self.cors_origins = frozenset(o.rstrip("/").lower() for o in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not is_allowed_host(host, self.allowed_hosts):
            await self._refuse(scope, receive, send, 403, "forbidden_host", f"host {host!r} is not this daemon's")
            return
        origin = headers.get("origin")
        if scope["method"] not in SAFE_METHODS and origin is not None and not self._same_or_allowed(origin, host):
            message = f"cross-site request from {origin} refused (allowed origins: ZG_CORS_ORIGINS)"
            await self._refuse(scope, receive, send, 403, "cross_site_request", message)
            return
        limit = self.limits.for_path(scope["path"])
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, 413, "payload_too_large", _too_large(limit))
            return
        await self.app(scope, _limited(receive, limit), send)

    def _same_or_allowed(self, origin: str, host: str) -> bool:
        origin = origin.rstrip("/").lower()
        return origin in self.cors_origins or urlsplit(origin).netloc == host.lower()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
        await self.dialect.render(status, code, message)(scope, receive, send)


def _too_large(limit: int) -> str:
    return f"request body larger than this endpoint's limit of {limit} bytes"


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive` that raises 413 as soon as the body passes `limit` bytes (a body without Content-Length)."""
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, _too_large(limit))
        return message

    return wrapped
