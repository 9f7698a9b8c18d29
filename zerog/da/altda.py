"""OP Stack alt-DA commitments of 0G DA (the server is the daemon services.da_server, `zg da server`).

Commitments follow the OP alt-DA encoding `commitment_type || payload`:

- generic (type 0x01), what `POST /put` returns: 0x01 || da_layer 0x47 || epoch (u64 little endian) ||
  quorum id (u64 little endian) || data root (32 bytes) -- the same layout as 0G's own DA server, 50 bytes;
- keccak (type 0x00), for a batcher in keccak mode: `POST /put/0x00<keccak256(body)>` stores the body and
  remembers which data root holds it; `GET /get/0x00<keccak>` returns it after checking the hash.
"""

from __future__ import annotations

import logging

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
