"""Response bodies of the signer API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorDetail(_Model):
    code: str
    message: str


class ErrorResponse(_Model):
    error: ErrorDetail


class AttestationResponse(_Model):
    """A signer's BLS signature (G1 [x, y], hex) over DAEntrance.attestationDigest(dataRoot, epoch, quorumId)."""

    data_root: str
    epoch: int
    quorum_id: int
    slot: int
    account: str
    signature: list[str]
    columns: list[int]


class PayloadResponse(_Model):
    """What this signer stores of a data root: the payload length, every blob's KZG commitment (hex) and the
    columns it holds; `uploaded` is whether it saw the DataUpload."""

    data_root: str
    length: int
    blobs: int
    commitments: list[str]
    columns: list[int]
    uploaded: bool
    #: The quorum it was given at upload, and the first epoch it is no longer kept (null: upload not seen).
    quorum_id: int | None = None
    expiry_epoch: int | None = None


class SignerResponse(_Model):
    account: str
    socket: str
    pk_g1: list[str]
    pk_g2: list[list[str]]
    registered: bool
    slot: int | None
    leaving: bool
    stake: str
    active_from_epoch: int | None
    epoch: int | None
    member: bool
    quorum_id: int | None = None
    columns: list[int]


class HealthResponse(_Model):
    status: str
    registered: bool
    member: bool | None
    account: str
    slot: int | None
    epoch: int | None
    chain: str
    chain_id: int
    sync_height: int | None
    sync_error: str | None
    registration_error: str | None
    stored: dict[str, int]
