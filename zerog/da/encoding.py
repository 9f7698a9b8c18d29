"""Payload <-> KZG blobs, cells and proofs, and the data root.

Layout: the payload is cut into 31-byte pieces; each becomes a 32-byte field element with a zero top byte (so
every element is canonical, below the BLS12-381 scalar modulus), 4096 elements make a blob (126 976 payload
bytes), and the last blob is zero-padded. Each blob is extended 2x into 128 cells of 2048 bytes with a KZG proof
each (ckzg, EIP-7594); cells 0..63 are the blob itself, and any 64 cells recover it.

Data root (what DAEntrance records and the signers attest):
    leaf_i = keccak256(commitment_i)                    (48-byte KZG commitment of blob i)
    tree   = keccak merkle over the leaves, padded with zero leaves to a power of two; a node is
             keccak256(left || right); one blob: the tree is its leaf
    root   = keccak256(uint256(payload length) || tree)   (length as 32 big-endian bytes)
The length fixes the number of blobs, ceil(length / 126976).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from eth_utils import keccak

from zerog.da import kzg
from zerog.da.kzg import (
    BYTES_PER_BLOB,
    BYTES_PER_CELL,
    BYTES_PER_COMMITMENT,
    BYTES_PER_FIELD_ELEMENT,
    BYTES_PER_PROOF,
    CELLS_PER_BLOB,
    DATA_CELLS_PER_BLOB,
    FIELD_ELEMENTS_PER_BLOB,
)

PAYLOAD_BYTES_PER_ELEMENT = 31
PAYLOAD_BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * PAYLOAD_BYTES_PER_ELEMENT
#: One cell and its proof, as a column stores them per blob.
BYTES_PER_CELL_WITH_PROOF = BYTES_PER_CELL + BYTES_PER_PROOF
#: Blobs a data root can cover at most (a 32-bit count on the wire; the size limit is far below).
MAX_BLOBS = 2**32 - 1


class EncodingError(ValueError):
    """Data cannot be encoded, or cells cannot be decoded into the data they claim to be."""


def blob_count(length: int) -> int:
    """KZG blobs of a payload of `length` bytes (at least one)."""
    if length <= 0:
        raise EncodingError("a payload must hold at least one byte")
    return -(-length // PAYLOAD_BYTES_PER_BLOB)


def pack(data: bytes) -> list[bytes]:
    """The blobs of `data`: 31 payload bytes per 32-byte element, zero top byte, last blob zero-padded."""
    count = blob_count(len(data))
    padded = np.zeros(count * PAYLOAD_BYTES_PER_BLOB, dtype=np.uint8)
    padded[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    elements = np.zeros((count * FIELD_ELEMENTS_PER_BLOB, BYTES_PER_FIELD_ELEMENT), dtype=np.uint8)
    elements[:, 1:] = padded.reshape(-1, PAYLOAD_BYTES_PER_ELEMENT)
    flat = elements.reshape(count, BYTES_PER_BLOB)
    return [flat[i].tobytes() for i in range(count)]


def unpack(blobs: Sequence[bytes], length: int) -> bytes:
    """The payload of `blobs` (inverse of `pack`); refuses elements whose top byte is not zero."""
    if len(blobs) != blob_count(length):
        raise EncodingError(f"{len(blobs)} blobs cannot hold a {length}-byte payload")
    elements = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(-1, BYTES_PER_FIELD_ELEMENT)
    if elements[:, 0].any():
        bad = int(np.flatnonzero(elements[:, 0])[0])
        raise EncodingError(
            f"blob {bad // FIELD_ELEMENTS_PER_BLOB} element {bad % FIELD_ELEMENTS_PER_BLOB} is not a 31-byte "
            "payload element: the data was not encoded by this layout"
        )
    return elements[:, 1:].tobytes()[:length]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Keccak merkle root over `leaves`, padded with zero leaves to a power of two."""
    if not leaves:
        raise EncodingError("no leaves")
    level = list(leaves)
    width = 1 << (len(level) - 1).bit_length()
    level += [bytes(32)] * (width - len(level))
    while len(level) > 1:
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def merkle_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The siblings of leaf `index` up to the root of `merkle_root(leaves)`, leaf level first."""
    if not 0 <= index < len(leaves):
        raise EncodingError(f"no leaf {index} among {len(leaves)}")
    level = list(leaves)
    level += [bytes(32)] * ((1 << (len(level) - 1).bit_length()) - len(level))
    path = []
    while len(level) > 1:
        path.append(level[index ^ 1])
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        index //= 2
    return path


def commitment_path(commitments: Sequence[bytes], blob: int) -> list[bytes]:
    """The merkle path of blob `blob`'s commitment to the data root's tree (what DAChallenges.respond checks)."""
    return merkle_path([keccak(c) for c in commitments], blob)


def data_root(length: int, commitments: Sequence[bytes]) -> bytes:
    """The data root of a `length`-byte payload whose blobs have these KZG commitments."""
    if len(commitments) != blob_count(length):
        raise EncodingError(f"a {length}-byte payload has {blob_count(length)} blobs, not {len(commitments)}")
    if any(len(c) != BYTES_PER_COMMITMENT for c in commitments):
        raise EncodingError("a KZG commitment is 48 bytes")
    tree = merkle_root([keccak(c) for c in commitments])
    return keccak(length.to_bytes(32, "big") + tree)


@dataclass(frozen=True)
class Encoded:
    """A payload encoded: per blob its commitment, 128 cells and 128 proofs (each blob's concatenated)."""

    length: int
    commitments: list[bytes]
    cells: list[bytes]
    proofs: list[bytes]

    @property
    def blobs(self) -> int:
        return len(self.commitments)

    @property
    def root(self) -> bytes:
        return data_root(self.length, self.commitments)

    def cell(self, blob: int, column: int) -> bytes:
        return self.cells[blob][column * BYTES_PER_CELL : (column + 1) * BYTES_PER_CELL]

    def proof(self, blob: int, column: int) -> bytes:
        return self.proofs[blob][column * BYTES_PER_PROOF : (column + 1) * BYTES_PER_PROOF]

    def column(self, column: int) -> bytes:
        """Column `column`: for each blob, its cell then its proof (how signers store and serve it)."""
        return b"".join(self.cell(b, column) + self.proof(b, column) for b in range(self.blobs))


def encode(data: bytes, parallel: bool | None = None) -> Encoded:
    """Blobs, commitments, cells and proofs of `data` (in worker processes for big payloads)."""
    blobs = pack(data)
    commitments, cells, proofs = [], [], []
    for commitment, blob_cells, blob_proofs in kzg.compute_blobs(blobs, parallel):
        commitments.append(commitment)
        cells.append(blob_cells)
        proofs.append(blob_proofs)
    return Encoded(len(data), commitments, cells, proofs)


def split_column(column: bytes, blobs: int) -> tuple[list[bytes], list[bytes]]:
    """(cells, proofs) of a stored column of `blobs` blobs."""
    if len(column) != blobs * BYTES_PER_CELL_WITH_PROOF:
        raise EncodingError(
            f"a column of {blobs} blobs is {blobs * BYTES_PER_CELL_WITH_PROOF} bytes, not {len(column)}"
        )
    cells, proofs = [], []
    for b in range(blobs):
        at = b * BYTES_PER_CELL_WITH_PROOF
        cells.append(column[at : at + BYTES_PER_CELL])
        proofs.append(column[at + BYTES_PER_CELL : at + BYTES_PER_CELL_WITH_PROOF])
    return cells, proofs


def verify_column(commitments: Sequence[bytes], column: int, data: bytes) -> bool:
    """Whether every cell of column `column` (stored layout) proves against its blob's commitment."""
    if not 0 <= column < CELLS_PER_BLOB:
        return False
    try:
        cells, proofs = split_column(data, len(commitments))
    except EncodingError:
        return False
    return kzg.verify_cells(commitments, [column] * len(cells), cells, proofs)


def verify_columns(commitments: Sequence[bytes], columns: Mapping[int, bytes]) -> list[int]:
    """The columns of `columns` that are malformed or whose proofs fail (empty if all verify): one batch check
    of the well-formed ones, and per column only when the batch fails, to say which."""
    blobs = len(commitments)
    size = blobs * BYTES_PER_CELL_WITH_PROOF
    malformed = {c for c, d in columns.items() if len(d) != size or not 0 <= c < CELLS_PER_BLOB}
    all_commitments, indices, cells, proofs = [], [], [], []
    for column, data in columns.items():
        if column in malformed:
            continue
        column_cells, column_proofs = split_column(data, blobs)
        all_commitments += commitments
        indices += [column] * blobs
        cells += column_cells
        proofs += column_proofs
    if kzg.verify_cells(all_commitments, indices, cells, proofs):
        return sorted(malformed)
    failed = {c for c, d in columns.items() if c not in malformed and not verify_column(commitments, c, d)}
    return sorted(malformed | failed)


def decode(
    length: int, commitments: Sequence[bytes], columns: Mapping[int, bytes], parallel: bool | None = None
) -> bytes:
    """The payload from any 64 or more verified columns (stored layout). With all of columns 0..63 the blobs are
    read directly; otherwise each blob is recovered from the columns at hand."""
    blobs = len(commitments)
    if blobs != blob_count(length):
        raise EncodingError(f"a {length}-byte payload has {blob_count(length)} blobs, not {blobs}")
    if len(columns) < DATA_CELLS_PER_BLOB:
        raise EncodingError(f"{len(columns)} columns cannot recover the data: any {DATA_CELLS_PER_BLOB} are needed")
    split = {c: split_column(d, blobs)[0] for c, d in columns.items()}
    if all(c in split for c in range(DATA_CELLS_PER_BLOB)):
        blob_bytes = [b"".join(split[c][b] for c in range(DATA_CELLS_PER_BLOB)) for b in range(blobs)]
    else:
        indices = sorted(split)
        jobs = [(indices, [split[c][b] for c in indices]) for b in range(blobs)]
        blob_bytes = [cells[:BYTES_PER_BLOB] for cells, _ in kzg.recover_blobs(jobs, parallel)]
    return unpack(blob_bytes, length)
