"""The client-side encoding, without a chain: blob layout, data root, cells and proofs (ckzg), recovery from exactly
half of the cells, proof checks, the wire format, BLS keys, the column assignment rule and alt-DA commitments."""

from __future__ import annotations

import random
from itertools import combinations

import pytest
from eth_utils import keccak

from zerog.da import altda, bls, encoding, kzg, wire
from zerog.da.contracts import assign_columns
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB, EncodingError

rng = random.Random(7594)
#: Two full blobs and a bit of a third: every code path of the layout, ~0.6 s of ckzg.
SIZE = 2 * PAYLOAD_BYTES_PER_BLOB + 1234


@pytest.fixture(scope="module")
def payload() -> bytes:
    return rng.randbytes(SIZE)


@pytest.fixture(scope="module")
def encoded(payload: bytes) -> encoding.Encoded:
    return encoding.encode(payload, parallel=False)


# ---------------------------------------------------------------- layout and data root


@pytest.mark.parametrize(
    "size", [1, 31, 32, PAYLOAD_BYTES_PER_BLOB - 1, PAYLOAD_BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB + 1]
)
def test_pack__31_bytes_per_canonical_element_and_back(size: int) -> None:
    data = rng.randbytes(size)
    blobs = encoding.pack(data)
    assert len(blobs) == encoding.blob_count(size) == -(-size // PAYLOAD_BYTES_PER_BLOB)
    assert all(len(b) == kzg.BYTES_PER_BLOB for b in blobs)
    assert all(blob[i] == 0 for blob in blobs for i in range(0, kzg.BYTES_PER_BLOB, 32))
    assert blobs[0][1:32] == data[:31].ljust(31, b"\0")
    assert encoding.unpack(blobs, size) == data


def test_pack__empty_payload_refused() -> None:
    with pytest.raises(EncodingError, match="at least one byte"):
        encoding.pack(b"")


def test_unpack__refuses_non_payload_elements() -> None:
    blob = bytearray(encoding.pack(b"x" * 100)[0])
    blob[32 * 5] = 1
    with pytest.raises(EncodingError, match="blob 0 element 5"):
        encoding.unpack([bytes(blob)], 100)


def test_data_root__definition(encoded: encoding.Encoded) -> None:
    leaves = [keccak(c) for c in encoded.commitments] + [bytes(32)]  # 3 blobs, padded to 4
    tree = keccak(keccak(leaves[0] + leaves[1]) + keccak(leaves[2] + leaves[3]))
    assert encoded.root == keccak(SIZE.to_bytes(32, "big") + tree)
    assert encoding.data_root(SIZE - 1, encoded.commitments) != encoded.root  # the length is committed
    with pytest.raises(EncodingError, match="has 3 blobs, not 2"):
        encoding.data_root(SIZE, encoded.commitments[:2])


# ---------------------------------------------------------------- cells, proofs, recovery


def test_encode__data_cells_are_the_blob_and_proofs_verify(encoded: encoding.Encoded, payload: bytes) -> None:
    blobs = encoding.pack(payload)
    assert encoded.blobs == 3
    for b in range(encoded.blobs):
        assert b"".join(encoded.cell(b, c) for c in range(kzg.DATA_CELLS_PER_BLOB)) == blobs[b]
    assert encoding.verify_columns(encoded.commitments, {c: encoded.column(c) for c in range(128)}) == []


def test_encode__in_worker_processes_is_identical(encoded: encoding.Encoded, payload: bytes) -> None:
    parallel = encoding.encode(payload, parallel=True)
    assert (parallel.commitments, parallel.cells, parallel.proofs) == (
        encoded.commitments,
        encoded.cells,
        encoded.proofs,
    )


@pytest.mark.parametrize("which", ["parity half", "odd columns", "two signers of four"])
def test_decode__from_exactly_half_of_the_cells(encoded: encoding.Encoded, payload: bytes, which: str) -> None:
    columns = {
        "parity half": range(64, 128),
        "odd columns": range(1, 128, 2),
        "two signers of four": [*range(32, 64), *range(96, 128)],
    }[which]
    half = {c: encoded.column(c) for c in columns}
    assert len(half) == 64
    assert encoding.decode(SIZE, encoded.commitments, half) == payload


def test_decode__one_column_short_is_refused(encoded: encoding.Encoded) -> None:
    with pytest.raises(EncodingError, match="63 columns cannot recover"):
        encoding.decode(SIZE, encoded.commitments, {c: encoded.column(c) for c in range(1, 64)})


def test_verify_columns__names_tampered_columns(encoded: encoding.Encoded) -> None:
    columns = {c: encoded.column(c) for c in range(8)}
    flipped = bytearray(columns[3])
    flipped[100] ^= 1  # a bit of blob 0's cell
    columns[3] = bytes(flipped)
    # Column 5 with blob 1's proof of column 6: a valid proof, of another cell.
    swapped = bytearray(columns[5])
    at = encoding.BYTES_PER_CELL_WITH_PROOF + kzg.BYTES_PER_CELL
    swapped[at : at + 48] = encoded.proof(1, 6)
    columns[5] = bytes(swapped)
    columns[7] = columns[7][:-1]  # truncated
    assert encoding.verify_columns(encoded.commitments, columns) == [3, 5, 7]
    assert encoding.verify_columns(encoded.commitments, {200: encoded.column(0)}) == [200]


# ---------------------------------------------------------------- wire


def test_wire__round_trip_and_root(encoded: encoding.Encoded) -> None:
    bundle = wire.bundle(encoded, [5, 1, 99])
    parsed = wire.ColumnBundle.decode(bundle.encode(), SIZE)
    assert parsed.root == encoded.root and sorted(parsed.columns) == [1, 5, 99]
    assert parsed.columns[99] == encoded.column(99)
    empty = wire.ColumnBundle.decode(wire.bundle(encoded, []).encode(), SIZE)
    assert empty.columns == {} and empty.commitments == encoded.commitments


def test_wire__malformed_bodies_refused(encoded: encoding.Encoded) -> None:
    body = wire.bundle(encoded, [1, 2]).encode()
    cases = {
        b"short": "shorter than",
        b"XXXX" + body[4:]: "bad magic",
        body[:4] + b"\x09" + body[5:]: "unsupported column bundle version 9",
        body[:-1]: "expected",
        body + b"\0": "expected",
    }
    indices_at = 19 + 48 * encoded.blobs  # header, commitments, then the u16 column indices
    cases[body[:indices_at] + b"\x00\x01\x00\x01" + body[indices_at + 4 :]] = "distinct"
    cases[body[:indices_at] + b"\x00\x01\x00\x80" + body[indices_at + 4 :]] = "below 128"
    for bad, message in cases.items():
        with pytest.raises(wire.WireError, match=message):
            wire.ColumnBundle.decode(bad, SIZE)
    with pytest.raises(wire.WireError, match="outside 1"):
        wire.ColumnBundle.decode(body, SIZE - 1)


# ---------------------------------------------------------------- keys, columns, commitments


def test_bls__derivation_signing_and_encodings() -> None:
    sk = bls.derive_secret_key(b"\x11" * 32)
    assert sk == bls.derive_secret_key(b"\x11" * 32) and 0 < sk < bls.R
    assert sk != bls.derive_secret_key(b"\x11" * 32, b"another tag")
    key = bls.KeyPair(sk)
    assert key.pk1.is_valid() and key.pk2.is_valid()
    assert bls.G1.from_json(key.pk1.to_json()) == key.pk1 and bls.G2.from_json(key.pk2.to_json()) == key.pk2
    assert bls.G2.from_contract(key.pk2.to_contract()) == key.pk2
    with pytest.raises(bls.BLSError, match="not on the curve"):
        bls.G1.from_json(["0x1", "0x3"])
    with pytest.raises(bls.BLSError, match="not on the twist"):
        bls.G2.from_json([["0x1", "0x2"], ["0x3", "0x4"]])
    with pytest.raises(bls.BLSError):
        bls.KeyPair(0)
    with pytest.raises(bls.BLSError, match="32 bytes"):
        bls.hash_to_g1(b"short")


def test_assign_columns__any_two_thirds_of_stake_holds_half_the_columns() -> None:
    """The property DASigners documents: with at most 32 signers, every set of signers with >= 2/3 of the stake
    is assigned >= 64 columns, so a quorum that attests can always serve a recovery."""
    for trial in range(300):
        n = rng.choice([1, 2, 3, 4, 5, 7, 12, 32])
        stakes = [rng.choice([1, 2, 3, 10, 1000]) * 10**18 + rng.randrange(10**18) for _ in range(n)]
        ranges = assign_columns(stakes)
        assert sum(len(r) for r in ranges) == 128 and ranges[0].start == 0
        assert all(a.stop == b.start for a, b in zip(ranges, ranges[1:], strict=False))
        total = sum(stakes)
        subsets = (
            combinations(range(n), n - 1) if n > 8 else (s for k in range(1, n + 1) for s in combinations(range(n), k))
        )
        for subset in subsets:
            stake = sum(stakes[i] for i in subset)
            if stake * 3 >= total * 2:
                assert sum(len(ranges[i]) for i in subset) >= 64, (trial, stakes, subset)


def test_altda_commitment__0g_layout() -> None:
    data_root = bytes(range(32))
    commitment = altda.encode_commitment(data_root, 5, 0)
    assert commitment[:2] == b"\x01\x47" and len(commitment) == 50
    assert commitment[2:10] == (5).to_bytes(8, "little") and commitment[18:] == data_root
    assert altda.decode_commitment(commitment) == (data_root, 5, 0)
    for bad in (commitment[:-1], b"\x00" + commitment[1:], commitment[:1] + b"\x48" + commitment[2:]):
        with pytest.raises(altda.CommitmentError):
            altda.decode_commitment(bad)


def test_trusted_setup__the_ceremony_file() -> None:
    path = kzg.trusted_setup_path()
    assert path.is_file() and path.name == "kzg_trusted_setup.txt"
