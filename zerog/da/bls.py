"""BLS signatures on BN254 (py_ecc), exactly as contracts/da/libraries/BN254.sol checks them.

Secret key sk in [1, r); public keys pk1 = sk*G1 and pk2 = sk*G2; message point H = hash_to_g1(digest) by
try-and-increment; signature sig = sk*H. Signatures and keys of several signers over the same digest add up.
`verify` is the contract's check: one product of two pairings, e(sig + g*pk1, -G2) * e(H + g*G1, pk2) == 1 with
g = keccak(H, sig, pk1, pk2) mod r, which proves both e(sig, G2) == e(H, pk2) and that pk1 and pk2 share a
secret. py_ecc is pure Python (a pairing is ~0.2 s): aggregate first and verify once; never pair per signer on
a hot path.

Points travel as the contract encodes them: G1 (x, y), (0, 0) for infinity; G2 coordinates as [imaginary, real].
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_utils import keccak
from py_ecc import optimized_bn128 as bn

#: Base field modulus p and group order r.
P: int = bn.field_modulus
R: int = bn.curve_order
_SQRT_EXPONENT = (P + 1) // 4
_B = 3
#: Domain tag of secret keys derived from an account key (see `derive_secret_key`).
KEY_DERIVATION_TAG = b"zerog/da/bls-signer-key/v1"

_G1Jacobian = tuple[bn.FQ, bn.FQ, bn.FQ]
_G2Jacobian = tuple[bn.FQ2, bn.FQ2, bn.FQ2]


class BLSError(ValueError):
    """A point or key is malformed."""


@dataclass(frozen=True)
class G1:
    """A point of G1, affine; (0, 0) is infinity."""

    x: int
    y: int

    @property
    def is_infinity(self) -> bool:
        return self.x == 0 and self.y == 0

    def is_valid(self) -> bool:
        """On the curve with coordinates in range (G1 has cofactor 1), or infinity."""
        if self.is_infinity:
            return True
        return 0 <= self.x < P and 0 <= self.y < P and (self.y * self.y - self.x**3 - _B) % P == 0

    def to_contract(self) -> tuple[int, int]:
        return (self.x, self.y)

    @classmethod
    def from_contract(cls, value: Any) -> G1:
        x, y = value
        return cls(int(x), int(y))

    def to_json(self) -> list[str]:
        return [hex(self.x), hex(self.y)]

    @classmethod
    def from_json(cls, value: Any) -> G1:
        try:
            x, y = (int(v, 16) if isinstance(v, str) else int(v) for v in value)
        except (TypeError, ValueError) as exc:
            raise BLSError(f"not a G1 point [x, y]: {value!r}") from exc
        point = cls(x, y)
        if not point.is_valid():
            raise BLSError("the G1 point is not on the curve")
        return point

    def _jacobian(self) -> _G1Jacobian:
        if self.is_infinity:
            return bn.Z1
        return (bn.FQ(self.x), bn.FQ(self.y), bn.FQ.one())

    @classmethod
    def _of(cls, point: _G1Jacobian) -> G1:
        if bn.is_inf(point):
            return cls(0, 0)
        x, y = bn.normalize(point)
        return cls(int(x), int(y))

    def __add__(self, other: G1) -> G1:
        return G1._of(bn.add(self._jacobian(), other._jacobian()))

    def __neg__(self) -> G1:
        return G1._of(bn.neg(self._jacobian()))

    def __mul__(self, scalar: int) -> G1:
        return G1._of(bn.multiply(self._jacobian(), scalar % R))

    __rmul__ = __mul__


@dataclass(frozen=True)
class G2:
    """A point of G2, affine; each coordinate is (real, imaginary). All zeros is infinity."""

    x: tuple[int, int]
    y: tuple[int, int]

    @property
    def is_infinity(self) -> bool:
        return self.x == (0, 0) and self.y == (0, 0)

    def is_valid(self) -> bool:
        """On the twist and in the order-r subgroup (what the pairing precompile demands), or infinity."""
        if self.is_infinity:
            return True
        if not all(0 <= c < P for c in (*self.x, *self.y)):
            return False
        point = self._jacobian()
        return bn.is_on_curve(point, bn.b2) and bn.is_inf(bn.multiply(point, R))

    def to_contract(self) -> tuple[list[int], list[int]]:
        """EIP-197 order: ([x_im, x_re], [y_im, y_re])."""
        return ([self.x[1], self.x[0]], [self.y[1], self.y[0]])

    @classmethod
    def from_contract(cls, value: Any) -> G2:
        (x_im, x_re), (y_im, y_re) = value
        return cls((int(x_re), int(x_im)), (int(y_re), int(y_im)))

    def to_json(self) -> list[list[str]]:
        x, y = self.to_contract()
        return [[hex(c) for c in x], [hex(c) for c in y]]

    @classmethod
    def from_json(cls, value: Any) -> G2:
        try:
            point = cls.from_contract([[int(c, 16) if isinstance(c, str) else int(c) for c in pair] for pair in value])
        except (TypeError, ValueError) as exc:
            raise BLSError(f"not a G2 point [[x_im, x_re], [y_im, y_re]]: {value!r}") from exc
        if not point.is_valid():
            raise BLSError("the G2 point is not on the twist or not in the subgroup")
        return point

    def _jacobian(self) -> _G2Jacobian:
        if self.is_infinity:
            return bn.Z2
        return (bn.FQ2(list(self.x)), bn.FQ2(list(self.y)), bn.FQ2.one())

    @classmethod
    def _of(cls, point: _G2Jacobian) -> G2:
        if bn.is_inf(point):
            return cls((0, 0), (0, 0))
        x, y = bn.normalize(point)
        return cls((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))

    def __add__(self, other: G2) -> G2:
        return G2._of(bn.add(self._jacobian(), other._jacobian()))

    def __mul__(self, scalar: int) -> G2:
        return G2._of(bn.multiply(self._jacobian(), scalar % R))

    __rmul__ = __mul__


G1_GENERATOR = G1._of(bn.G1)
G2_GENERATOR = G2._of(bn.G2)
G1_INFINITY = G1(0, 0)
G2_INFINITY = G2((0, 0), (0, 0))


@dataclass(frozen=True)
class KeyPair:
    """A signer's BLS key: secret `sk`, public `pk1` (G1) and `pk2` (G2)."""

    sk: int = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.sk < R:
            raise BLSError("a BLS secret key must be in [1, r)")

    @cached_property
    def pk1(self) -> G1:
        return G1_GENERATOR * self.sk

    @cached_property
    def pk2(self) -> G2:
        return G2_GENERATOR * self.sk

    def sign(self, digest: bytes) -> G1:
        return sign(self.sk, digest)


def derive_secret_key(seed: bytes, tag: bytes = KEY_DERIVATION_TAG) -> int:
    """A secret key derived from `seed` (a signer's 32-byte account key) under a domain tag: 512 bits of keccak
    reduced mod r (bias < 2^-250), so the BLS key is reproducible from the account key alone and useless for
    anything but this tag."""
    for counter in range(256):
        wide = keccak(tag + seed + bytes([counter, 0])) + keccak(tag + seed + bytes([counter, 1]))
        sk = int.from_bytes(wide, "big") % R
        if sk:
            return sk
    raise BLSError("no key derivable from this seed")  # pragma: no cover - probability 2^-64000


def hash_to_g1(digest: bytes) -> G1:
    """Try-and-increment, as BN254.hashToG1: x = digest mod p, x + 1, ... until x^3 + 3 has the square root
    y = (x^3 + 3)^((p + 1) / 4)."""
    if len(digest) != 32:
        raise BLSError(f"a digest is 32 bytes, not {len(digest)}")
    x = int.from_bytes(digest, "big") % P
    while True:
        rhs = (pow(x, 3, P) + _B) % P
        y = pow(rhs, _SQRT_EXPONENT, P)
        if y * y % P == rhs:
            return G1(x, y)
        x = (x + 1) % P


def sign(sk: int, digest: bytes) -> G1:
    return hash_to_g1(digest) * sk


def aggregate_g1(points: Iterable[G1]) -> G1:
    total = G1_INFINITY
    for point in points:
        total = total + point
    return total


def aggregate_g2(points: Iterable[G2]) -> G2:
    total = G2_INFINITY
    for point in points:
        total = total + point
    return total


def challenge(h: G1, sig: G1, pk1: G1, pk2: G2) -> int:
    """BN254.challenge: keccak(H.x, H.y, sig.x, sig.y, pk1.x, pk1.y, pk2 in EIP-197 order) mod r."""
    (x_im, x_re), (y_im, y_re) = pk2.to_contract()
    words = (h.x, h.y, sig.x, sig.y, pk1.x, pk1.y, x_im, x_re, y_im, y_re)
    return int.from_bytes(keccak(b"".join(w.to_bytes(32, "big") for w in words)), "big") % R


def verify_point(h: G1, sig: G1, pk1: G1, pk2: G2) -> bool:
    """BN254.verify: sig signs message point `h` under (pk1, pk2) and pk1, pk2 share their secret. One product
    of two pairings (two Miller loops, one final exponentiation)."""
    if pk1.is_infinity or pk2.is_infinity:
        return False
    if not (h.is_valid() and sig.is_valid() and pk1.is_valid() and pk2.is_valid()):
        return False
    g = challenge(h, sig, pk1, pk2)
    left = sig + pk1 * g
    right = h + G1_GENERATOR * g
    product = bn.pairing(bn.neg(bn.G2), left._jacobian(), final_exponentiate=False) * bn.pairing(
        pk2._jacobian(), right._jacobian(), final_exponentiate=False
    )
    return bn.final_exponentiate(product) == bn.FQ12.one()


def verify(digest: bytes, sig: G1, pk1: G1, pk2: G2) -> bool:
    """A (possibly aggregate) signature of `digest` under the (possibly aggregate) key pair (pk1, pk2)."""
    return verify_point(hash_to_g1(digest), sig, pk1, pk2)
