// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BN254} from "../libraries/BN254.sol";

/// @title BN254Harness
/// @notice Exposes the BN254 library to the tests that check it against py_ecc. Never deployed by the stack.
contract BN254Harness {
    function add(BN254.G1Point calldata a, BN254.G1Point calldata b) external view returns (BN254.G1Point memory) {
        return BN254.add(a, b);
    }

    function mul(BN254.G1Point calldata p, uint256 s) external view returns (BN254.G1Point memory) {
        return BN254.mul(p, s);
    }

    function negate(BN254.G1Point calldata p) external pure returns (BN254.G1Point memory) {
        return BN254.negate(p);
    }

    function isOnCurve(BN254.G1Point calldata p) external pure returns (bool) {
        return BN254.isOnCurve(p);
    }

    function sqrt(uint256 a) external view returns (bool, uint256) {
        return BN254.sqrt(a);
    }

    function hashToG1(bytes32 digest) external view returns (BN254.G1Point memory) {
        return BN254.hashToG1(digest);
    }

    function challenge(BN254.G1Point calldata h, BN254.G1Point calldata sig, BN254.G1Point calldata pk1, BN254.G2Point calldata pk2)
        external
        pure
        returns (uint256)
    {
        return BN254.challenge(h, sig, pk1, pk2);
    }

    function pairing2(BN254.G1Point calldata a1, BN254.G2Point calldata a2, BN254.G1Point calldata b1, BN254.G2Point calldata b2)
        external
        view
        returns (bool, bool)
    {
        return BN254.pairing2(a1, a2, b1, b2);
    }

    function verify(BN254.G1Point calldata h, BN254.G1Point calldata sig, BN254.G1Point calldata pk1, BN254.G2Point calldata pk2)
        external
        view
        returns (bool)
    {
        return BN254.verify(h, sig, pk1, pk2);
    }

    /// @notice hashToG1 then verify, as DAEntrance does for an attestation digest.
    function verifyDigest(bytes32 digest, BN254.G1Point calldata sig, BN254.G1Point calldata pk1, BN254.G2Point calldata pk2)
        external
        view
        returns (bool)
    {
        return BN254.verify(BN254.hashToG1(digest), sig, pk1, pk2);
    }
}
