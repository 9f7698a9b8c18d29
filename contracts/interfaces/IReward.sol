// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IReward
/// @notice The storage reward pool. Fees arrive per flow range and are attributed to pricing chunks of
/// `sectorsPerPricingChunk` sectors (chunk i covers sectors [i·size, (i+1)·size)), proportionally to the sectors
/// of the range in each chunk. A chunk's reward is released linearly over `releaseSeconds` from its first fill:
/// released(t) = total × min(t − startTime, releaseSeconds) / releaseSeconds. A later fill raises `total`, so part of
/// it is released at once. The mining contract (MINE_ROLE) hands released rewards to miners; they are credited to a
/// ledger and paid out by `withdraw` (pull payment).
interface IReward {
    /// @notice Emitted after the market added `amount` for the flow range [beforeLength, beforeLength + sectors).
    event RewardFilled(uint256 beforeLength, uint256 sectors, uint256 amount);

    /// @notice Emitted after `amount` of chunk `pricingIndex`'s released reward was credited to `beneficiary`.
    event RewardDistributed(
        uint256 indexed pricingIndex, address indexed beneficiary, bytes32 indexed minerId, uint256 amount
    );

    /// @notice Emitted after `account` was paid its credited balance `amount`.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice A constructor address argument or a beneficiary was the zero address.
    error RewardZeroAddress();

    /// @notice A pricing chunk must hold at least one sector.
    error RewardInvalidChunkSize();

    /// @notice The release period must be at least one second.
    error RewardInvalidReleaseSeconds();

    /// @notice Only the market may fill rewards; `caller` is not it.
    error RewardCallerNotMarket(address caller);

    /// @notice A fill must cover at least one sector.
    error RewardEmptyRange();

    /// @notice `account` has no credited balance to withdraw.
    error RewardNothingToWithdraw(address account);

    /// @notice Adds the attached value to the chunks covering [beforeLength, beforeLength + sectors).
    /// @dev Only the market. Rounding dust goes to the last chunk, so the chunks get exactly msg.value.
    /// A chunk's release clock starts at its first fill with a non-zero share.
    /// @param beforeLength First sector of the range.
    /// @param sectors Sectors in the range, positive.
    function fillReward(uint256 beforeLength, uint256 sectors) external payable;

    /// @notice Credits everything chunk `pricingIndex` has released and not yet distributed to `beneficiary`.
    /// @dev Only MINE_ROLE. Returns 0 (and emits nothing) when nothing is releasable, so a second claim in the same
    /// second gets nothing. Admin power (ROLES.md): the check is the role alone, so an account the admin grants
    /// MINE_ROLE can sweep every chunk's released rewards to any beneficiary without a PoRA answer; the deploy grants
    /// it to PoraMine only.
    /// @param pricingIndex The pricing chunk the miner proved.
    /// @param beneficiary Who is credited.
    /// @param minerId The miner's id, for the event.
    /// @return amount The wei credited.
    function claimMineReward(uint256 pricingIndex, address beneficiary, bytes32 minerId)
        external
        returns (uint256 amount);

    /// @notice Pays msg.sender its whole credited balance.
    function withdraw() external;

    /// @notice The market allowed to fill rewards.
    function market() external view returns (address);

    /// @notice Sectors per pricing chunk.
    function sectorsPerPricingChunk() external view returns (uint256);

    /// @notice Seconds over which a chunk's reward is released.
    function releaseSeconds() external view returns (uint256);

    /// @notice Chunk `pricingIndex`'s reward.
    /// @return total Wei filled in so far.
    /// @return distributed Wei credited to miners so far.
    /// @return startTime Unix time of the first fill (0 if none).
    function rewards(uint256 pricingIndex)
        external
        view
        returns (uint256 total, uint256 distributed, uint256 startTime);

    /// @notice Wei of chunk `pricingIndex` released and not yet distributed.
    function releasable(uint256 pricingIndex) external view returns (uint256);

    /// @notice Credited wei `account` can withdraw.
    function balanceOf(address account) external view returns (uint256);
}
