// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// 32-byte words in a sector (256 bytes): the sealed data an answer carries.
uint256 constant MINE_SECTOR_WORDS = 8;

// Siblings in a sector's flow proof: the flow tree's height (FlowTree.DEPTH).
uint256 constant MINE_PROOF_DEPTH = 64;

/// @title IPoraMine
/// @notice Storage mining by proof of random access (PoRA). Each epoch the Flow fixes a context (flow root, flow
/// length, a block hash, and their digest). A registered miner searches nonces; each nonce recalls one sector of the
/// miner's declared range and shard, and the answer proves the miner holds that sector sealed to its miner id. An
/// answer whose quality hash meets the difficulty target earns the released reward of the recalled sector's pricing
/// chunk in the reward pool, credited to the miner's beneficiary (pull payment: `IReward.withdraw`).
/// @dev Definitions (zerog/storage/pora.py implements the same, and the tests check them against each other):
///
/// Miner id: keccak256(abi.encode(owner, salt)). Only its owner submits its answers; its beneficiary is paid.
///
/// Range: a shard (`numShard` a power of two, `shardId` < numShard: flow segment g belongs to shard g % numShard, as
/// on the storage nodes), mineLength = min(flowLength, maxMiningLength · numShard) (0G's rule: the miner does not
/// choose it), and `startPosition`, a multiple of the reward pool's pricing chunk with startPosition + mineLength ≤
/// flowLength. So a miner covers the whole flow, or, once the flow is longer than maxMiningLength sectors of its
/// shard, a window of exactly that many; no range is small enough to hold only a few sectors. The shard's sectors in
/// the range, in flow order, are numbered 0 .. shardSectors − 1.
///
/// Seed: keccak256(abi.encode(contextDigest, minerId, startPosition, shardId, numShard, nonce)).
/// Recall: sector number k = uint64(seed) % shardSectors (the seed's low 64 bits) of the shard's sectors in the range.
///
/// Seal: the recalled sector's 8 words d_0..d_7 are stored sealed as s_i = d_i XOR m_i with
/// m_0 = keccak256(abi.encode(minerId, position)) and m_i = keccak256(s_(i−1)): a chain, so sealing runs word after
/// word while unsealing needs only the sealed words (9 hashes on chain). The seal makes an answer's data specific to
/// one miner id: an answer can be neither copied from another miner nor submitted under another id. It is cheap on
/// purpose (8 hashes a sector), so it does not by itself make sealing on demand expensive; what keeps a miner honest
/// is that every nonce recalls a random sector of its whole range, so a miner without the data cannot search.
///
/// Proof: leaf = keccak256(the 256 unsealed bytes); the 64 siblings lead from it to the context's flow root by the
/// Flow's tree definition (see IFlow): at height i the node is the left child iff bit i of the position is 0.
///
/// Quality: keccak256(abi.encode(seed, sealedData)) as an integer must be at most
/// target · shardSectors / min(flowLength, maxMiningLength) (0G's scaling): the chance per nonce is in proportion to
/// the sectors the range makes the miner hold, so a miner of one shard in n meets an n times harder target, and no
/// shard or range earns more per sector held than the whole flow does.
///
/// Context: the Flow's context of the current epoch (see IFlow: it is made before the epoch's first submission, and
/// an epoch whose context was made too late has a zero digest and cannot be mined).
///
/// Difficulty: target = (2^256 − 1) / difficulty. An epoch accepts at most `targetAnswersPerEpoch` answers. When an
/// epoch fills up after `elapsed` of its blocks (counted from its first block), the target is multiplied by
/// elapsed / blocksPerEpoch (never below half). When the first answer of a later epoch arrives, the target of an
/// epoch that got `answers` < target answers is multiplied by target/answers (at most 2, 2 when it got none), and
/// doubled once more for every epoch in between that got no answer. So the change per epoch is at most 2× either way.
interface IPoraMine {
    /// @notice One PoRA answer.
    /// @param contextDigest The digest of the Flow's current context (`IFlow.getContext().digest`).
    /// @param minerId The registered miner id (its owner must send the answer).
    /// @param nonce Any number; each (epoch, minerId, nonce) is accepted once.
    /// @param startPosition First sector of the miner's range, a multiple of the pricing chunk.
    /// @param shardId The miner's shard.
    /// @param numShard Shards the flow is split into (a power of two).
    /// @param recallPosition The recalled sector's flow position, as derived from the seed.
    /// @param sealedData The recalled sector, sealed to `minerId`.
    /// @param merkleProof The unsealed sector's siblings from height 0 up to the flow root.
    struct Answer {
        bytes32 contextDigest;
        bytes32 minerId;
        uint256 nonce;
        uint256 startPosition;
        uint256 shardId;
        uint256 numShard;
        uint256 recallPosition;
        bytes32[MINE_SECTOR_WORDS] sealedData;
        bytes32[MINE_PROOF_DEPTH] merkleProof;
    }

    /// @notice Emitted after `owner` registered `minerId`, paying `beneficiary`.
    event MinerRegistered(bytes32 indexed minerId, address indexed owner, address indexed beneficiary);

    /// @notice Emitted after the owner of `minerId` changed its beneficiary.
    event BeneficiaryUpdated(bytes32 indexed minerId, address indexed previousBeneficiary, address indexed beneficiary);

    /// @notice Emitted after an answer was accepted, before its reward is claimed from the reward pool (whose
    /// `RewardDistributed` event in the same transaction carries the amount, when it is not zero).
    /// @param epoch The context's epoch.
    /// @param minerId The miner.
    /// @param nonce The answer's nonce.
    /// @param recallPosition The sector it proved.
    /// @param pricingIndex The reward pool's pricing chunk of that sector.
    /// @param answerIndex The answer's number in its epoch, from 0.
    event AnswerAccepted(
        uint256 indexed epoch,
        bytes32 indexed minerId,
        uint256 nonce,
        uint256 recallPosition,
        uint256 pricingIndex,
        uint256 answerIndex
    );

    /// @notice Emitted after the difficulty target changed at epoch `epoch`.
    /// @param epoch The epoch during (filled up) or at the start of which (rollover) the target changed.
    /// @param previousTarget The target before.
    /// @param newTarget The target now.
    /// @param answers Answers of the epoch the change is based on.
    event DifficultyAdjusted(uint256 indexed epoch, uint256 previousTarget, uint256 newTarget, uint256 answers);

    /// @notice A constructor address argument or a beneficiary was the zero address.
    error MineZeroAddress();

    /// @notice The initial difficulty must be at least 1.
    error MineInvalidDifficulty();

    /// @notice At least one answer per epoch must be wanted, and at most `max`.
    error MineInvalidTargetAnswers(uint256 targetAnswers, uint256 max);

    /// @notice The maximum mining length must be a positive multiple of a segment (1024 sectors), at most `max`.
    error MineInvalidMaxMiningLength(uint256 maxMiningLength, uint256 max);

    /// @notice The reward pool's pricing chunk, `sectorsPerPricingChunk`, must be a positive multiple of a segment.
    error MineInvalidPricingChunk(uint256 sectorsPerPricingChunk);

    /// @notice `minerId` is registered already.
    error MineMinerExists(bytes32 minerId);

    /// @notice `minerId` is not registered.
    error MineUnknownMiner(bytes32 minerId);

    /// @notice `caller` does not own `minerId`.
    error MineNotMinerOwner(bytes32 minerId, address caller);

    /// @notice The context of epoch `epoch` was made more than 256 blocks after the epoch began, when the block hash
    /// it draws on was gone: nobody can mine that epoch.
    error MineEpochUnmineable(uint256 epoch);

    /// @notice The answer is for context `given`, but the current one is `current`.
    error MineStaleContext(bytes32 given, bytes32 current);

    /// @notice `minerId` answered with `nonce` in `epoch` already.
    error MineAnswerReplayed(bytes32 minerId, uint256 epoch, uint256 nonce);

    /// @notice Epoch `epoch` has its `maxAnswers` answers already.
    error MineEpochFull(uint256 epoch, uint256 maxAnswers);

    /// @notice The shard `shardId` of `numShard` is invalid: numShard must be a power of two up to 2^32, shardId below.
    error MineInvalidShard(uint256 shardId, uint256 numShard);

    /// @notice The range start `startPosition` is not a multiple of the pricing chunk, `alignment` sectors.
    error MineRangeNotAligned(uint256 startPosition, uint256 alignment);

    /// @notice The range [startPosition, startPosition + mineLength) does not end inside the flow of `flowLength`.
    error MineRangeOutsideFlow(uint256 startPosition, uint256 mineLength, uint256 flowLength);

    /// @notice The range [startPosition, startPosition + mineLength) holds no segment of shard `shardId`/`numShard`.
    error MineEmptyShardRange(uint256 startPosition, uint256 mineLength, uint256 shardId, uint256 numShard);

    /// @notice The recall position `recallPosition` is not a sector of the range [start, end) in the miner's shard.
    error MineRecallOutOfRange(uint256 recallPosition, uint256 start, uint256 end);

    /// @notice The seed recalls sector `expected`, not `given`.
    error MineWrongRecallPosition(uint256 expected, uint256 given);

    /// @notice The unsealed sector and the proof lead to `computedRoot`, not the context's `flowRoot`.
    error MineInvalidProof(bytes32 computedRoot, bytes32 flowRoot);

    /// @notice The answer's quality `quality` is above the target `target` (already scaled to the range).
    error MineDifficultyNotMet(uint256 quality, uint256 target);

    /// @notice Registers the miner id keccak256(abi.encode(msg.sender, salt)), owned by msg.sender.
    /// @param salt Any value: one owner can register several ids (one per storage node, say).
    /// @param beneficiary Who the rewards of this id are credited to.
    /// @return minerId The new miner id.
    function register(bytes32 salt, address beneficiary) external returns (bytes32 minerId);

    /// @notice Changes who the rewards of `minerId` are credited to. Only its owner.
    function setBeneficiary(bytes32 minerId, address beneficiary) external;

    /// @notice Verifies `answer` and, if it is valid and good enough, claims the released reward of the recalled
    /// sector's pricing chunk for the miner's beneficiary.
    /// @dev Makes the Flow's context first (`IFlow.makeContext`), so the first answer of an epoch opens it. Reverts
    /// with the first failed check, in this order: miner id, context (unmineable, stale), replay, epoch full, range,
    /// recall position, proof, quality. Only the owner of `answer.minerId` may call.
    /// @param answer The answer.
    /// @return reward The wei credited to the beneficiary (0 when the chunk has nothing released right now).
    function submit(Answer calldata answer) external returns (uint256 reward);

    /// @notice The Flow whose contexts are mined.
    function flow() external view returns (address);

    /// @notice The reward pool answers claim from.
    function reward() external view returns (address);

    /// @notice The current base target: an answer's quality must be at most this scaled to its range (`targetOf`).
    function target() external view returns (uint256);

    /// @notice (2^256 − 1) / target: the expected number of recalls per answer for a miner of the whole flow.
    function difficulty() external view returns (uint256);

    /// @notice The answers per epoch the difficulty steers toward, and the most an epoch accepts.
    function targetAnswersPerEpoch() external view returns (uint256);

    /// @notice The most sectors of its shard a miner's range covers.
    function maxMiningLength() external view returns (uint256);

    /// @notice Blocks per epoch, the Flow's.
    function blocksPerEpoch() external view returns (uint256);

    /// @notice Sectors per pricing chunk, the reward pool's: an answer for position p claims chunk p / this.
    function sectorsPerPricingChunk() external view returns (uint256);

    /// @notice The epoch answers were last accepted in and how many it has.
    function epochAnswers() external view returns (uint256 epoch, uint256 answers);

    /// @notice Owner and beneficiary of `minerId` (both zero when it is not registered).
    function minerOf(bytes32 minerId) external view returns (address owner, address beneficiary);

    /// @notice True if `minerId` answered with `nonce` in `epoch`.
    function isAnswered(uint256 epoch, bytes32 minerId, uint256 nonce) external view returns (bool);

    /// @notice The miner id `owner` gets for `salt`.
    function minerIdOf(address owner, bytes32 salt) external pure returns (bytes32);

    /// @notice The mining range of a miner starting at `startPosition` in shard `shardId`/`numShard` of a flow of
    /// `flowLength` sectors (reverts with the range errors).
    /// @return mineLength Sectors in the range [startPosition, startPosition + mineLength).
    /// @return shardSectors Sectors of the shard in the range: the recall draws one of them.
    function mineRange(uint256 startPosition, uint256 shardId, uint256 numShard, uint256 flowLength)
        external
        view
        returns (uint256 mineLength, uint256 shardSectors);

    /// @notice The target an answer of the given range must meet now: target · shardSectors / min(flowLength,
    /// maxMiningLength) (reverts with the range errors).
    function targetOf(uint256 startPosition, uint256 shardId, uint256 numShard, uint256 flowLength)
        external
        view
        returns (uint256);

    /// @notice The seed of a nonce (see the definitions).
    function seedOf(
        bytes32 contextDigest,
        bytes32 minerId,
        uint256 startPosition,
        uint256 shardId,
        uint256 numShard,
        uint256 nonce
    ) external pure returns (bytes32);

    /// @notice The flow position `seed` recalls in the given range (reverts with the range errors).
    function recallPositionOf(
        bytes32 seed,
        uint256 startPosition,
        uint256 shardId,
        uint256 numShard,
        uint256 flowLength
    ) external view returns (uint256);

    /// @notice The quality of an answer with `seed` and `sealedData`.
    function qualityOf(bytes32 seed, bytes32[MINE_SECTOR_WORDS] calldata sealedData) external pure returns (uint256);

    /// @notice The sector that `sealedData` unseals to for `minerId` at `position`.
    function unseal(bytes32 minerId, uint256 position, bytes32[MINE_SECTOR_WORDS] calldata sealedData)
        external
        pure
        returns (bytes32[MINE_SECTOR_WORDS] memory data);
}
