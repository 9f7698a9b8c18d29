// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KZGSetup} from "../KZGSetup.sol";

/// @title KZGCellProof
/// @notice Checks one EIP-7594 cell of a KZG-committed blob against its cell proof, as ckzg's
/// `verify_cell_kzg_proof_batch` does for a batch of one, with the BLS12-381 precompiles of EIP-2537 (Prague).
///
/// A blob is the evaluations of a polynomial P of degree < 4096; its extension to 8192 evaluations is cut into 128
/// cells of 64. Cell k holds P on the coset h_k*H, H = <w> the order-64 subgroup and h_k = W^rev7(k), W the
/// 8192nd root of unity 7^((r-1)/8192), in bit-reversed order (the spec's `coset_for_cell`): element j of the
/// cell is P(h_k * w^rev6(j)). The proof is pi = [q(tau)]_1 with P - I = q * (X^64 - h_k^64), I the
/// interpolation polynomial of the cell (degree < 64) and X^64 - h_k^64 the coset's vanishing polynomial. The
/// check, with C the commitment [P(tau)]_1:
///     e(pi, [tau^64]_2) == e(C - [I(tau)]_1 + h_k^64 * pi, [1]_2)
/// (the spec's batch check with one cell), done as one G1MSM, one G1ADD and one 2-pair PAIRING_CHECK:
///     M   = sum_i c_i * [tau^i]_1 + (r - h_k^64) * pi       (G1MSM of 65 pairs; c_i = I's coefficients)
///     S   = M + (-C)                                         (G1ADD)
///     e(pi, [tau^64]_2) * e(S, [1]_2) == 1                   (PAIRING_CHECK)
///
/// Gas (Prague pricing, benches/da_cell_proof_gas.py): ~699k a check as a transaction: the G1MSM 448.5k (65
/// pairs at 6.9k: EIP-2537's price of 64 scalar multiplications, the bulk of any such check), the PAIRING_CHECK
/// 102.9k, the 21000 and calldata (2 KiB cell) ~56k, the interpolation ~55k, decompressions ~17k.
///
/// Choices:
/// - I's coefficients are computed on chain: an inverse FFT of size 64 mod r in assembly (192 butterflies; the
///   cell's bit-reversed order is exactly the input order of a decimation-in-time FFT, so no permutation step)
///   then c_i = d_i * h_k^-i / 64. Taking the 64 coefficients as calldata instead costs 2 KiB more calldata
///   (~33k gas) and still needs a check that they interpolate the cell (an evaluation of both at a Fiat-Shamir
///   point: 64 inversions, batched, and 64 products), about the same total for more calldata and another
///   soundness argument.
/// - The h_k^64 * pi term rides in the G1MSM (one more pair, ~6k gas) instead of moving to G2 as
///   e(pi, [tau^64]_2 - h_k^64 * [1]_2), which would need a G2MSM (22.5k gas) and a G2ADD.
/// - The commitment and the proof come in their 48-byte compressed form (what ckzg emits, the signers store and
///   the data root hashes) and are decompressed here: y = (x^3 + 4)^((p+1)/4) through modexp (p = 3 mod 4),
///   checked by squaring, the sign bit picking y or p - y: ~8.7k gas a point. Uncompressed points as calldata
///   checked against the compressed ones would save a few thousand gas a point for 80 more bytes each.
///   The commitment is decompressed negated (the other root), so the sum S needs no negation.
/// - Subgroup checks are left to the precompiles: G1MSM and PAIRING_CHECK reject points outside the order-r
///   subgroup, G1ADD does not. pi enters the G1MSM; -C only enters the G1ADD, but S = M - C with M in the
///   subgroup is in it iff C is, and S enters the PAIRING_CHECK. So every input point is subgroup-checked.
///
/// Malformed input reverts with a custom error rather than read as "does not verify": a cell index >= 128, a cell
/// not 2048 bytes, a cell element >= r (ckzg refuses them too), a point whose encoding is wrong or not on the
/// curve ({InvalidG1Point}). A point on the curve but outside the subgroup makes a precompile fail
/// ({BLS12PrecompileFailed}); a failed precompile consumes all the gas it was given, so that costs the caller
/// nearly all its gas. A well-formed cell, proof or commitment that does not match gives false.
/// @dev Needs the EIP-2537 precompiles (Prague): on an older chain the calls to their addresses succeed with no
/// output, which reverts with {BLS12PrecompileFailed}. Every precompile call forwards all the gas left, so a
/// repricing cannot make a valid check fail.
library KZGCellProof {
    /// @notice Cells of an extended blob.
    uint256 internal constant CELLS_PER_EXT_BLOB = 128;
    /// @notice Field elements of a cell.
    uint256 internal constant FIELD_ELEMENTS_PER_CELL = 64;
    /// @notice Bytes of a cell: 64 big-endian 32-byte field elements.
    uint256 internal constant BYTES_PER_CELL = 2048;
    /// @notice Bytes of a compressed G1 point (a commitment or a proof).
    uint256 internal constant BYTES_PER_G1_COMPRESSED = 48;
    /// @notice The scalar field modulus r of BLS12-381 (cell elements are canonical: below r).
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    /// @dev Bits of a cell index (CELLS_PER_EXT_BLOB = 2^7): h_k = W^rev7(k).
    uint256 private constant LOG2_CELLS_PER_EXT_BLOB = 7;
    /// @dev W^-1, W = 7^((r - 1) / 8192) the primitive 8192nd root of unity of the spec's
    /// `compute_roots_of_unity(FIELD_ELEMENTS_PER_EXT_BLOB)`. h_k^-1 = (W^-1)^rev7(k).
    uint256 private constant EXT_ROOT_OF_UNITY_INVERSE =
        0x57e6990d4981b177d548fda262008419204f9476cecef2df68946aad325251ed;
    /// @dev W^64, a primitive 128th root of unity: h_k^64 = (W^64)^rev7(k).
    uint256 private constant EXT_ROOT_OF_UNITY_POW_CELL =
        0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be;
    /// @dev w^-1 = W^-128, w the primitive 64th root of unity generating a cell's coset (the inverse FFT's root).
    uint256 private constant CELL_ROOT_OF_UNITY_INVERSE =
        0x640d097461a2eeaf4e84b3cd7dc75b61db872ef3dce28e788d28c143168bba2c;
    /// @dev 64^-1 mod r, the inverse FFT's scale.
    uint256 private constant CELL_SIZE_INVERSE = 0x721df0b5dcf70753126cf0a7e97b50a53e6ead72f3fe628f03ffffff04000001;
    /// @dev Half a cell: the inverse FFT's twiddle factors are w^-t for t < 32.
    uint256 private constant HALF_CELL = 32;
    /// @dev Bytes of the 64 coefficients in memory, and log2 of a word's bytes.
    uint256 private constant COEFFICIENTS_BYTES = 2048;
    uint256 private constant WORD_SHIFT = 5;

    /// @dev The base field modulus p (381 bits) as 128 high and 256 low bits.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// @dev (p - 1) / 2: y is the "larger" root (sign flag set) iff y > (p - 1) / 2.
    uint256 private constant HALF_P_HI = 0xd0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    /// @dev (p + 1) / 4: a^((p + 1) / 4) is a square root of a when a is a square (p = 3 mod 4).
    uint256 private constant SQRT_EXPONENT_HI = 0x680447a8e5ff9a692c6e9ed90d2eb35;
    uint256 private constant SQRT_EXPONENT_LO = 0xd91dd2e13ce144afd9cc34a83dac3d8907aaffffac54ffffee7fbfffffffeaab;
    /// @dev G1: y^2 = x^3 + 4.
    uint256 private constant CURVE_B = 4;
    /// @dev modexp exponents: x^3 for the curve equation, y^2 to check a root.
    uint256 private constant CUBE = 3;
    uint256 private constant SQUARE = 2;

    /// @dev Flags in the top 3 bits of a compressed point (ZCash BLS12-381 serialization), as bits of its first
    /// 16 bytes read as a number: compressed form, point at infinity, y the larger root.
    uint256 private constant FLAGS_SHIFT = 125;
    uint256 private constant COMPRESSION_FLAG = 4;
    uint256 private constant INFINITY_FLAG = 2;
    uint256 private constant SIGN_FLAG = 1;
    uint256 private constant X_HI_MASK = (1 << FLAGS_SHIFT) - 1;
    /// @dev The high 16 bytes of a compressed point are its first 16 of 48 bytes: shift a 32-byte word by 128.
    uint256 private constant HALF_WORD_BITS = 128;

    /// @dev EIP-2537 precompiles and modexp (EIP-198).
    uint256 private constant MODEXP = 0x05;
    uint256 private constant BLS12_G1ADD = 0x0b;
    uint256 private constant BLS12_G1MSM = 0x0c;
    uint256 private constant BLS12_PAIRING_CHECK = 0x0f;
    /// @dev An EIP-2537 G1 point: x || y, each 64 bytes (16 zero bytes, then the 48-byte big-endian value).
    uint256 private constant G1_POINT_BYTES = 128;
    /// @dev A G1MSM pair: a point and a 32-byte scalar.
    uint256 private constant MSM_PAIR_BYTES = 160;
    /// @dev The G1MSM's pairs: the 64 setup points, then the proof.
    uint256 private constant MSM_PAIRS = 65;
    /// @dev Bytes of a word (a cell element, a scalar, a modexp length field) and of an Fp value in modexp.
    uint256 private constant WORD_BYTES = 32;
    uint256 private constant FP_BYTES = 48;

    /// @notice The cell index is not below {CELLS_PER_EXT_BLOB}.
    error InvalidCellIndex(uint256 cellIndex);
    /// @notice The cell is not {BYTES_PER_CELL} bytes long.
    error InvalidCellLength(uint256 length);
    /// @notice Element `index` of the cell is not a canonical field element (it is >= r).
    error NonCanonicalFieldElement(uint256 index);
    /// @notice `point` is not the compressed encoding of a point of the curve (length, flags, x >= p, or x^3 + 4
    /// not a square).
    error InvalidG1Point(bytes point);
    /// @notice The precompile at `precompile` failed: for the EIP-2537 ones, an input point outside the order-r
    /// subgroup (or a chain without them).
    error BLS12PrecompileFailed(uint256 precompile);

    /// @notice Whether `cell` is cell `cellIndex` of the blob committed to by `commitment`, as `proof` proves.
    /// @param commitment The blob's KZG commitment, 48 bytes compressed.
    /// @param cellIndex The cell's index in the extended blob, below 128.
    /// @param cell The cell: 64 field elements, 32 bytes big-endian each.
    /// @param proof The cell's KZG proof, 48 bytes compressed.
    /// @return True if the proof holds; false if it does not (reverts on malformed input: see the library doc).
    function verify(bytes calldata commitment, uint256 cellIndex, bytes calldata cell, bytes calldata proof)
        internal
        view
        returns (bool)
    {
        uint256[FIELD_ELEMENTS_PER_CELL] memory coefficients = interpolate(cellIndex, cell);
        bytes memory proofPoint = decompressG1(proof, false);
        bytes memory negCommitment = decompressG1(commitment, true);
        uint256 vanishingShift = _pow(EXT_ROOT_OF_UNITY_POW_CELL, _reverseBits(cellIndex, LOG2_CELLS_PER_EXT_BLOB));
        // [I(tau)]_1 - h_k^64 * pi, then minus C.
        bytes memory sum = _precompile(BLS12_G1MSM, _msmInput(coefficients, proofPoint, R - vanishingShift));
        sum = _precompile(BLS12_G1ADD, bytes.concat(sum, negCommitment));
        bytes memory isOne =
            _precompile(BLS12_PAIRING_CHECK, bytes.concat(proofPoint, KZGSetup.G2_TAU_64, sum, KZGSetup.G2_ONE));
        return uint256(bytes32(isOne)) == 1;
    }

    /// @notice The coefficients c_0..c_63 of the polynomial I of degree < 64 that takes the values of `cell` on
    /// the coset of cell `cellIndex`: I(h_k * w^rev6(j)) = cell[j].
    /// @dev Inverse FFT over <w> (decimation in time: the cell's bit-reversed order is its input order), giving
    /// d_i = 64 * c_i * h_k^i, then c_i = d_i * h_k^-i / 64. Reverts on a malformed index, cell or element.
    function interpolate(uint256 cellIndex, bytes calldata cell)
        internal
        pure
        returns (uint256[FIELD_ELEMENTS_PER_CELL] memory coefficients)
    {
        if (cellIndex >= CELLS_PER_EXT_BLOB) revert InvalidCellIndex(cellIndex);
        if (cell.length != BYTES_PER_CELL) revert InvalidCellLength(cell.length);
        uint256 shiftInverse = _pow(EXT_ROOT_OF_UNITY_INVERSE, _reverseBits(cellIndex, LOG2_CELLS_PER_EXT_BLOB));
        uint256[HALF_CELL] memory twiddles;
        // One past the index of the first element >= r, 0 if none.
        uint256 nonCanonical;
        // All in assembly, r in a local: the optimizer would reload the constant from code at every use.
        assembly ("memory-safe") {
            let r := R
            let end := add(coefficients, COEFFICIENTS_BYTES)
            let src := cell.offset
            for { let dst := coefficients } lt(dst, end) { dst := add(dst, WORD_BYTES) } {
                let element := calldataload(src)
                if iszero(lt(element, r)) {
                    nonCanonical := add(shr(WORD_SHIFT, sub(dst, coefficients)), 1)
                    break
                }
                mstore(dst, element)
                src := add(src, WORD_BYTES)
            }
            // twiddles[t] = w^-t.
            let twiddle := 1
            let twiddlesEnd := add(twiddles, shl(WORD_SHIFT, HALF_CELL))
            for { let t := twiddles } lt(t, twiddlesEnd) { t := add(t, WORD_BYTES) } {
                mstore(t, twiddle)
                twiddle := mulmod(twiddle, CELL_ROOT_OF_UNITY_INVERSE, r)
            }
            // Butterflies on blocks of 2 * half elements: (u, v) -> (u + t*v, u - t*v), t = w^-(32/half * j) for
            // the j-th pair of a block.
            for { let half := 1 } lt(half, FIELD_ELEMENTS_PER_CELL) { half := shl(1, half) } {
                let step := shl(WORD_SHIFT, div(HALF_CELL, half))
                let span := shl(WORD_SHIFT, half)
                for { let start := coefficients } lt(start, end) { start := add(start, shl(1, span)) } {
                    let tw := twiddles
                    let blockEnd := add(start, span)
                    for { let pu := start } lt(pu, blockEnd) { pu := add(pu, WORD_BYTES) } {
                        let pv := add(pu, span)
                        let u := mload(pu)
                        let v := mulmod(mload(pv), mload(tw), r)
                        mstore(pu, addmod(u, v, r))
                        mstore(pv, addmod(u, sub(r, v), r))
                        tw := add(tw, step)
                    }
                }
            }
            // c_i = d_i * h_k^-i / 64.
            let scale := CELL_SIZE_INVERSE
            for { let c := coefficients } lt(c, end) { c := add(c, WORD_BYTES) } {
                mstore(c, mulmod(mload(c), scale, r))
                scale := mulmod(scale, shiftInverse, r)
            }
        }
        if (nonCanonical != 0) revert NonCanonicalFieldElement(nonCanonical - 1);
    }

    /// @notice The point `point` (48 bytes, compressed) in the EIP-2537 encoding, negated if `negate`; the point
    /// at infinity is 128 zero bytes. Reverts with {InvalidG1Point} unless `point` is a point of the curve
    /// (membership in the order-r subgroup is not checked here).
    function decompressG1(bytes calldata point, bool negate) internal view returns (bytes memory encoded) {
        if (point.length != BYTES_PER_G1_COMPRESSED) revert InvalidG1Point(point);
        uint256 xHi = uint256(uint128(bytes16(point[:FP_BYTES - WORD_BYTES])));
        uint256 xLo = uint256(bytes32(point[FP_BYTES - WORD_BYTES:]));
        uint256 flags = xHi >> FLAGS_SHIFT;
        xHi &= X_HI_MASK;
        encoded = new bytes(G1_POINT_BYTES);
        if (flags & COMPRESSION_FLAG == 0) revert InvalidG1Point(point);
        if (flags & INFINITY_FLAG != 0) {
            if (flags & SIGN_FLAG != 0 || xHi != 0 || xLo != 0) revert InvalidG1Point(point);
            return encoded;
        }
        if (!_less(xHi, xLo, P_HI, P_LO)) revert InvalidG1Point(point);
        (uint256 rhsHi, uint256 rhsLo) = _modexp(xHi, xLo, 0, CUBE);
        (rhsHi, rhsLo) = _addSmall(rhsHi, rhsLo, CURVE_B);
        (uint256 yHi, uint256 yLo) = _modexp(rhsHi, rhsLo, SQRT_EXPONENT_HI, SQRT_EXPONENT_LO);
        (uint256 squareHi, uint256 squareLo) = _modexp(yHi, yLo, 0, SQUARE);
        if (squareHi != rhsHi || squareLo != rhsLo) revert InvalidG1Point(point);
        // y != 0: a point with y = 0 has order 2, and #E(Fp) is odd.
        bool larger = _less(HALF_P_HI, HALF_P_LO, yHi, yLo);
        if (larger != ((flags & SIGN_FLAG != 0) != negate)) (yHi, yLo) = _subtract(P_HI, P_LO, yHi, yLo);
        assembly ("memory-safe") {
            mstore(add(encoded, 0x20), xHi)
            mstore(add(encoded, 0x40), xLo)
            mstore(add(encoded, 0x60), yHi)
            mstore(add(encoded, 0x80), yLo)
        }
    }

    /// @dev The G1MSM input: ([tau^i]_1, c_i) for i < 64, then (pi, proofScalar).
    function _msmInput(
        uint256[FIELD_ELEMENTS_PER_CELL] memory coefficients,
        bytes memory proofPoint,
        uint256 proofScalar
    ) private pure returns (bytes memory input) {
        bytes memory setup = KZGSetup.G1_MONOMIAL;
        input = new bytes(MSM_PAIRS * MSM_PAIR_BYTES);
        assembly ("memory-safe") {
            let dst := add(input, 0x20)
            let src := add(setup, 0x20)
            let end := add(coefficients, COEFFICIENTS_BYTES)
            for { let c := coefficients } lt(c, end) { c := add(c, WORD_BYTES) } {
                mcopy(dst, src, G1_POINT_BYTES)
                mstore(add(dst, G1_POINT_BYTES), mload(c))
                dst := add(dst, MSM_PAIR_BYTES)
                src := add(src, G1_POINT_BYTES)
            }
            mcopy(dst, add(proofPoint, 0x20), G1_POINT_BYTES)
            mstore(add(dst, G1_POINT_BYTES), proofScalar)
        }
    }

    /// @dev Calls an EIP-2537 precompile; reverts with {BLS12PrecompileFailed} if it fails or returns nothing.
    function _precompile(uint256 precompile, bytes memory input) private view returns (bytes memory output) {
        bool ok;
        (ok, output) = address(uint160(precompile)).staticcall(input);
        if (!ok || output.length == 0) revert BLS12PrecompileFailed(precompile);
    }

    /// @dev base^exponent mod p through modexp, on 48-byte numbers given as (high 128 bits, low 256 bits). An
    /// exponent with no high part is passed in 32 bytes (modexp prices it by its length).
    function _modexp(uint256 baseHi, uint256 baseLo, uint256 exponentHi, uint256 exponentLo)
        private
        view
        returns (uint256 hi, uint256 lo)
    {
        bool ok;
        assembly ("memory-safe") {
            // Lengths of base, exponent and modulus (32 bytes each), then base, exponent, modulus.
            let m := mload(0x40)
            mstore(m, FP_BYTES)
            mstore(add(m, 0x40), FP_BYTES)
            let ptr := add(m, 0x60)
            mstore(ptr, shl(HALF_WORD_BITS, baseHi))
            mstore(add(ptr, 0x10), baseLo)
            ptr := add(ptr, FP_BYTES)
            switch exponentHi
            case 0 {
                mstore(add(m, 0x20), WORD_BYTES)
                mstore(ptr, exponentLo)
                ptr := add(ptr, WORD_BYTES)
            }
            default {
                mstore(add(m, 0x20), FP_BYTES)
                mstore(ptr, shl(HALF_WORD_BITS, exponentHi))
                mstore(add(ptr, 0x10), exponentLo)
                ptr := add(ptr, FP_BYTES)
            }
            mstore(ptr, shl(HALF_WORD_BITS, P_HI))
            mstore(add(ptr, 0x10), P_LO)
            ptr := add(ptr, FP_BYTES)
            ok := staticcall(gas(), MODEXP, m, sub(ptr, m), m, FP_BYTES)
            hi := shr(HALF_WORD_BITS, mload(m))
            lo := mload(add(m, 0x10))
        }
        if (!ok) revert BLS12PrecompileFailed(MODEXP);
    }

    /// @dev (aHi, aLo) < (bHi, bLo) for 2-word numbers.
    function _less(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo) private pure returns (bool) {
        return aHi < bHi || (aHi == bHi && aLo < bLo);
    }

    /// @dev (aHi, aLo) - (bHi, bLo) for a >= b.
    function _subtract(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo)
        private
        pure
        returns (uint256 hi, uint256 lo)
    {
        unchecked {
            lo = aLo - bLo;
            hi = aHi - bHi - (aLo < bLo ? 1 : 0);
        }
    }

    /// @dev (aHi, aLo) + b mod p for a < p and a small b.
    function _addSmall(uint256 aHi, uint256 aLo, uint256 b) private pure returns (uint256 hi, uint256 lo) {
        unchecked {
            lo = aLo + b;
            hi = aHi + (lo < aLo ? 1 : 0);
        }
        if (!_less(hi, lo, P_HI, P_LO)) (hi, lo) = _subtract(hi, lo, P_HI, P_LO);
    }

    /// @dev base^exponent mod r by square and multiply.
    function _pow(uint256 base, uint256 exponent) private pure returns (uint256 result) {
        result = 1;
        while (exponent != 0) {
            if (exponent & 1 != 0) result = mulmod(result, base, R);
            base = mulmod(base, base, R);
            exponent >>= 1;
        }
    }

    /// @dev The lowest `bits` bits of `value` in reverse order.
    function _reverseBits(uint256 value, uint256 bits) private pure returns (uint256 reversed) {
        for (uint256 i = 0; i < bits; ++i) {
            reversed = (reversed << 1) | ((value >> i) & 1);
        }
    }
}
