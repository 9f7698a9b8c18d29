"""The cells of data roots: a client hands a signer its columns and gets an attestation back; anyone reads the
stored columns back for retrieval.

POST /v1/data/{root}/columns?epoch=E[&quorum=0]   body: column bundle (zerog/da/wire.py) -> attestation
GET  /v1/data/{root}                              -> length, commitments, columns held
GET  /v1/data/{root}/columns[?columns=1,2,3]      -> column bundle of the columns held (all, or those listed)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.errors import ApiError
from services.da_signer.api.deps import RuntimeDep
from services.da_signer.attest import accept, require_paid
from services.da_signer.schemas import AttestationResponse, ErrorResponse, PayloadResponse
from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF, blob_count
from zerog.da.kzg import BYTES_PER_COMMITMENT, CELLS_PER_BLOB
from zerog.da.wire import CONTENT_TYPE, ColumnBundle

router = APIRouter(prefix="/v1/data", tags=["data"])

#: Header and index bytes of a bundle, on top of commitments and columns.
_BUNDLE_OVERHEAD = 4096

_POST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "invalid_root, invalid_bundle, root_mismatch, unknown_quorum, "
                                                 "columns_not_assigned, missing_columns"},
    409: {"model": ErrorResponse, "description": "unknown_data_root (not paid, or not synced yet: retry), "
                                                 "epoch_mismatch, not_a_member"},
    413: {"model": ErrorResponse, "description": "payload_too_large"},
    422: {"model": ErrorResponse, "description": "invalid_proofs: some cells do not prove; nothing stored or signed"},
    503: {"model": ErrorResponse, "description": "chain_unavailable"},
}  # fmt: skip


def parse_root(value: str) -> bytes:
    raw = value.removeprefix("0x")
    try:
        root = bytes.fromhex(raw)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise ApiError(400, "invalid_root", f"not a 32-byte hex data root: {value}")
    return root


def max_bundle_bytes(max_length: int) -> int:
    blobs = blob_count(max_length)
    return _BUNDLE_OVERHEAD + blobs * BYTES_PER_COMMITMENT + CELLS_PER_BLOB * blobs * BYTES_PER_CELL_WITH_PROOF


@router.post("/{root}/columns", responses=_POST_ERRORS)
async def put_columns(
    root: str,
    request: Request,
    runtime: RuntimeDep,
    epoch: int = Query(ge=0, description="The epoch signed for: the current one, or the previous in its grace window."),
    quorum: int = Query(default=0, ge=0),
) -> AttestationResponse:
    data_root = parse_root(root)
    # The platform bounds the body (max_bundle_bytes); it is read only for a data root somebody paid for.
    await run_in_threadpool(require_paid, runtime, data_root)
    body = await request.body()
    attestation = await run_in_threadpool(accept, runtime, data_root, epoch, quorum, body)
    return AttestationResponse(
        data_root=attestation.data_root,
        epoch=attestation.epoch,
        quorum_id=attestation.quorum_id,
        slot=attestation.slot,
        account=attestation.account,
        signature=attestation.signature,
        columns=attestation.columns,
    )


@router.get("/{root}", responses={404: {"model": ErrorResponse, "description": "not_stored"}})
def get_payload(root: str, runtime: RuntimeDep) -> PayloadResponse:
    data_root = parse_root(root)
    payload = runtime.store.payload(data_root)
    if payload is None or not payload.columns:
        raise ApiError(404, "not_stored", f"this signer stores no cells of {root}")
    return PayloadResponse(
        data_root=payload.data_root,
        length=payload.length,
        blobs=len(payload.commitments),
        commitments=["0x" + c.hex() for c in payload.commitments],
        columns=payload.columns,
        uploaded=runtime.store.upload(data_root) is not None,
    )


@router.get(
    "/{root}/columns",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Column bundle"},
        400: {"model": ErrorResponse, "description": "invalid_root, invalid_columns"},
        404: {"model": ErrorResponse, "description": "not_stored"},
    },
)
def get_columns(root: str, runtime: RuntimeDep, columns: str | None = None) -> Response:
    data_root = parse_root(root)
    payload = runtime.store.payload(data_root)
    if payload is None or not payload.columns:
        raise ApiError(404, "not_stored", f"this signer stores no cells of {root}")
    if columns is None:
        wanted = payload.columns
    else:
        try:
            wanted = sorted({int(c) for c in columns.split(",") if c.strip()})
        except ValueError as exc:
            raise ApiError(400, "invalid_columns", f"columns must be comma-separated integers: {columns}") from exc
        if any(not 0 <= c < CELLS_PER_BLOB for c in wanted):
            raise ApiError(400, "invalid_columns", f"columns are 0..{CELLS_PER_BLOB - 1}: {columns}")
    found = runtime.store.read_columns(data_root, wanted)
    if not found:
        raise ApiError(404, "not_stored", f"this signer stores none of columns {wanted} of {root}")
    body = ColumnBundle(payload.length, payload.commitments, found).encode()
    return Response(body, media_type=CONTENT_TYPE)
