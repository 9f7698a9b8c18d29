"""The OP Stack alt-DA server app (`zg da server`, `python -m services.da_server`) on the daemon platform.

The op-batcher posts a batch (`POST /put` or `/put/`, body = the bytes, Content-Type application/octet-stream) and
gets back a commitment, which it puts on L1 after the derivation version byte; the op-node reads the batch back with
`GET /get/0x<commitment>`. Commitments follow the OP alt-DA encoding (zerog.da.altda): generic (type 0x01), what
`POST /put` returns, and keccak (type 0x00): `POST /put/0x00<keccak256(body)>` stores the body and remembers which
data root holds it; `GET /get/0x00<keccak>` returns it after checking the hash.

Every put spends the operator's blob fees, so puts are refused before any work unless they are octet streams (415),
from no browser page but the listed origins (the platform's Origin check, 403), with the bearer token when
ZG_DA_SERVER_TOKEN is set (401), and at most the DA blob limit (413). 404 means unknown; other failures are a
4xx/5xx with ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Annotated, Any

from eth_utils import keccak
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.app import create_daemon_app
from services.common.errors import ApiError, JsonErrors
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry
from services.da_server.config import DAServerSettings
from services.da_server.runtime import DAServerRuntime
from zerog.config import get_settings
from zerog.da.altda import (
    KECCAK_COMMITMENT,
    KECCAK_COMMITMENT_LENGTH,
    OCTET_STREAM,
    CommitmentError,
    decode_commitment,
    parse_hex,
)

log = logging.getLogger(__name__)

router = APIRouter()


def _runtime(request: Request) -> DAServerRuntime:
    return request.app.state.runtime


Runtime = Annotated[DAServerRuntime, Depends(_runtime)]


def _authorized(request: Request, runtime: Runtime) -> None:
    """The cheap checks of a put, before its body is read: bearer token, then content type."""
    token = runtime.settings.da_server_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            raise ApiError(401, "unauthorized", "this alt-DA server needs its bearer token (Authorization: Bearer …)")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != OCTET_STREAM:
        raise ApiError(415, "unsupported_media_type", f"send the batch as {OCTET_STREAM}, not {kind or 'nothing'}")


Authorized = Depends(_authorized)


async def _read(request: Request) -> bytes:
    body = await request.body()
    if not body:
        raise ApiError(400, "empty_body", "empty body: nothing to store")
    return body


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc
    except Exception as exc:
        log.exception("alt-DA request failed")
        raise ApiError(502, "da_failed", f"the DA layer failed: {exc}") from exc


def _parse(commitment: str) -> bytes:
    try:
        return parse_hex(commitment)
    except CommitmentError as exc:
        raise ApiError(400, "invalid_commitment", str(exc)) from exc


@router.post("/put", dependencies=[Authorized])
@router.post("/put/", dependencies=[Authorized])
async def put_generic(request: Request, runtime: Runtime) -> Response:
    commitment = await _call(runtime.put, await _read(request))
    return Response(commitment, media_type=OCTET_STREAM)


@router.post("/put/{commitment}", dependencies=[Authorized])
async def put_keccak(commitment: str, request: Request, runtime: Runtime) -> Response:
    raw = _parse(commitment)
    if len(raw) != KECCAK_COMMITMENT_LENGTH or raw[0] != KECCAK_COMMITMENT:
        raise ApiError(
            400, "invalid_commitment", "POST /put/0x<commitment> takes a keccak commitment: 0x00 followed by 32 bytes"
        )
    body = await _read(request)
    if keccak(body) != raw[1:]:
        raise ApiError(400, "keccak_mismatch", "the body does not hash to the keccak commitment")
    generic = await _call(runtime.put, body)
    runtime.index.put(raw[1:], decode_commitment(generic)[0])
    return Response(status_code=200)


@router.get("/get/{commitment}")
async def get_data(commitment: str, runtime: Runtime) -> Response:
    raw = _parse(commitment)
    try:
        if raw[:1] == bytes([KECCAK_COMMITMENT]):
            if len(raw) != KECCAK_COMMITMENT_LENGTH:
                raise CommitmentError("a keccak commitment is 0x00 followed by 32 bytes")
            root = runtime.index.get(raw[1:])
            if root is None:
                raise ApiError(404, "not_found", f"no batch with keccak 0x{raw[1:].hex()} was put here")
        else:
            root = decode_commitment(raw)[0]
    except CommitmentError as exc:
        raise ApiError(400, "invalid_commitment", str(exc)) from exc
    data = await _call(runtime.get, root)
    if raw[0] == KECCAK_COMMITMENT and keccak(data) != raw[1:]:
        raise ApiError(502, "da_failed", "the DA layer returned data that does not match the keccak commitment")
    return Response(data, media_type=OCTET_STREAM)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: DAServerSettings | None = None) -> FastAPI:
    settings = settings or get_settings(DAServerSettings)
    return create_daemon_app(
        title="0G DA: OP Stack alt-DA server",
        summary="OP Stack alt-DA commitments over 0G DA: POST /put, GET /get/0x<commitment>.",
        settings=settings,
        runtime=DAServerRuntime(settings),
        routers=[router],
        dialect=JsonErrors(),
        limits=BodyLimits(settings.da_max_blob_size),
    )


DAEMON = DaemonEntry("alt-DA server", DAServerSettings, "da_server", create_app)
