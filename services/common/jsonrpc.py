"""JSON-RPC 2.0 over HTTP POST, as the official 0G node (jsonrpsee) and indexer speak it.

Shared by the storage node and the indexer (and any daemon that speaks JSON-RPC). Methods take positional
(array) or named (object) params;
batches (arrays of requests) and notifications (no id) are supported. Errors follow the node's
conventions, which the official SDK relies on:

* -32700 parse error, -32600 invalid request (also a body over the daemon's size limit: HTTP 413), -32601 unknown
  method;
* -32602 invalid params: ``message`` is ``"Invalid params: <param>: <detail>"`` and ``data`` is the
  detail alone (the official node puts only ``"Invalid params: <param>"`` in the message; the detail is
  added so that clients showing only the message still say what is wrong). The SDK looks for
  "already uploaded and finalized" in ``data``;
* -32603 internal error (the cause is in the server log, not in the answer).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

#: Largest batch (requests in one JSON array).
MAX_BATCH = 1024
MAX_UINT64 = 2**64 - 1

_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class RpcError(Exception):
    """Raised by a method; becomes the JSON-RPC error object of its answer."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(param: str, detail: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"Invalid params: {param}: {detail}", detail)


# ---------------------------------------------------------------- parameter parsers


def parse_hash(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HASH.match(value):
        raise invalid_params(name, f"expected a 0x-prefixed 32-byte hex string, got {_show(value)}")
    return bytes.fromhex(value[2:])


def parse_uint(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT64:
        raise invalid_params(name, f"expected a non-negative integer (JSON number), got {_show(value)}")
    return value


def parse_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_params(name, f"expected true or false, got {_show(value)}")
    return value


def parse_base64(value: Any, name: str, max_bytes: int) -> bytes:
    if not isinstance(value, str):
        raise invalid_params(name, f"expected a base64 string, got {_show(value)}")
    if len(value) > (max_bytes + 2) // 3 * 4:
        raise invalid_params(name, f"longer than {max_bytes} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid_params(name, f"not valid base64 ({exc})") from exc


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------- methods and dispatch


@dataclass(frozen=True)
class Param:
    """A method parameter: its name (for named params and errors), parser, and default if optional."""

    name: str
    parse: Callable[[Any, str], Any]
    optional: bool = False
    default: Any = None


@dataclass(frozen=True)
class Method:
    func: Callable[..., Any]
    params: tuple[Param, ...] = ()

    def bind(self, raw: Any) -> list[Any]:
        """The parsed arguments of `raw` params (absent, an array, or an object)."""
        if raw is None:
            values: list[Any] = []
            given: Mapping[str, Any] | None = None
        elif isinstance(raw, list):
            values, given = raw, None
            if len(values) > len(self.params):
                names = ", ".join(p.name for p in self.params) or "none"
                detail = f"expected at most {len(self.params)} params ({names}), got {len(values)}"
                raise RpcError(INVALID_PARAMS, f"Invalid params: {detail}", detail)
        elif isinstance(raw, dict):
            values, given = [], raw
            unknown = set(raw) - {p.name for p in self.params}
            if unknown:
                detail = f"unknown param {sorted(unknown)[0]!r}; expected {[p.name for p in self.params]}"
                raise RpcError(INVALID_PARAMS, f"Invalid params: {detail}", detail)
        else:
            detail = "params must be an array or an object"
            raise RpcError(INVALID_PARAMS, f"Invalid params: {detail}", detail)
        args = []
        for position, param in enumerate(self.params):
            if given is not None:
                present, value = param.name in given, given.get(param.name)
            else:
                present, value = position < len(values), values[position] if position < len(values) else None
            if not present or (value is None and param.optional):
                if not param.optional:
                    raise invalid_params(param.name, f"missing value for required param #{position} ({param.name})")
                args.append(param.default)
            else:
                args.append(param.parse(value, param.name))
        return args


@dataclass
class Dispatcher:
    """Routes JSON-RPC requests (already parsed JSON) to `methods`."""

    methods: dict[str, Method] = field(default_factory=dict)

    def add(self, name: str, func: Callable[..., Any], *params: Param) -> None:
        self.methods[name] = Method(func, params)

    def handle(self, payload: Any) -> Any:
        """The JSON answer to a request or batch; None when nothing is to be sent (notifications)."""
        if isinstance(payload, list):
            if not payload:
                return _error(None, RpcError(INVALID_REQUEST, "Invalid request: empty batch"))
            if len(payload) > MAX_BATCH:
                return _error(None, RpcError(INVALID_REQUEST, f"Invalid request: batch of more than {MAX_BATCH}"))
            answers = [answer for item in payload if (answer := self.handle_one(item)) is not None]
            return answers or None
        return self.handle_one(payload)

    def handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, RpcError(INVALID_REQUEST, "Invalid request: expected a JSON-RPC request object"))
        request_id = request.get("id")
        if request_id is not None and (
            isinstance(request_id, bool)
            or not isinstance(request_id, int | str | float)
            or (isinstance(request_id, float) and not math.isfinite(request_id))  # 1e999: no JSON number echoes it
        ):
            return _error(None, RpcError(INVALID_REQUEST, "Invalid request: id must be a number, a string or null"))
        if request.get("jsonrpc") != "2.0":
            return _error(request_id, RpcError(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0"'))
        name = request.get("method")
        if not isinstance(name, str):
            return _error(request_id, RpcError(INVALID_REQUEST, 'Invalid request: "method" must be a string'))
        notification = "id" not in request
        method = self.methods.get(name)
        try:
            if method is None:
                raise RpcError(METHOD_NOT_FOUND, f"Method not found: {name}")
            result = method.func(*method.bind(request.get("params")))
        except RpcError as exc:
            return None if notification else _error(request_id, exc)
        except Exception:
            log.exception("JSON-RPC %s failed", name)
            error = RpcError(INTERNAL_ERROR, "Internal error", "unexpected failure; the operator can see it in the log")
            return None if notification else _error(request_id, error)
        return None if notification else {"jsonrpc": "2.0", "result": result, "id": request_id}


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error.to_json(), "id": request_id}


# ---------------------------------------------------------------- HTTP


class Base64Bytes:
    """Bytes a result carries as a base64 JSON string. The HTTP layer writes their base64 straight into the
    response body: JSON-encoding a segment's ~350 KB base64 string costs more than the rest of serving it."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


#: Stands for a Base64Bytes in the encoded answer until its base64 is spliced in (random: no answer holds it).
_SPLICE = secrets.token_hex(16)


def encode_answer(answer: Any) -> bytes:
    """The answer as compact JSON bytes, Base64Bytes values spliced in as base64 strings."""
    blobs: list[bytes] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, Base64Bytes):
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        blobs.append(value.data)
        return f"{_SPLICE}{len(blobs) - 1}"

    text = json.dumps(answer, separators=(",", ":"), allow_nan=False, default=placeholder).encode()
    if not blobs:
        return text
    parts = text.split(f'"{_SPLICE}'.encode())
    out = [parts[0]]
    for part in parts[1:]:
        index, rest = part.split(b'"', 1)
        out += [b'"', base64.b64encode(blobs[int(index)]), b'"', rest]
    return b"".join(out)


def _not_json(constant: str) -> Any:
    """Python's json module reads NaN and Infinity; JSON has no such numbers (nor can an answer echo them)."""
    raise ValueError(f"{constant} is not a JSON value")


async def serve_http(request: Request, dispatcher: Dispatcher) -> Response:
    """Answer one HTTP POST: JSON parsing, then the dispatcher in a worker thread (the daemon platform bounds the
    body before it is read)."""
    body = await request.body()
    try:
        payload = json.loads(body, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        return JSONResponse(_error(None, RpcError(PARSE_ERROR, f"Parse error: {exc}")))
    except RecursionError:
        return JSONResponse(_error(None, RpcError(PARSE_ERROR, "Parse error: nested too deeply")))
    answer = await run_in_threadpool(lambda: None if (a := dispatcher.handle(payload)) is None else encode_answer(a))
    if answer is None:
        return Response(status_code=204)
    return Response(answer, media_type="application/json")
