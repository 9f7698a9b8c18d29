// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BN254
/// @notice BN254 (alt_bn128) arithmetic through the EVM precompiles (ecAdd 0x06, ecMul 0x07, pairing 0x08,
/// modexp 0x05), hashing to G1, and the BLS signature check used by the DA contracts.
/// @dev G1 points are affine (X, Y) over Fp, with (0, 0) the point at infinity, as the precompiles encode
/// them. G2 points are affine over Fp2 = Fp[i]/(i^2 + 1); each coordinate a + b*i is stored as [b, a]
/// (imaginary part first), which is the order EIP-197 reads them in.
///
/// BLS here: secret key sk in [1, R), public keys pk1 = sk*G1 and pk2 = sk*G2, message point H = hashToG1(m),
/// signature sig = sk*H. Keys of several signers add up in both groups and so do their signatures over the same
/// message. Every call to a precompile forwards all the gas left, so no repricing of the precompiles can make a
/// valid call fail. ecAdd, ecMul and modexp are only ever fed valid inputs, so their failure reverts with
/// {BN254PrecompileFailed}; a malformed G2 point cannot be ruled out cheaply, so a failed pairing reads as
/// "does not verify" (and, failed precompiles consuming all the gas they get, costs the caller its gas).
library BN254 {
    /// @notice A point of G1 in affine coordinates; (0, 0) is the point at infinity.
    struct G1Point {
        uint256 X;
        uint256 Y;
    }

    /// @notice A point of G2 in affine coordinates, each coordinate as [imaginary, real].
    struct G2Point {
        uint256[2] X;
        uint256[2] Y;
    }

    /// @notice The base field modulus p.
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;
    /// @notice The group order r (scalars and secret keys live in [0, r)).
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// @dev y^2 = x^3 + 3.
    uint256 private constant CURVE_B = 3;
    /// @dev p = 3 mod 4, so a square root of a is a^((p + 1) / 4) when one exists.
    uint256 private constant SQRT_EXPONENT = 0xc19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52;

    /// @dev Generator of G2, negated (y -> p - y), in EIP-197 order.
    uint256 private constant NEG_G2_X_IM = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 private constant NEG_G2_X_RE = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 private constant NEG_G2_Y_IM = 17805874995975841540914202342111839520379459829704422454583296818431106115052;
    uint256 private constant NEG_G2_Y_RE = 13392588948715843804641432497768002650278120570034223513918757245338268106653;

    uint256 private constant MODEXP = 0x05;
    uint256 private constant EC_ADD = 0x06;
    uint256 private constant EC_MUL = 0x07;
    uint256 private constant EC_PAIRING = 0x08;

    /// @notice The precompile at address `precompile` failed on inputs it should accept (or ran out of gas).
    error BN254PrecompileFailed(uint256 precompile);

    /// @notice The generator of G1, (1, 2).
    function generatorG1() internal pure returns (G1Point memory) {
        return G1Point(1, 2);
    }

    /// @notice The generator of G2, negated.
    function negGeneratorG2() internal pure returns (G2Point memory) {
        return G2Point([NEG_G2_X_IM, NEG_G2_X_RE], [NEG_G2_Y_IM, NEG_G2_Y_RE]);
    }

    /// @notice True for the point at infinity (0, 0).
    function isInfinity(G1Point memory p) internal pure returns (bool) {
        return p.X == 0 && p.Y == 0;
    }

    /// @notice True for the point at infinity of G2 (all coordinates zero).
    function isInfinity(G2Point memory p) internal pure returns (bool) {
        return p.X[0] == 0 && p.X[1] == 0 && p.Y[0] == 0 && p.Y[1] == 0;
    }

    /// @notice True if `p` is a finite point of G1 (G1 has cofactor 1: on the curve means in the group).
    function isOnCurve(G1Point memory p) internal pure returns (bool) {
        if (p.X >= P || p.Y >= P || isInfinity(p)) return false;
        return mulmod(p.Y, p.Y, P) == addmod(mulmod(mulmod(p.X, p.X, P), p.X, P), CURVE_B, P);
    }

    /// @notice -p.
    function negate(G1Point memory p) internal pure returns (G1Point memory) {
        if (isInfinity(p)) return p;
        return G1Point(p.X, P - (p.Y % P));
    }

    /// @notice a + b through ecAdd. Both must be points of G1 (or infinity), else it reverts with
    /// {BN254PrecompileFailed}.
    function add(G1Point memory a, G1Point memory b) internal view returns (G1Point memory sum) {
        uint256[4] memory input = [a.X, a.Y, b.X, b.Y];
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), EC_ADD, input, 0x80, sum, 0x40)
        }
        if (!ok) revert BN254PrecompileFailed(EC_ADD);
    }

    /// @notice s * p through ecMul. `p` must be a point of G1 (or infinity), else it reverts with
    /// {BN254PrecompileFailed}.
    function mul(G1Point memory p, uint256 s) internal view returns (G1Point memory product) {
        uint256[3] memory input = [p.X, p.Y, s];
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), EC_MUL, input, 0x60, product, 0x40)
        }
        if (!ok) revert BN254PrecompileFailed(EC_MUL);
    }

    /// @notice Whether e(a1, a2) * e(b1, b2) == 1. `ok` is false if a point is malformed (off the curve, or a G2
    /// point outside the order-r subgroup): the pairing precompile checks both.
    function pairing2(G1Point memory a1, G2Point memory a2, G1Point memory b1, G2Point memory b2)
        internal
        view
        returns (bool ok, bool isOne)
    {
        uint256[12] memory input =
            [a1.X, a1.Y, a2.X[0], a2.X[1], a2.Y[0], a2.Y[1], b1.X, b1.Y, b2.X[0], b2.X[1], b2.Y[0], b2.Y[1]];
        uint256[1] memory out;
        assembly ("memory-safe") {
            ok := staticcall(gas(), EC_PAIRING, input, 0x180, out, 0x20)
        }
        isOne = ok && out[0] == 1;
    }

    /// @notice A square root of `a` mod p through modexp: `exists` is false if `a` is not a square.
    /// @dev A failed modexp reverts with {BN254PrecompileFailed} rather than read as "no root", which would send
    /// {hashToG1} round its loop until the gas runs out.
    function sqrt(uint256 a) internal view returns (bool exists, uint256 root) {
        // modexp input: length of base, exponent, modulus (32 bytes each), then base, exponent, modulus.
        uint256[6] memory input = [uint256(32), 32, 32, a, SQRT_EXPONENT, P];
        uint256[1] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), MODEXP, input, 0xc0, out, 0x20)
        }
        if (!ok) revert BN254PrecompileFailed(MODEXP);
        root = out[0];
        exists = mulmod(root, root, P) == a;
    }

    /// @notice Maps a 32-byte digest to G1 by try-and-increment: x = digest mod p, then x + 1, ... until
    /// x^3 + 3 is a square; y is the root modexp returns, (x^3 + 3)^((p + 1) / 4).
    /// @dev About half of all x qualify, so the expected number of modexp calls is two; 128 misses in a row
    /// happen with probability 2^-128.
    function hashToG1(bytes32 digest) internal view returns (G1Point memory point) {
        uint256 x = uint256(digest) % P;
        while (true) {
            uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), CURVE_B, P);
            (bool exists, uint256 y) = sqrt(rhs);
            if (exists) return point = G1Point(x, y);
            x = addmod(x, 1, P);
        }
    }

    /// @notice The random-linear-combination coefficient that ties the checks of {verify} together.
    function challenge(G1Point memory h, G1Point memory sig, G1Point memory pk1, G2Point memory pk2)
        internal
        pure
        returns (uint256)
    {
        return uint256(
            keccak256(abi.encodePacked(h.X, h.Y, sig.X, sig.Y, pk1.X, pk1.Y, pk2.X[0], pk2.X[1], pk2.Y[0], pk2.Y[1]))
        ) % R;
    }

    /// @notice True if `sig` is a BLS signature of message point `h` under the key pair (pk1, pk2), and pk1 and
    /// pk2 belong to the same secret key, checked with one pairing:
    /// e(sig + g*pk1, -G2) * e(h + g*G1, pk2) == 1 with g = {challenge}(h, sig, pk1, pk2). This implies
    /// e(sig, G2) == e(h, pk2) and e(pk1, G2) == e(G1, pk2) unless g was chosen to cancel them, which needs a
    /// keccak preimage. Malformed points, or an infinite pk1 / pk2, give false.
    function verify(G1Point memory h, G1Point memory sig, G1Point memory pk1, G2Point memory pk2)
        internal
        view
        returns (bool)
    {
        if (!isOnCurve(pk1) || isInfinity(pk2)) return false;
        // Checked here so that ecAdd and ecMul only ever see points of G1.
        if (!isOnCurve(h) || !(isInfinity(sig) || isOnCurve(sig))) return false;
        uint256 g = challenge(h, sig, pk1, pk2);
        G1Point memory left = add(sig, mul(pk1, g));
        G1Point memory right = add(h, mul(generatorG1(), g));
        (bool ok, bool isOne) = pairing2(left, negGeneratorG2(), right, pk2);
        return ok && isOne;
    }
}
