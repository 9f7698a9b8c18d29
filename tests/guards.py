"""Checks every daemon's guard must pass (services.common.guard), against the real running daemon."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

#: What a daemon's error body says its error code is, per dialect.
Code = Callable[[dict[str, Any]], str]


def json_code(body: dict[str, Any]) -> str:
    return body["error"]["code"]


def jsonrpc_code(body: dict[str, Any]) -> str:
    assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == -32600
    return body["error"]["data"]


def declared_post(url: str, path: str, size: int, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """POST announcing a `size`-byte body without sending it: a guarded daemon answers before reading it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", path)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_guarded(
    url: str, path: str, limit: int, code: Code, body: bytes = b"{}", headers: Mapping[str, str] | None = None
) -> None:
    """413 over `limit` (declared: refused before the body is sent), 403 for a foreign Host or a cross-site POST,
    each in the daemon's dialect; the daemon still answers afterwards. (A streamed body without a length is
    checked on the platform itself, tests/common.)"""
    status, raw = declared_post(url, path, limit + 1, headers)
    assert status == 413 and code(json.loads(raw)) == "payload_too_large", (status, raw)

    with httpx.Client(base_url=url, timeout=30) as client:
        rebound = client.post(path, content=body, headers={**(headers or {}), "host": "attacker.example"})
        assert rebound.status_code == 403 and code(rebound.json()) == "forbidden_host", rebound.text
        page = client.post(path, content=body, headers={**(headers or {}), "origin": "https://attacker.example"})
        assert page.status_code == 403 and code(page.json()) == "cross_site_request", page.text
        assert client.get("/health", headers={"host": "localhost"}).status_code in (200, 503)
