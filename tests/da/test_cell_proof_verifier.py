"""The on-chain EIP-7594 cell proof check (KZGCellVerifier, the KZGCellProof library) against ckzg: cells and proofs
ckzg computes verify on chain, altered ones do not, malformed ones revert with the library's custom errors; the
interpolation and the point decompression are checked on their own (KZGCellProofHarness) against the spec's coset
and py_ecc. The EIP-2537 precompiles need Prague, which the project's chains run (ape's test chain too); one test shows
what a Cancun chain does."""

from __future__ import annotations

import random
from typing import Any

import ckzg
import pytest
from ape import networks
from eth_abi import encode as abi_encode
from eth_utils import keccak
from py_ecc.bls.point_compression import compress_G1, decompress_G1
from py_ecc.fields import optimized_bls12_381_FQ as FQ
from py_ecc.optimized_bls12_381 import G1, curve_order, field_modulus, is_inf, multiply, neg
from web3.exceptions import ContractCustomError

from zerog.da import encoding, kzg
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB
from zerog.da.kzg import BYTES_PER_CELL, CELLS_PER_BLOB

rng = random.Random(2537)
R = curve_order
P = field_modulus
FIELD_ELEMENTS_PER_CELL = 64
#: The spec's primitive root: the roots of unity of the extended blob are powers of 7^((r-1)/8192).
PRIMITIVE_ROOT = 7
EXT_ELEMENTS = FIELD_ELEMENTS_PER_CELL * CELLS_PER_BLOB
CELL_BITS, INDEX_BITS = 6, 7
G1MSM, PAIRING_CHECK = 0x0C, 0x0F
#: Compressed point at infinity: compression and infinity flags, nothing else.
INFINITY = bytes([0xC0]) + bytes(47)
#: Gas one verification may cost at most (measured ~698k on anvil's Prague pricing, 448.5k of it the G1MSM:
#: benches/da_cell_proof_gas.py).
GAS_BUDGET = 750_000


@pytest.fixture(scope="module")
def verifier(project: Any, accounts: Any) -> Any:
    return project.KZGCellVerifier.deploy(sender=accounts[0])


@pytest.fixture(scope="module")
def harness(project: Any, accounts: Any) -> Any:
    return project.KZGCellProofHarness.deploy(sender=accounts[0])


@pytest.fixture(scope="module")
def blob() -> encoding.Encoded:
    """One full blob: its commitment, 128 cells and 128 proofs (ckzg, ~0.3 s)."""
    return encoding.encode(rng.randbytes(PAYLOAD_BYTES_PER_BLOB), parallel=False)


def elements(cell: bytes) -> list[int]:
    return [int.from_bytes(cell[i : i + 32], "big") for i in range(0, BYTES_PER_CELL, 32)]


def reverse_bits(value: int, bits: int) -> int:
    return int(format(value, f"0{bits}b")[::-1], 2)


def coset_point(cell_index: int, j: int) -> int:
    """The spec's coset_for_cell(cell_index)[j]: the bit-reversed roots of unity of the extended blob, 64 a cell."""
    root = pow(PRIMITIVE_ROOT, (R - 1) // EXT_ELEMENTS, R)
    return pow(root, reverse_bits(cell_index * FIELD_ELEMENTS_PER_CELL + j, CELL_BITS + INDEX_BITS), R)


def compressed(point: tuple[FQ, FQ, FQ]) -> bytes:
    return compress_G1(point).to_bytes(48, "big")


def encoded(point: tuple[FQ, FQ, FQ]) -> bytes:
    """EIP-2537 encoding of an affine point (z = 1): x || y, 64 bytes each."""
    if is_inf(point):
        return bytes(128)
    return b"".join(int(c / point[2]).to_bytes(64, "big") for c in point[:2])


def custom_error(signature: str, types: list[str], *values: Any) -> bytes:
    return keccak(text=signature)[:4] + abi_encode(types, values)


def revert_data(verifier: Any, *args: Any) -> bytes:
    """What verifyCellProof(*args) reverts with, from a bare eth_call: ape.reverts traces each call (~1 s, ~10 s
    when a precompile failed and burnt the call's gas)."""
    call = {"to": verifier.address, "data": verifier.verifyCellProof.encode_input(*args)}
    with pytest.raises(ContractCustomError) as failure:
        verifier.provider.web3.eth.call(call)
    return bytes.fromhex(str(failure.value.data).removeprefix("0x"))


def off_subgroup_point() -> bytes:
    """A compressed point of the curve outside the order-r subgroup."""
    x = 1
    while True:
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        point = (FQ(x), FQ(y), FQ.one())
        if y * y % P == rhs and not is_inf(multiply(point, R)):
            return compressed(point)
        x += 1


def not_on_curve() -> bytes:
    """A well-flagged compressed x for which x^3 + 4 has no square root."""
    x = next(x for x in range(1, 100) if pow((x**3 + 4) % P, (P - 1) // 2, P) == P - 1)
    return (x | (1 << 383)).to_bytes(48, "big")


# ---------------------------------------------------------------- valid cells


@pytest.mark.parametrize("index", [0, 1, 63, 64, 100, 127])
def test_valid_cell__verifies(verifier: Any, blob: encoding.Encoded, index: int) -> None:
    args = (blob.commitments[0], index, blob.cell(0, index), blob.proof(0, index))
    assert kzg.verify_cells([args[0]], [index], [args[2]], [args[3]])
    assert verifier.verifyCellProof(*args) is True


def test_zero_blob__infinity_commitment_and_proofs_verify(verifier: Any) -> None:
    """The zero polynomial: commitment and proofs are the point at infinity, cells zero."""
    zero = bytes(BYTES_PER_CELL)
    assert kzg.verify_cells([INFINITY], [5], [zero], [INFINITY])
    assert verifier.verifyCellProof(INFINITY, 5, zero, INFINITY) is True
    assert verifier.verifyCellProof(INFINITY, 5, (1).to_bytes(32, "big") + zero[32:], INFINITY) is False


def test_gas__one_verification_within_budget(verifier: Any, blob: encoding.Encoded, accounts: Any) -> None:
    """The figure and where it goes: benches/da_cell_proof_gas.py."""
    args = (blob.commitments[0], 77, blob.cell(0, 77), blob.proof(0, 77))
    assert verifier.verifyCellProof.estimate_gas_cost(*args, sender=accounts[0]) < GAS_BUDGET


# ---------------------------------------------------------------- wrong data


def test_flipped_byte_in_cell__fails(verifier: Any, blob: encoding.Encoded) -> None:
    cell = bytearray(blob.cell(0, 9))
    cell[32 * 17 + 31] ^= 0x01  # still canonical
    assert verifier.verifyCellProof(blob.commitments[0], 9, bytes(cell), blob.proof(0, 9)) is False


def test_proof_of_another_cell__fails(verifier: Any, blob: encoding.Encoded) -> None:
    commitment = blob.commitments[0]
    assert verifier.verifyCellProof(commitment, 9, blob.cell(0, 9), blob.proof(0, 10)) is False
    # The right cell and proof under another index (another coset).
    assert verifier.verifyCellProof(commitment, 10, blob.cell(0, 9), blob.proof(0, 9)) is False


def test_commitment_of_another_blob__fails(verifier: Any, blob: encoding.Encoded) -> None:
    other = ckzg.blob_to_kzg_commitment(encoding.pack(rng.randbytes(1000))[0], kzg.load_setup())
    assert verifier.verifyCellProof(other, 9, blob.cell(0, 9), blob.proof(0, 9)) is False


# ---------------------------------------------------------------- malformed input


def test_malformed_cell__reverts(verifier: Any, blob: encoding.Encoded) -> None:
    commitment, cell, proof = blob.commitments[0], blob.cell(0, 3), blob.proof(0, 3)
    assert revert_data(verifier, commitment, CELLS_PER_BLOB, cell, proof) == custom_error(
        "InvalidCellIndex(uint256)", ["uint256"], CELLS_PER_BLOB
    )
    assert revert_data(verifier, commitment, 3, cell[:-1], proof) == custom_error(
        "InvalidCellLength(uint256)", ["uint256"], BYTES_PER_CELL - 1
    )
    non_canonical = cell[: 32 * 6] + R.to_bytes(32, "big") + cell[32 * 7 :]
    assert revert_data(verifier, commitment, 3, non_canonical, proof) == custom_error(
        "NonCanonicalFieldElement(uint256)", ["uint256"], 6
    )


def test_malformed_point__reverts(verifier: Any, blob: encoding.Encoded) -> None:
    commitment, cell, proof = blob.commitments[0], blob.cell(0, 3), blob.proof(0, 3)
    uncompressed_flag = bytes([proof[0] & 0x7F]) + proof[1:]
    x_too_large = (P | (1 << 383)).to_bytes(48, "big")
    bad_infinity = bytes([0xE0]) + bytes(47)
    for bad in (uncompressed_flag, x_too_large, not_on_curve(), bad_infinity, proof[:47]):
        expected = custom_error("InvalidG1Point(bytes)", ["bytes"], bad)
        assert revert_data(verifier, commitment, 3, cell, bad) == expected
        assert revert_data(verifier, bad, 3, cell, proof) == expected
    # On the curve, outside the subgroup: the G1MSM refuses the proof, the pairing the sum with the commitment.
    off = off_subgroup_point()
    failed = "BLS12PrecompileFailed(uint256)"
    assert revert_data(verifier, commitment, 3, cell, off) == custom_error(failed, ["uint256"], G1MSM)
    assert revert_data(verifier, off, 3, cell, proof) == custom_error(failed, ["uint256"], PAIRING_CHECK)


def test_before_prague__reverts_precompile_failed(project: Any, accounts: Any, blob: encoding.Encoded) -> None:
    """Before Prague the EIP-2537 addresses are empty accounts, whose calls succeed with
    no output; the check reverts rather than reads that as a verdict."""
    with networks.ethereum.local.use_provider("foundry", provider_settings={"evm_version": "cancun"}):
        verifier = project.KZGCellVerifier.deploy(sender=accounts[0])
        args = (blob.commitments[0], 3, blob.cell(0, 3), blob.proof(0, 3))
        assert revert_data(verifier, *args) == custom_error("BLS12PrecompileFailed(uint256)", ["uint256"], G1MSM)


# ---------------------------------------------------------------- the parts


@pytest.mark.parametrize("index", [0, 77])
def test_interpolate__polynomial_takes_the_cell_on_its_coset(harness: Any, blob: encoding.Encoded, index: int) -> None:
    cell = elements(blob.cell(0, index))
    coefficients = [int(c) for c in harness.interpolate(index, blob.cell(0, index))]
    for j in range(0, FIELD_ELEMENTS_PER_CELL, 7):
        x = coset_point(index, j)
        assert sum(c * pow(x, i, R) for i, c in enumerate(coefficients)) % R == cell[j]


def test_decompress__matches_py_ecc(harness: Any, blob: encoding.Encoded) -> None:
    points = [blob.commitments[0], blob.proof(0, 0), blob.proof(0, 1), compressed(multiply(G1, 5))]
    for raw in points:
        point = decompress_G1(int.from_bytes(raw, "big"))
        assert bytes(harness.decompressG1(raw, False)) == encoded(point)
        assert bytes(harness.decompressG1(raw, True)) == encoded(neg(point))
    assert bytes(harness.decompressG1(INFINITY, True)) == bytes(128)
