// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IFlow} from "../interfaces/IFlow.sol";
import {IPoraMine, MINE_SECTOR_WORDS} from "../interfaces/IPoraMine.sol";
import {IReward} from "../interfaces/IReward.sol";
import {FlowTree} from "./libraries/FlowTree.sol";
import {MineDifficulty} from "./libraries/MineDifficulty.sol";
import {PoraLib} from "./libraries/PoraLib.sol";

/// @title PoraMine
/// @notice Proof-of-random-access mining over the Flow, paid from the reward pool. See {IPoraMine}.
/// @dev No roles and no setters: the flow, the reward pool and the mining parameters are fixed at construction; the
/// difficulty moves only by the rule in {IPoraMine}. The reward pool must grant this contract its MINE_ROLE
/// (scripts/deploy.py does). Both external calls go to those two fixed contracts; the guard is belt and braces.
contract PoraMine is IPoraMine, ReentrancyGuardTransient {
    using PoraLib for PoraLib.Range;

    /// @dev Most answers per epoch: the answer counter is a uint64.
    uint256 private constant MAX_TARGET_ANSWERS = type(uint32).max;

    /// @dev The flow has 2^64 sector positions: no miner covers more.
    uint256 private constant MAX_MINING_LENGTH = 1 << FlowTree.DEPTH;

    /// @dev One storage slot: the epoch answers were last accepted in, how many, and whether any ever was.
    struct EpochCounter {
        uint128 epoch;
        uint64 answers;
        bool started;
    }

    struct Miner {
        address owner;
        address beneficiary;
    }

    IFlow private immutable _flow;
    IReward private immutable _reward;
    uint256 private immutable _targetAnswers;
    uint256 private immutable _maxMiningLength;
    uint256 private immutable _blocksPerEpoch;
    uint256 private immutable _sectorsPerPricingChunk;

    uint256 private _target;
    EpochCounter private _counter;
    mapping(bytes32 minerId => Miner) private _miners;
    mapping(bytes32 answerKey => bool) private _answered;

    /// @param flow_ The Flow to mine (its epoch length is read once).
    /// @param reward_ The reward pool (its pricing chunk size is read once); it must grant MINE_ROLE to this contract.
    /// @param initialDifficulty The starting difficulty, at least 1: target = (2^256 − 1) / initialDifficulty.
    /// @param targetAnswers Answers per epoch the difficulty steers toward, also the most an epoch accepts.
    /// @param maxMiningLength_ The most sectors of its shard a miner covers, a positive multiple of 1024 (0G: 8 TiB).
    constructor(
        address flow_,
        address reward_,
        uint256 initialDifficulty,
        uint256 targetAnswers,
        uint256 maxMiningLength_
    ) {
        if (flow_ == address(0) || reward_ == address(0)) revert MineZeroAddress();
        if (initialDifficulty == 0) revert MineInvalidDifficulty();
        if (targetAnswers == 0 || targetAnswers > MAX_TARGET_ANSWERS) {
            revert MineInvalidTargetAnswers(targetAnswers, MAX_TARGET_ANSWERS);
        }
        if (maxMiningLength_ == 0 || maxMiningLength_ % FlowTree.SECTORS_PER_SEGMENT != 0 || maxMiningLength_ > MAX_MINING_LENGTH) {
            revert MineInvalidMaxMiningLength(maxMiningLength_, MAX_MINING_LENGTH);
        }
        _flow = IFlow(flow_);
        _reward = IReward(reward_);
        _targetAnswers = targetAnswers;
        _maxMiningLength = maxMiningLength_;
        _blocksPerEpoch = IFlow(flow_).blocksPerEpoch();
        _sectorsPerPricingChunk = IReward(reward_).sectorsPerPricingChunk();
        // Range starts are pricing-chunk multiples and the shard arithmetic needs them segment-aligned.
        if (_sectorsPerPricingChunk == 0 || _sectorsPerPricingChunk % FlowTree.SECTORS_PER_SEGMENT != 0) {
            revert MineInvalidPricingChunk(_sectorsPerPricingChunk);
        }
        _target = type(uint256).max / initialDifficulty;
    }

    /// @inheritdoc IPoraMine
    function register(bytes32 salt, address beneficiary) external returns (bytes32 minerId) {
        if (beneficiary == address(0)) revert MineZeroAddress();
        minerId = minerIdOf(msg.sender, salt);
        if (_miners[minerId].owner != address(0)) revert MineMinerExists(minerId);
        _miners[minerId] = Miner({owner: msg.sender, beneficiary: beneficiary});
        emit MinerRegistered(minerId, msg.sender, beneficiary);
    }

    /// @inheritdoc IPoraMine
    function setBeneficiary(bytes32 minerId, address beneficiary) external {
        if (beneficiary == address(0)) revert MineZeroAddress();
        Miner storage miner = _ownedMiner(minerId);
        address previous = miner.beneficiary;
        miner.beneficiary = beneficiary;
        emit BeneficiaryUpdated(minerId, previous, beneficiary);
    }

    /// @inheritdoc IPoraMine
    function submit(Answer calldata answer) external nonReentrant returns (uint256) {
        address beneficiary = _ownedMiner(answer.minerId).beneficiary;

        _flow.makeContext();
        IFlow.MineContext memory context = _flow.getContext();
        if (context.digest == bytes32(0)) revert MineEpochUnmineable(context.epoch);
        if (answer.contextDigest != context.digest) revert MineStaleContext(answer.contextDigest, context.digest);

        uint256 answers = _openEpoch(context.epoch);
        bytes32 answerKey = keccak256(abi.encode(context.epoch, answer.minerId, answer.nonce));
        if (_answered[answerKey]) revert MineAnswerReplayed(answer.minerId, context.epoch, answer.nonce);
        if (answers >= _targetAnswers) revert MineEpochFull(context.epoch, _targetAnswers);

        _verify(answer, context);

        _answered[answerKey] = true;
        _counter.answers = uint64(answers + 1); // answers < _targetAnswers ≤ 2^32
        if (answers + 1 == _targetAnswers) _adjustFilled(context);
        uint256 pricingIndex = answer.recallPosition / _sectorsPerPricingChunk;
        emit AnswerAccepted(context.epoch, answer.minerId, answer.nonce, answer.recallPosition, pricingIndex, answers);
        return _reward.claimMineReward(pricingIndex, beneficiary, answer.minerId);
    }

    /// @inheritdoc IPoraMine
    function flow() external view returns (address) {
        return address(_flow);
    }

    /// @inheritdoc IPoraMine
    function reward() external view returns (address) {
        return address(_reward);
    }

    /// @inheritdoc IPoraMine
    function target() external view returns (uint256) {
        return _target;
    }

    /// @inheritdoc IPoraMine
    function difficulty() external view returns (uint256) {
        return type(uint256).max / _target;
    }

    /// @inheritdoc IPoraMine
    function targetAnswersPerEpoch() external view returns (uint256) {
        return _targetAnswers;
    }

    /// @inheritdoc IPoraMine
    function maxMiningLength() external view returns (uint256) {
        return _maxMiningLength;
    }

    /// @inheritdoc IPoraMine
    function blocksPerEpoch() external view returns (uint256) {
        return _blocksPerEpoch;
    }

    /// @inheritdoc IPoraMine
    function sectorsPerPricingChunk() external view returns (uint256) {
        return _sectorsPerPricingChunk;
    }

    /// @inheritdoc IPoraMine
    function epochAnswers() external view returns (uint256 epoch, uint256 answers) {
        EpochCounter memory counter = _counter;
        return (counter.epoch, counter.answers);
    }

    /// @inheritdoc IPoraMine
    function minerOf(bytes32 minerId) external view returns (address owner, address beneficiary) {
        Miner storage miner = _miners[minerId];
        return (miner.owner, miner.beneficiary);
    }

    /// @inheritdoc IPoraMine
    function isAnswered(uint256 epoch, bytes32 minerId, uint256 nonce) external view returns (bool) {
        return _answered[keccak256(abi.encode(epoch, minerId, nonce))];
    }

    /// @inheritdoc IPoraMine
    function minerIdOf(address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }

    /// @inheritdoc IPoraMine
    function mineRange(uint256 startPosition, uint256 shardId, uint256 numShard, uint256 flowLength)
        external
        view
        returns (uint256 mineLength, uint256 shardSectors)
    {
        PoraLib.Range memory r = _range(startPosition, shardId, numShard, flowLength);
        return (r.mineLength, r.shardSectors);
    }

    /// @inheritdoc IPoraMine
    function targetOf(uint256 startPosition, uint256 shardId, uint256 numShard, uint256 flowLength)
        external
        view
        returns (uint256)
    {
        return _range(startPosition, shardId, numShard, flowLength).scaledTarget(_target);
    }

    /// @inheritdoc IPoraMine
    function seedOf(
        bytes32 contextDigest,
        bytes32 minerId,
        uint256 startPosition,
        uint256 shardId,
        uint256 numShard,
        uint256 nonce
    ) external pure returns (bytes32) {
        return PoraLib.seed(contextDigest, minerId, startPosition, shardId, numShard, nonce);
    }

    /// @inheritdoc IPoraMine
    function recallPositionOf(
        bytes32 seed,
        uint256 startPosition,
        uint256 shardId,
        uint256 numShard,
        uint256 flowLength
    ) external view returns (uint256) {
        return _range(startPosition, shardId, numShard, flowLength).recall(seed);
    }

    /// @inheritdoc IPoraMine
    function qualityOf(bytes32 seed, bytes32[MINE_SECTOR_WORDS] calldata sealedData) external pure returns (uint256) {
        return PoraLib.quality(seed, sealedData);
    }

    /// @inheritdoc IPoraMine
    function unseal(bytes32 minerId, uint256 position, bytes32[MINE_SECTOR_WORDS] calldata sealedData)
        external
        pure
        returns (bytes32[MINE_SECTOR_WORDS] memory)
    {
        return PoraLib.unseal(minerId, position, sealedData);
    }

    /// @dev The miner `minerId`, which msg.sender must own.
    function _ownedMiner(bytes32 minerId) private view returns (Miner storage miner) {
        miner = _miners[minerId];
        address owner = miner.owner;
        if (owner == address(0)) revert MineUnknownMiner(minerId);
        if (owner != msg.sender) revert MineNotMinerOwner(minerId, msg.sender);
    }

    /// @dev The range of a miner starting at `start` in shard `shardId`/`numShard` of a flow of `flowLength` sectors.
    function _range(uint256 start, uint256 shardId, uint256 numShard, uint256 flowLength)
        private
        view
        returns (PoraLib.Range memory)
    {
        return PoraLib.range(start, shardId, numShard, flowLength, _maxMiningLength, _sectorsPerPricingChunk);
    }

    /// @dev Moves the answer counter to `epoch` (adjusting the target for the epochs left behind) and returns the
    /// answers `epoch` has so far.
    function _openEpoch(uint256 epoch) private returns (uint256) {
        EpochCounter memory counter = _counter;
        if (counter.started && counter.epoch == epoch) return counter.answers;
        if (counter.started) {
            // Flow epochs never decrease, so epoch > counter.epoch here.
            uint256 previous = _target;
            uint256 next = MineDifficulty.afterRollover(previous, counter.answers, _targetAnswers, epoch - counter.epoch - 1);
            if (next != previous) {
                _target = next;
                emit DifficultyAdjusted(epoch, previous, next, counter.answers);
            }
        }
        _counter = EpochCounter({epoch: uint128(epoch), answers: 0, started: true});
        return 0;
    }

    /// @dev Checks range, recall position, proof and quality of `answer` in `context`; reverts on the first failure.
    function _verify(Answer calldata answer, IFlow.MineContext memory context) private view {
        PoraLib.Range memory r = _range(answer.startPosition, answer.shardId, answer.numShard, context.flowLength);
        uint256 position = answer.recallPosition;
        if (!r.contains(position)) revert MineRecallOutOfRange(position, r.start, r.start + r.mineLength);
        bytes32 seed = PoraLib.seed(
            answer.contextDigest, answer.minerId, answer.startPosition, answer.shardId, answer.numShard, answer.nonce
        );
        uint256 expected = r.recall(seed);
        if (expected != position) revert MineWrongRecallPosition(expected, position);

        bytes32 root =
            PoraLib.flowRoot(PoraLib.unseal(answer.minerId, position, answer.sealedData), position, answer.merkleProof);
        if (root != context.flowRoot) revert MineInvalidProof(root, context.flowRoot);

        uint256 scaledTarget = r.scaledTarget(_target);
        uint256 quality = PoraLib.quality(seed, answer.sealedData);
        if (quality > scaledTarget) revert MineDifficultyNotMet(quality, scaledTarget);
    }

    /// @dev The epoch of `context` just got its last answer: scale the target by the share of the epoch it took.
    function _adjustFilled(IFlow.MineContext memory context) private {
        uint256 previous = _target;
        uint256 next = MineDifficulty.afterFilled(previous, block.number - context.mineStart + 1, _blocksPerEpoch);
        if (next != previous) {
            _target = next;
            emit DifficultyAdjusted(context.epoch, previous, next, _targetAnswers);
        }
    }
}
