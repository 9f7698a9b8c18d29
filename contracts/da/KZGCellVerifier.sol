// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IKZGCellVerifier} from "../interfaces/IKZGCellVerifier.sol";
import {KZGCellProof} from "./libraries/KZGCellProof.sol";

/// @title KZGCellVerifier
/// @notice The cell proof check of {KZGCellProof} as a stateless contract: the trusted setup points it embeds
/// (~8.5 KiB of code) stay out of the contracts that call it.
contract KZGCellVerifier is IKZGCellVerifier {
    /// @inheritdoc IKZGCellVerifier
    function verifyCellProof(bytes calldata commitment, uint256 cellIndex, bytes calldata cell, bytes calldata proof)
        external
        view
        returns (bool)
    {
        return KZGCellProof.verify(commitment, cellIndex, cell, proof);
    }
}
