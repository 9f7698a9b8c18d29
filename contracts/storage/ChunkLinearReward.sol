// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IReward} from "../interfaces/IReward.sol";

/// @title ChunkLinearReward
/// @notice Storage fees per pricing chunk, released linearly to miners. See {IReward}.
/// @dev Invariant: balance = Σ credited balances + Σ (total − distributed) over chunks. The market is fixed at
/// construction (its CREATE address is predicted by the deployer); MINE_ROLE is granted by the admin to the
/// mining contract once it exists.
contract ChunkLinearReward is IReward, AccessControl, ReentrancyGuardTransient {
    /// @notice Role allowed to call {claimMineReward}: the mining contract.
    bytes32 public constant MINE_ROLE = keccak256("MINE_ROLE");

    /// @dev One storage slot per chunk: 104-bit amounts hold 2·10^31 wei, 48-bit times outlast the chain.
    struct ChunkReward {
        uint104 total;
        uint104 distributed;
        uint48 startTime;
    }

    address private immutable _market;
    uint256 private immutable _sectorsPerPricingChunk;
    uint256 private immutable _releaseSeconds;
    mapping(uint256 pricingIndex => ChunkReward) private _rewards;
    mapping(address account => uint256 amount) private _balances;

    /// @param market_ The only caller of `fillReward`.
    /// @param sectorsPerPricingChunk_ Sectors per pricing chunk, positive (0G: 8 GiB = 2^25 sectors).
    /// @param releaseSeconds_ Seconds over which a chunk's reward is released, positive.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants MINE_ROLE).
    constructor(address market_, uint256 sectorsPerPricingChunk_, uint256 releaseSeconds_, address admin) {
        if (market_ == address(0) || admin == address(0)) revert RewardZeroAddress();
        if (sectorsPerPricingChunk_ == 0) revert RewardInvalidChunkSize();
        if (releaseSeconds_ == 0) revert RewardInvalidReleaseSeconds();
        _market = market_;
        _sectorsPerPricingChunk = sectorsPerPricingChunk_;
        _releaseSeconds = releaseSeconds_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IReward
    function fillReward(uint256 beforeLength, uint256 sectors) external payable {
        if (msg.sender != _market) revert RewardCallerNotMarket(msg.sender);
        if (sectors == 0) revert RewardEmptyRange();
        uint256 amount = msg.value;
        uint256 chunkSize = _sectorsPerPricingChunk;
        uint256 firstIndex = beforeLength / chunkSize;
        uint256 lastIndex = (beforeLength + sectors - 1) / chunkSize;
        uint256 assigned;
        uint256 from = beforeLength;
        for (uint256 index = firstIndex; index < lastIndex; ++index) {
            uint256 chunkEnd = (index + 1) * chunkSize;
            uint256 share = Math.mulDiv(amount, chunkEnd - from, sectors);
            _add(index, share);
            assigned += share;
            from = chunkEnd;
        }
        _add(lastIndex, amount - assigned);
        emit RewardFilled(beforeLength, sectors, amount);
    }

    /// @inheritdoc IReward
    function claimMineReward(uint256 pricingIndex, address beneficiary, bytes32 minerId)
        external
        onlyRole(MINE_ROLE)
        returns (uint256 amount)
    {
        if (beneficiary == address(0)) revert RewardZeroAddress();
        ChunkReward storage chunk = _rewards[pricingIndex];
        amount = _released(chunk) - chunk.distributed;
        if (amount == 0) return 0;
        // distributed + amount = released ≤ total, which fits 104 bits
        chunk.distributed += uint104(amount);
        _balances[beneficiary] += amount;
        emit RewardDistributed(pricingIndex, beneficiary, minerId, amount);
    }

    /// @inheritdoc IReward
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert RewardNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IReward
    function market() external view returns (address) {
        return _market;
    }

    /// @inheritdoc IReward
    function sectorsPerPricingChunk() external view returns (uint256) {
        return _sectorsPerPricingChunk;
    }

    /// @inheritdoc IReward
    function releaseSeconds() external view returns (uint256) {
        return _releaseSeconds;
    }

    /// @inheritdoc IReward
    function rewards(uint256 pricingIndex)
        external
        view
        returns (uint256 total, uint256 distributed, uint256 startTime)
    {
        ChunkReward storage chunk = _rewards[pricingIndex];
        return (chunk.total, chunk.distributed, chunk.startTime);
    }

    /// @inheritdoc IReward
    function releasable(uint256 pricingIndex) external view returns (uint256) {
        ChunkReward storage chunk = _rewards[pricingIndex];
        return _released(chunk) - chunk.distributed;
    }

    /// @inheritdoc IReward
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @dev Adds `share` to chunk `index`, starting its release clock on the first non-zero share.
    function _add(uint256 index, uint256 share) private {
        if (share == 0) return;
        ChunkReward storage chunk = _rewards[index];
        chunk.total = SafeCast.toUint104(chunk.total + share);
        if (chunk.startTime == 0) chunk.startTime = SafeCast.toUint48(block.timestamp);
    }

    /// @dev total × min(elapsed, releaseSeconds) / releaseSeconds; never decreases, so it never drops below
    /// `distributed`.
    function _released(ChunkReward storage chunk) private view returns (uint256) {
        uint256 startTime = chunk.startTime;
        if (startTime == 0) return 0;
        uint256 elapsed = block.timestamp - startTime;
        if (elapsed >= _releaseSeconds) return chunk.total;
        return Math.mulDiv(chunk.total, elapsed, _releaseSeconds);
    }
}
