// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IKZGCellVerifier
/// @notice Checks one EIP-7594 cell of a KZG-committed blob (64 field elements of the 2x extension, 128 cells a
/// blob) against its KZG cell proof, on chain, with the BLS12-381 precompiles of EIP-2537 (Prague). The same
/// verdict as ckzg's `verify_cell_kzg_proof_batch` on a batch of one cell; see KZGCellProof for the math.
interface IKZGCellVerifier {
    /// @notice Whether `cell` is cell `cellIndex` of the blob committed to by `commitment`, as `proof` proves.
    /// @param commitment The blob's KZG commitment, 48 bytes compressed (as ckzg emits it).
    /// @param cellIndex The cell's index in the extended blob, below 128.
    /// @param cell The cell: 64 field elements, 32 bytes big-endian each (2048 bytes).
    /// @param proof The cell's KZG proof, 48 bytes compressed.
    /// @return True if the proof holds, false if it does not. Malformed input (index, cell length, an element not
    /// below the scalar field modulus, a point not on the curve or outside its subgroup) reverts with
    /// KZGCellProof's custom errors.
    function verifyCellProof(bytes calldata commitment, uint256 cellIndex, bytes calldata cell, bytes calldata proof)
        external
        view
        returns (bool);
}
