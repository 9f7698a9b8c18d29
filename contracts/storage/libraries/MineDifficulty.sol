// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MineDifficulty
/// @notice How the PoRA target moves toward a wanted number of answers per epoch, by at most MAX_FACTOR per epoch
/// (the rule is stated in {IPoraMine}). A larger target is an easier difficulty.
library MineDifficulty {
    /// @notice The most the target changes per epoch, either way.
    uint256 internal constant MAX_FACTOR = 2;

    /// @notice The smallest target (the hardest difficulty): a target of 0 would accept nothing ever again.
    uint256 internal constant MIN_TARGET = 1;

    /// @notice The target after an epoch filled up `elapsed` blocks into its `blocksPerEpoch`: scaled by
    /// elapsed / blocksPerEpoch, never below target / MAX_FACTOR (nor MIN_TARGET).
    function afterFilled(uint256 target, uint256 elapsed, uint256 blocksPerEpoch) internal pure returns (uint256) {
        if (elapsed >= blocksPerEpoch) return target;
        uint256 scaled = Math.max(Math.mulDiv(target, elapsed, blocksPerEpoch), target / MAX_FACTOR);
        return Math.max(scaled, MIN_TARGET);
    }

    /// @notice The target after an epoch that got `answers` of the `wanted` answers, then `skipped` epochs without
    /// any: scaled by wanted / answers (at most MAX_FACTOR; MAX_FACTOR when answers is 0), then by MAX_FACTOR per
    /// skipped epoch, saturating at 2^256 − 1.
    function afterRollover(uint256 target, uint256 answers, uint256 wanted, uint256 skipped)
        internal
        pure
        returns (uint256)
    {
        if (answers < wanted) {
            target = answers == 0 || answers * MAX_FACTOR <= wanted
                ? _grow(target, MAX_FACTOR, 1)
                : _grow(target, wanted, answers);
        }
        for (uint256 i; i < skipped && target != type(uint256).max; ++i) {
            target = _grow(target, MAX_FACTOR, 1);
        }
        return target;
    }

    /// @dev target × numerator / denominator (numerator / denominator ≤ MAX_FACTOR), saturating at 2^256 − 1.
    function _grow(uint256 target, uint256 numerator, uint256 denominator) private pure returns (uint256) {
        if (target > type(uint256).max / numerator) return type(uint256).max;
        return target * numerator / denominator;
    }
}
