"""The cells of data roots: a client hands a signer its columns and gets an attestation back; anyone reads the
stored columns back for retrieval.

POST /v1/data/{root}/columns?epoch=E&quorum=Q     body: column bundle (zerog/da/wire.py) -> attestation
GET  /v1/data/{root}                              -> length, commitments, columns held, quorum, expiry epoch
GET  /v1/data/{root}/columns[?columns=1,2,3]      -> column bundle of the columns held (all, or those listed)

A signer takes only the blobs of its quorum (409 not_in_quorum otherwise) and keeps them until their expiry
epoch; from then on every request for them answers 410 `expired`, naming the epoch.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.errors import ApiError
from services.da_signer.api.deps import RuntimeDep
from services.da_signer.attest import accept, expired_error, require_paid
from services.da_signer.schemas import AttestationResponse, ErrorResponse, PayloadResponse
from services.da_signer.store import Payload
from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF, blob_count
from zerog.da.kzg import BYTES_PER_COMMITMENT, CELLS_PER_BLOB
from zerog.da.wire import CONTENT_TYPE, ColumnBundle

router = APIRouter(prefix="/v1/data", tags=["data"])

#: Header and index bytes of a bundle, on top of commitments and columns.
_BUNDLE_OVERHEAD = 4096

_POST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "invalid_root, invalid_bundle, root_mismatch, length_mismatch, "
                                                 "wrong_quorum, columns_not_assigned, missing_columns"},
    409: {"model": ErrorResponse, "description": "unknown_data_root (not paid, or not synced yet: retry), "
                                                 "epoch_mismatch, not_a_member, not_in_quorum"},
    410: {"model": ErrorResponse, "description": "expired: the retention of the data root is over"},
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
    quorum: int = Query(default=0, ge=0, description="The blob's quorum (DataUpload; folded into the epoch's count)."),
) -> AttestationResponse:
    data_root = parse_root(root)
    # The platform bounds the body (max_bundle_bytes); it is read only for a data root somebody paid for.
    await run_in_threadpool(require_paid, runtime, data_root)
    body = await request.body()
    attestation = await run_in_threadpool(accept, runtime, data_root, epoch, quorum, body)
    runtime.bytes_received += len(body)  # on the event loop: no lock needed
    return AttestationResponse(
        data_root=attestation.data_root,
        epoch=attestation.epoch,
        quorum_id=attestation.quorum_id,
        slot=attestation.slot,
        account=attestation.account,
        signature=attestation.signature,
        columns=attestation.columns,
    )


def _stored(runtime: RuntimeDep, data_root: bytes, root: str) -> Payload:
    """The stored payload of a root within its retention: 410 once expired, 404 if none is stored."""
    upload = runtime.store.upload(data_root)
    if upload is not None and upload.expiry_epoch and runtime.epoch_now(default=0) >= upload.expiry_epoch:
        raise expired_error(data_root, upload)
    payload = runtime.store.payload(data_root)
    if payload is None or not payload.columns:
        raise ApiError(404, "not_stored", f"this signer stores no cells of {root}")
    return payload


@router.get(
    "/{root}",
    responses={
        404: {"model": ErrorResponse, "description": "not_stored"},
        410: {"model": ErrorResponse, "description": "expired"},
    },
)
def get_payload(root: str, runtime: RuntimeDep) -> PayloadResponse:
    data_root = parse_root(root)
    payload = _stored(runtime, data_root, root)
    upload = runtime.store.upload(data_root)
    return PayloadResponse(
        data_root=payload.data_root,
        length=payload.length,
        blobs=len(payload.commitments),
        commitments=["0x" + c.hex() for c in payload.commitments],
        columns=payload.columns,
        uploaded=upload is not None,
        quorum_id=upload.quorum_id if upload else None,
        expiry_epoch=upload.expiry_epoch if upload else None,
    )


@router.get(
    "/{root}/columns",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Column bundle"},
        400: {"model": ErrorResponse, "description": "invalid_root, invalid_columns"},
        404: {"model": ErrorResponse, "description": "not_stored"},
        410: {"model": ErrorResponse, "description": "expired"},
    },
)
def get_columns(root: str, runtime: RuntimeDep, columns: str | None = None) -> Response:
    data_root = parse_root(root)
    payload = _stored(runtime, data_root, root)
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
