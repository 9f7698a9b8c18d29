// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFlow
/// @notice The storage log ("flow"): an append-only sequence of 256-byte sectors into which every uploaded file is
/// placed, plus the epoch contexts miners prove against. Wire-compatible with the 0G SDKs, which call it by ABI:
/// `submit` is 0xbc8c11f8 and `Submit` has topic0 0x167ce04d2aa1981994d3a31695da0d785373335b1078cec239a1a3a2c7675555.
/// @dev Positions and lengths are in sectors (256 bytes). Sector 0 is reserved and is an empty sector.
///
/// Placement of a submission whose nodes have heights h_0 > h_1 > ... > h_k:
/// 1. start = the current flow length rounded up to a multiple of 2^h_0;
/// 2. if start is not a multiple of 1024 (a segment) and [start, start + Σ2^h_i) crosses a segment boundary,
///    start moves to the next multiple of 1024, so a file is either segment-aligned or lies inside one segment;
/// 3. the sectors skipped by 1 and 2 are padding (empty sectors); the nodes are then placed back to back from start,
///    each at a multiple of its own size 2^h_i (which holds by construction as the heights decrease).
///
/// Flow root: the root of the perfect binary keccak256 tree of height 64 (FlowTree.DEPTH) over the 2^64 sector
/// positions, where internal node = keccak256(left ‖ right) (64 raw bytes) and:
/// - an empty sector (the reserved sector 0, padding, every position at or past the flow length) has leaf
///   Z[0] = keccak256(256 zero bytes) = 0xd397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5, so an
///   empty subtree of height d has root Z[d] with Z[d+1] = keccak256(Z[d] ‖ Z[d]);
/// - a submitted node of height h placed at position p is the subtree of height h at index p / 2^h, with the root
///   the submitter gave (its sectors are never hashed on-chain).
/// The root is computed on demand (`flowRoot`, `makeContext`), never per submission.
interface IFlow {
    /// @notice One node of a submission: the merkle root of 2^height consecutive sectors of the file.
    struct SubmissionNode {
        bytes32 root;
        uint256 height;
    }

    /// @notice A file as the SDK describes it: its size in bytes, free-form tags, and its nodes, largest first.
    struct SubmissionData {
        uint256 length;
        bytes tags;
        SubmissionNode[] nodes;
    }

    /// @notice A file and the address it is submitted for (the event's `sender`; need not be msg.sender).
    struct Submission {
        SubmissionData data;
        address submitter;
    }

    /// @notice What miners of one epoch prove against.
    /// @param epoch The epoch index.
    /// @param mineStart First block of the epoch: firstBlock + epoch * blocksPerEpoch.
    /// @param flowRoot The flow root when the context was made.
    /// @param flowLength The flow length (sectors) when the context was made.
    /// @param blockDigest blockhash(mineStart - 1), or zero when the context was made more than 256 blocks after it.
    /// @param digest keccak256(abi.encode(blockDigest, flowRoot, flowLength)), or zero (the epoch cannot be mined)
    /// when blockDigest is zero. Since every submission makes the context of a new epoch before it is placed, the
    /// flow captured is the flow at the end of block mineStart − 1, fixed before that block's hash was known: nobody
    /// can pick a submission that steers the digest.
    struct MineContext {
        uint256 epoch;
        uint256 mineStart;
        bytes32 flowRoot;
        uint256 flowLength;
        bytes32 blockDigest;
        bytes32 digest;
    }

    /// @notice Emitted after a file was placed in the flow.
    /// @param sender The submission's `submitter`.
    /// @param identity keccak256 of the node roots, packed in order.
    /// @param submissionIndex The transaction sequence number, from 0.
    /// @param startPos The file's first sector in the flow.
    /// @param length The sectors the file occupies: Σ 2^height.
    /// @param submission The submitted data (without the submitter).
    event Submit(
        address indexed sender,
        bytes32 indexed identity,
        uint256 submissionIndex,
        uint256 startPos,
        uint256 length,
        SubmissionData submission
    );

    /// @notice Emitted after the mining context advanced to epoch `index`.
    /// @param sender The `makeContext` caller.
    /// @param index The new epoch.
    /// @param startMerkleRoot The flow root of the new context.
    /// @param submissionIndex Submissions so far (the next transaction sequence number).
    /// @param flowLength The flow length of the new context.
    /// @param context The context digest.
    event NewEpoch(
        address indexed sender,
        uint256 indexed index,
        bytes32 startMerkleRoot,
        uint256 submissionIndex,
        uint256 flowLength,
        bytes32 context
    );

    /// @notice A constructor address argument was the zero address.
    error FlowZeroAddress();

    /// @notice Epochs must be at least one block long.
    error FlowInvalidBlocksPerEpoch();

    /// @notice A submission needs a non-zero submitter.
    error FlowZeroSubmitter();

    /// @notice A submission has `count` nodes; it needs between 1 and `maxNodes`.
    error FlowInvalidNodeCount(uint256 count, uint256 maxNodes);

    /// @notice Node `index` has height `height`, above `maxHeight`.
    error FlowNodeTooHigh(uint256 index, uint256 height, uint256 maxHeight);

    /// @notice Node `index` has height `height`, not below the previous node's `previousHeight`.
    error FlowHeightsNotDecreasing(uint256 index, uint256 previousHeight, uint256 height);

    /// @notice The first and last node heights differ by `maxSpan` or more.
    error FlowHeightSpanTooLarge(uint256 firstHeight, uint256 lastHeight, uint256 maxSpan);

    /// @notice The byte length `length` must be in (`minExclusive`, `maxInclusive`]: at most the nodes' capacity and
    /// large enough that the last node is needed.
    error FlowLengthOutOfRange(uint256 length, uint256 minExclusive, uint256 maxInclusive);

    /// @notice The submission would end at sector `end`, beyond the flow's `capacity`.
    error FlowFull(uint256 end, uint256 capacity);

    /// @notice msg.value must be exactly the fee: `expected` wei, got `received`.
    error FlowIncorrectFee(uint256 expected, uint256 received);

    /// @notice Places a file in the flow and pays its storage fee to the market.
    /// @dev msg.value must equal Σ 2^height × market.pricePerSector(); the fee goes to `market().chargeFee`.
    /// The first submission of a new epoch makes the epoch's context first (see `makeContext`), which costs it more
    /// gas: estimate it against the pending block (what eth_estimateGas without a block tag does), not the latest.
    /// @param submission The file's description, as built by the SDK.
    /// @return index The transaction sequence number.
    /// @return digest keccak256 of the packed node roots (the event's `identity`).
    /// @return startIndex The file's first sector.
    /// @return length The sectors the file occupies.
    function submit(Submission calldata submission)
        external
        payable
        returns (uint256 index, bytes32 digest, uint256 startIndex, uint256 length);

    /// @notice Places several files, in order, in one transaction.
    /// @dev msg.value must equal the sum of their fees. The whole batch is charged in one `chargeFee` call covering
    /// the flow range from the first file's padding to the last file's end.
    /// @param submissions The files.
    /// @return indexes Transaction sequence numbers, one per file.
    /// @return digests Node-root digests, one per file.
    /// @return startIndexes First sectors, one per file.
    /// @return lengths Sectors occupied, one per file.
    function batchSubmit(Submission[] calldata submissions)
        external
        payable
        returns (
            uint256[] memory indexes,
            bytes32[] memory digests,
            uint256[] memory startIndexes,
            uint256[] memory lengths
        );

    /// @notice Makes the mining context of the current epoch if a new epoch began since the last one (no-op
    /// otherwise). Epochs that passed without a context are skipped: one NewEpoch for the current epoch.
    /// @dev Open to everyone. `submit`, `batchSubmit` and PoraMine's `submit` call it first, as 0G's Flow does; the
    /// storage miner also calls it when a new epoch begins so that uploads rarely pay for it. A context made more
    /// than 256 blocks into its epoch has a zero digest (see MineContext).
    function makeContext() external;

    /// @notice The market that prices and receives the fees.
    function market() external view returns (address);

    /// @notice Submissions so far (the next transaction sequence number).
    function numSubmissions() external view returns (uint256);

    /// @notice Same as `numSubmissions` (0G's name for it).
    function submissionIndex() external view returns (uint256);

    /// @notice Blocks per mining epoch.
    function blocksPerEpoch() external view returns (uint256);

    /// @notice First block of epoch 0 (the deployment block).
    function firstBlock() external view returns (uint256);

    /// @notice The current epoch by block number: (block.number - firstBlock) / blocksPerEpoch. The stored context
    /// (`getContext`) lags behind until someone calls `makeContext`.
    function epoch() external view returns (uint256);

    /// @notice The flow's shape.
    /// @return currentLength The flow length in sectors, the reserved sector and padding included.
    /// @return unstagedHeight The bit length of currentLength: the frontier levels in use. The levels from it up to
    /// FlowTree.DEPTH hold only the zero padding folded in on demand by `flowRoot` and `makeContext`.
    function tree() external view returns (uint256 currentLength, uint256 unstagedHeight);

    /// @notice The flow root now (computed on demand, see the interface documentation).
    function flowRoot() external view returns (bytes32);

    /// @notice The last mining context made.
    function getContext() external view returns (MineContext memory);
}
