"""Error dialects: how a daemon's errors look on the wire. The platform renders its own refusals (413, 403, 404,
400 for validation, 500) in the daemon's dialect, so a client of one daemon sees one error shape everywhere.

* `JsonErrors`: ``{"error": {"code", "message"}}`` (faucet, DA signer, alt-DA server);
* `OpenAIErrors`: ``{"error": {"message", "type", "param", "code"}}`` (compute provider);
* `JsonRpcErrors`: a JSON-RPC 2.0 error object with a null id (storage node, indexer), HTTP status kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi.responses import JSONResponse

#: A code per HTTP status for the platform's own refusals.
HTTP_CODES = {
    400: "invalid_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}

#: OpenAI error `type` per HTTP status.
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "payment_required",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    500: "server_error",
    503: "service_unavailable",
}

#: JSON-RPC 2.0 error codes.
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_INTERNAL_ERROR = -32603


class ApiError(Exception):
    """An error a daemon answers on purpose, rendered in its dialect: `code` is stable and machine-readable,
    `message` is for people; `retry_after` (seconds) adds a Retry-After header; `param` names the bad input."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None, *, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None


class ErrorDialect(Protocol):
    def render(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> JSONResponse:
        """The response for an error `code` (machine-readable) with `message` (for people)."""
        ...


def code_for(status: int) -> str:
    return HTTP_CODES.get(status, f"http_{status}")


def describe_validation(errors: Sequence[Any]) -> tuple[str, str | None]:
    """(message, param) of the first problem of a request that failed validation."""
    if not errors:
        return "invalid request", None
    error = errors[0]
    loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body", "header")]
    param = ".".join(loc) or None
    return (f"{param}: {error.get('msg', 'invalid value')}" if param else str(error.get("msg"))), param


@dataclass(frozen=True)
class JsonErrors:
    def render(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> JSONResponse:
        error: dict[str, Any] = {"code": code, "message": message}
        retry_after = (headers or {}).get("Retry-After")
        if retry_after is not None and retry_after.isdigit():
            error["retryAfter"] = int(retry_after)
        return JSONResponse({"error": error}, status_code=status, headers=headers)


@dataclass(frozen=True)
class OpenAIErrors:
    def render(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> JSONResponse:
        return JSONResponse(openai_body(status, code, message, param), status_code=status, headers=headers)


def openai_body(status: int, code: str | None, message: str, param: str | None = None) -> dict[str, Any]:
    kind = OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass(frozen=True)
class JsonRpcErrors:
    def render(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> JSONResponse:
        rpc_code = JSONRPC_INTERNAL_ERROR if status >= 500 else JSONRPC_INVALID_REQUEST
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": rpc_code, "message": message, "data": code}}
        return JSONResponse(body, status_code=status, headers=headers)
