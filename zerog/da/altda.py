"""OP Stack alt-DA server in front of the DA client (`zg da server`).

The op-batcher posts a batch (`POST /put` or `/put/`, body = the bytes) and gets back a commitment, which it
puts on L1 after the derivation version byte; the op-node reads the batch back with
`GET /get/0x<commitment>`. Commitments follow the OP alt-DA encoding `commitment_type || payload`:

- generic (type 0x01), what `POST /put` returns: 0x01 || da_layer 0x47 || epoch (u64 little endian) ||
  quorum id (u64 little endian) || data root (32 bytes) -- the same layout as 0G's own DA server, 50 bytes;
- keccak (type 0x00), for a batcher in keccak mode: `POST /put/0x00<keccak256(body)>` stores the body and
  remembers which data root holds it; `GET /get/0x00<keccak>` returns it after checking the hash.

404 means unknown; every other failure is a 4xx/5xx with a message.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from eth_utils import keccak
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

KECCAK_COMMITMENT = 0x00
GENERIC_COMMITMENT = 0x01
#: 0G's DA layer byte in generic commitments (0G's op-plasma DA server uses it too).
DA_LAYER_BYTE = 0x47
GENERIC_COMMITMENT_LENGTH = 2 + 8 + 8 + 32
KECCAK_COMMITMENT_LENGTH = 1 + 32
OCTET_STREAM = "application/octet-stream"

log = logging.getLogger(__name__)


class CommitmentError(ValueError):
    """Not a commitment this server understands."""


def encode_commitment(data_root: bytes, epoch: int, quorum_id: int) -> bytes:
    """The generic commitment of an attested data root."""
    return (
        bytes([GENERIC_COMMITMENT, DA_LAYER_BYTE])
        + epoch.to_bytes(8, "little")
        + quorum_id.to_bytes(8, "little")
        + data_root
    )


def decode_commitment(raw: bytes) -> tuple[bytes, int, int]:
    """(data root, epoch, quorum id) of a generic commitment."""
    if len(raw) != GENERIC_COMMITMENT_LENGTH or raw[0] != GENERIC_COMMITMENT:
        raise CommitmentError(f"a generic commitment is 0x01 followed by {GENERIC_COMMITMENT_LENGTH - 1} bytes")
    if raw[1] != DA_LAYER_BYTE:
        raise CommitmentError(f"DA layer byte 0x{raw[1]:02x} is not 0G's (0x{DA_LAYER_BYTE:02x})")
    return raw[18:], int.from_bytes(raw[2:10], "little"), int.from_bytes(raw[10:18], "little")


def parse_hex(value: str) -> bytes:
    if not value.startswith("0x"):
        raise CommitmentError("a commitment is 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise CommitmentError("a commitment is 0x-prefixed hex") from exc


class KeccakIndex:
    """keccak256(batch) -> data root, for batchers in keccak-commitment mode."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS keccak (hash BLOB PRIMARY KEY, data_root BLOB NOT NULL)")
        self.lock = threading.Lock()

    def put(self, digest: bytes, data_root: bytes) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO keccak (hash, data_root) VALUES (?, ?)", (digest, data_root))

    def get(self, digest: bytes) -> bytes | None:
        with self.lock:
            row = self.conn.execute("SELECT data_root FROM keccak WHERE hash = ?", (digest,)).fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        self.conn.close()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    put: Callable[[bytes], bytes], get: Callable[[bytes], bytes], index_path: Path, max_size: int
) -> FastAPI:
    """The server over `put(data) -> data root` / `get(data root) -> data` (a DAClient in `zg da server`).
    `put` and `get` raise LookupError for unknown data, ValueError for bad input."""
    index = KeccakIndex(index_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            index.close()

    app = FastAPI(title="0G DA: OP Stack alt-DA server", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def read(request: Request) -> bytes | JSONResponse:
        body = await request.body()
        if not body:
            return _error(400, "empty body: nothing to store")
        if len(body) > max_size:
            return _error(413, f"the batch is {len(body)} bytes, over the limit of {max_size}")
        return body

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args)
        except LookupError as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        except Exception as exc:
            log.exception("alt-DA request failed")
            return _error(502, f"the DA layer failed: {exc}")

    async def put_generic(request: Request) -> Response:
        body = await read(request)
        if isinstance(body, Response):
            return body
        commitment = await call(put, body)
        if isinstance(commitment, Response):
            return commitment
        return Response(commitment, media_type=OCTET_STREAM)

    app.add_api_route("/put", put_generic, methods=["POST"])
    app.add_api_route("/put/", put_generic, methods=["POST"])

    @app.post("/put/{commitment}")
    async def put_keccak(commitment: str, request: Request) -> Response:
        try:
            raw = parse_hex(commitment)
        except CommitmentError as exc:
            return _error(400, str(exc))
        if len(raw) != KECCAK_COMMITMENT_LENGTH or raw[0] != KECCAK_COMMITMENT:
            return _error(400, "POST /put/0x<commitment> takes a keccak commitment: 0x00 followed by 32 bytes")
        body = await read(request)
        if isinstance(body, Response):
            return body
        if keccak(body) != raw[1:]:
            return _error(400, "the body does not hash to the keccak commitment")
        generic = await call(put, body)
        if isinstance(generic, Response):
            return generic
        index.put(raw[1:], decode_commitment(generic)[0])
        return Response(status_code=200)

    @app.get("/get/{commitment}")
    async def get_data(commitment: str) -> Response:
        try:
            raw = parse_hex(commitment)
            if raw[:1] == bytes([KECCAK_COMMITMENT]):
                if len(raw) != KECCAK_COMMITMENT_LENGTH:
                    raise CommitmentError("a keccak commitment is 0x00 followed by 32 bytes")
                root = index.get(raw[1:])
                if root is None:
                    return _error(404, f"no batch with keccak 0x{raw[1:].hex()} was put here")
            else:
                root = decode_commitment(raw)[0]
        except CommitmentError as exc:
            return _error(400, str(exc))
        data = await call(get, root)
        if isinstance(data, Response):
            return data
        if raw[0] == KECCAK_COMMITMENT and keccak(data) != raw[1:]:
            return _error(502, "the DA layer returned data that does not match the keccak commitment")
        return Response(data, media_type=OCTET_STREAM)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
