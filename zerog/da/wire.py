"""The binary format cells travel in between clients and signers (`application/octet-stream`).

    magic "ZGDA" | version u8 = 1 | payload length u64 | blobs u32 | columns u16        (big endian)
    commitments: blobs x 48 bytes
    column indices: columns x u16
    column data: for each column (in the order above), for each blob: cell (2048 bytes) then proof (48 bytes)

A column's data is exactly what a signer stores for it, so a signer writes and serves the slices unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF, Encoded, blob_count, data_root
from zerog.da.kzg import BYTES_PER_COMMITMENT, CELLS_PER_BLOB

MAGIC = b"ZGDA"
VERSION = 1
CONTENT_TYPE = "application/octet-stream"
_HEADER = struct.Struct(">4sBQIH")
_INDEX = struct.Struct(">H")


class WireError(ValueError):
    """A body is not a well-formed column bundle."""


@dataclass(frozen=True)
class ColumnBundle:
    """Some columns of a payload's blobs, with everything needed to check them: the payload length and the
    commitments of all its blobs (which hash, with the length, to the data root)."""

    length: int
    commitments: list[bytes]
    columns: dict[int, bytes]

    @property
    def blobs(self) -> int:
        return len(self.commitments)

    @property
    def root(self) -> bytes:
        return data_root(self.length, self.commitments)

    def encode(self) -> bytes:
        order = sorted(self.columns)
        parts = [_HEADER.pack(MAGIC, VERSION, self.length, self.blobs, len(order)), *self.commitments]
        parts += [_INDEX.pack(c) for c in order]
        parts += [self.columns[c] for c in order]
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes, max_length: int) -> ColumnBundle:
        """Parse and size-check `body`; `max_length` bounds the payload length it may claim."""
        if len(body) < _HEADER.size:
            raise WireError(f"body of {len(body)} bytes is shorter than the {_HEADER.size}-byte header")
        magic, version, length, blobs, count = _HEADER.unpack_from(body)
        if magic != MAGIC:
            raise WireError("not a column bundle (bad magic)")
        if version != VERSION:
            raise WireError(f"unsupported column bundle version {version} (this side speaks {VERSION})")
        if not 0 < length <= max_length:
            raise WireError(f"payload length {length} is outside 1..{max_length}")
        if blobs != blob_count(length):
            raise WireError(f"a {length}-byte payload has {blob_count(length)} blobs, not {blobs}")
        if count > CELLS_PER_BLOB:
            raise WireError(f"{count} columns: a blob has only {CELLS_PER_BLOB}")
        column_bytes = blobs * BYTES_PER_CELL_WITH_PROOF
        expected = _HEADER.size + blobs * BYTES_PER_COMMITMENT + count * _INDEX.size + count * column_bytes
        if len(body) != expected:
            raise WireError(f"body is {len(body)} bytes, expected {expected} for {blobs} blobs and {count} columns")
        at = _HEADER.size
        commitments = [body[at + i * BYTES_PER_COMMITMENT : at + (i + 1) * BYTES_PER_COMMITMENT] for i in range(blobs)]
        at += blobs * BYTES_PER_COMMITMENT
        order = [_INDEX.unpack_from(body, at + i * _INDEX.size)[0] for i in range(count)]
        at += count * _INDEX.size
        if len(set(order)) != count or any(c >= CELLS_PER_BLOB for c in order):
            raise WireError(f"column indices must be distinct and below {CELLS_PER_BLOB}: {order}")
        columns = {c: body[at + i * column_bytes : at + (i + 1) * column_bytes] for i, c in enumerate(order)}
        return cls(length, commitments, columns)


def bundle(encoded: Encoded, columns: Iterable[int]) -> ColumnBundle:
    """The bundle of some columns of an encoded payload."""
    return ColumnBundle(encoded.length, encoded.commitments, {c: encoded.column(c) for c in columns})
