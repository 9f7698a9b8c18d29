"""The Solidity BN254 library (through BN254Harness) against py_ecc and zerog.da.bls, both ways: points and hashes
the contract computes are checked in Python, signatures Python makes are checked by the contract, and the two
verifiers give the same verdict on valid, forged and malformed inputs."""

from __future__ import annotations

import random
from typing import Any

import ape
import pytest

from tests.da.conftest import keys
from zerog.da import bls
from zerog.da.bls import G1, G1_GENERATOR, G2, G2_GENERATOR, P, R, aggregate_g1, aggregate_g2, hash_to_g1

rng = random.Random(254)


@pytest.fixture(scope="module")
def harness(project: Any, accounts: Any) -> Any:
    return project.BN254Harness.deploy(sender=accounts[0])


def point(value: Any) -> G1:
    return G1(int(value[0]), int(value[1]))


def test_hash_to_g1__same_point_as_python(harness: Any) -> None:
    digests = [bytes(32), b"\xff" * 32, (P - 1).to_bytes(32, "big"), P.to_bytes(32, "big")]
    digests += [rng.randbytes(32) for _ in range(6)]
    for digest in digests:
        expected = hash_to_g1(digest)
        assert point(harness.hashToG1(digest)) == expected
        assert expected.is_valid() and not expected.is_infinity


def test_add_mul_negate__match_py_ecc(harness: Any) -> None:
    a, b = G1_GENERATOR * rng.randrange(1, R), G1_GENERATOR * rng.randrange(1, R)
    assert point(harness.add(a.to_contract(), b.to_contract())) == a + b
    scalar = rng.randrange(R)
    assert point(harness.mul(a.to_contract(), scalar)) == a * scalar
    assert point(harness.negate(a.to_contract())) == -a
    assert point(harness.negate((0, 0))) == G1(0, 0)
    assert point(harness.add(a.to_contract(), harness.negate(a.to_contract()))) == G1(0, 0)


def test_add_mul__failed_precompile_reverts_with_custom_error(harness: Any) -> None:
    """Callers pass valid points, so a failed ecAdd / ecMul (here fed a point off the curve) is a fault: a typed
    revert, neither an assert nor a result that reads as valid."""
    with ape.reverts(harness.BN254PrecompileFailed, precompile=6):
        harness.add((1, 3), G1_GENERATOR.to_contract())
    with ape.reverts(harness.BN254PrecompileFailed, precompile=7):
        harness.mul((1, 3), 2)


def test_is_on_curve_and_sqrt(harness: Any) -> None:
    a = G1_GENERATOR * 12345
    assert harness.isOnCurve(a.to_contract())
    assert not harness.isOnCurve((a.x, a.y + 1))
    assert not harness.isOnCurve((0, 0))
    assert not harness.isOnCurve((a.x + P, a.y))
    exists, root = harness.sqrt(4)
    assert exists and root * root % P == 4
    non_square = next(n for n in range(2, 100) if pow(n, (P - 1) // 2, P) == P - 1)
    assert harness.sqrt(non_square)[0] is False


def test_challenge_and_pairing__match_python(harness: Any) -> None:
    key = keys(1)
    h = hash_to_g1(b"\x07" * 32)
    sig = key.sign(b"\x07" * 32)
    args = (h.to_contract(), sig.to_contract(), key.pk1.to_contract(), key.pk2.to_contract())
    assert harness.challenge(*args) == bls.challenge(h, sig, key.pk1, key.pk2)
    # e(a*G1, b*G2) * e(-(a*b)*G1, G2) == 1
    a, b = 7, 11
    ok, is_one = harness.pairing2(
        (G1_GENERATOR * a).to_contract(), (G2_GENERATOR * b).to_contract(),
        (-(G1_GENERATOR * (a * b))).to_contract(), G2_GENERATOR.to_contract(),
    )  # fmt: skip
    assert ok and is_one
    ok, is_one = harness.pairing2(
        (G1_GENERATOR * a).to_contract(), (G2_GENERATOR * b).to_contract(),
        (-(G1_GENERATOR * (a * b + 1))).to_contract(), G2_GENERATOR.to_contract(),
    )  # fmt: skip
    assert ok and not is_one
    assert harness.pairing2((1, 2), ([1, 2], [3, 4]), (1, 2), G2_GENERATOR.to_contract())[0] is False


def _cases() -> dict[str, tuple[bytes, G1, G1, G2]]:
    """(digest, signature, pk1, pk2) cases, valid and not."""
    digest, other = b"\x42" * 32, b"\x43" * 32
    k1, k2, k3 = keys(1), keys(2), keys(3)
    trio = [k1, k2, k3]
    agg_sig = aggregate_g1(k.sign(digest) for k in trio)
    agg1, agg2 = aggregate_g1(k.pk1 for k in trio), aggregate_g2(k.pk2 for k in trio)
    return {
        "single": (digest, k1.sign(digest), k1.pk1, k1.pk2),
        "aggregate of three": (digest, agg_sig, agg1, agg2),
        "other message": (other, k1.sign(digest), k1.pk1, k1.pk2),
        "other key": (digest, k2.sign(digest), k1.pk1, k1.pk2),
        "short aggregate": (digest, aggregate_g1(k.sign(digest) for k in trio[:2]), agg1, agg2),
        "pk2 of another secret": (digest, k1.sign(digest), k1.pk1, k2.pk2),
        "apk2 missing a signer": (digest, agg_sig, agg1, aggregate_g2(k.pk2 for k in trio[:2])),
        "infinite signature": (digest, G1(0, 0), k1.pk1, k1.pk2),
        "signature off the curve": (digest, G1(1, 3), k1.pk1, k1.pk2),
        "pk1 off the curve": (digest, k1.sign(digest), G1(1, 3), k1.pk2),
        "infinite keys": (digest, G1(0, 0), G1(0, 0), G2((0, 0), (0, 0))),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_verify__solidity_and_python_agree(harness: Any, case: str) -> None:
    digest, sig, pk1, pk2 = _cases()[case]
    expected = case in ("single", "aggregate of three")
    assert bls.verify(digest, sig, pk1, pk2) is expected
    assert harness.verifyDigest(digest, sig.to_contract(), pk1.to_contract(), pk2.to_contract()) is expected


def test_verify__contract_computed_points_verify_in_python(
    harness: Any, create_quorum: Any, signer_accounts: Any, chain: Any
) -> None:
    """The other way round: the message point and the key sum the contracts compute are what Python signs and
    verifies against."""
    quorum = create_quorum(4, members=signer_accounts[:4])
    root = b"\x5a" * 32
    h = point(quorum.entrance.attestationPoint(root, 0, 0))
    digest = quorum.digest(chain, root, 0)
    assert bytes(quorum.entrance.attestationDigest(root, 0, 0)) == digest and h == hash_to_g1(digest)
    aggregate = quorum.registry.quorum(0, 0, 0b1011)
    apk = aggregate.apk
    assert aggregate.valid
    sig = aggregate_g1(quorum.keys[k].sign(digest) for k in (0, 1, 3))
    assert bls.verify_point(h, sig, point(apk), aggregate_g2(quorum.keys[k].pk2 for k in (0, 1, 3)))
    assert harness.verify(
        h.to_contract(), sig.to_contract(), apk, aggregate_g2(quorum.keys[k].pk2 for k in (0, 1, 3)).to_contract()
    )
