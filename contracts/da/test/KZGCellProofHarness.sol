// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KZGCellProof} from "../libraries/KZGCellProof.sol";

/// @title KZGCellProofHarness
/// @notice Exposes the parts of the KZGCellProof library to the tests that check them against ckzg and py_ecc
/// (and measure their gas). Never deployed by the stack.
contract KZGCellProofHarness {
    function interpolate(uint256 cellIndex, bytes calldata cell) external pure returns (uint256[64] memory) {
        return KZGCellProof.interpolate(cellIndex, cell);
    }

    function decompressG1(bytes calldata point, bool negate) external view returns (bytes memory) {
        return KZGCellProof.decompressG1(point, negate);
    }
}
