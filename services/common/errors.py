"""Error dialects: how a daemon's errors look on the wire. The platform renders its own refusals (413, 403, 404,
400 for validation, 500) in the daemon's dialect, so a client of one daemon sees one error shape everywhere.

* `JsonErrors`: ``{"error": {"code", "message"}}`` (faucet, DA signer, alt-DA server);
* `OpenAIErrors`: ``{"error": {"message", "type", "param", "code"}}`` (compute provider);
* `JsonRpcErrors`: a JSON-RPC 2.0 error object with a null id (storage node, indexer), HTTP status kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


class ErrorDialect:
    """Renders an error (`code` machine-readable, `message` for people) as the daemon's JSON body; subclasses give
    the body's shape."""

    def render(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> JSONResponse:
        return JSONResponse(self.body(status, code, message, param, headers or {}), status_code=status, headers=headers)

    def body(
        self, status: int, code: str, message: str, param: str | None, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        raise NotImplementedError


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


class JsonErrors(ErrorDialect):
    def body(
        self, status: int, code: str, message: str, param: str | None, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        error: dict[str, Any] = {"code": code, "message": message}
        retry_after = headers.get("Retry-After")
        if retry_after is not None and retry_after.isdigit():
            error["retryAfter"] = int(retry_after)
        return {"error": error}


class OpenAIErrors(ErrorDialect):
    def body(
        self, status: int, code: str, message: str, param: str | None, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        kind = OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class JsonRpcErrors(ErrorDialect):
    def body(
        self, status: int, code: str, message: str, param: str | None, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        rpc_code = JSONRPC_INTERNAL_ERROR if status >= 500 else JSONRPC_INVALID_REQUEST
        return {"jsonrpc": "2.0", "id": None, "error": {"code": rpc_code, "message": message, "data": code}}
