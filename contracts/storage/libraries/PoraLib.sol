// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPoraMine, MINE_PROOF_DEPTH, MINE_SECTOR_WORDS} from "../../interfaces/IPoraMine.sol";
import {FlowTree} from "./FlowTree.sol";

/// @title PoraLib
/// @notice The pure parts of a PoRA answer: mining range, seed, recall position, seal, flow proof, quality. The
/// definitions are in {IPoraMine}; zerog/storage/pora.py implements the same.
library PoraLib {
    /// @notice Most shards a flow can be split into.
    uint256 internal constant MAX_NUM_SHARD = 1 << 32;

    /// @notice The shard's part of a miner's range.
    /// @param start First sector of the range.
    /// @param mineLength Sectors in the range: min(flowLength, maxMiningLength · numShard), never chosen by the miner.
    /// @param firstSegment Index, counted from the range's first segment, of the first segment of the shard.
    /// @param numShard Segment stride of the shard.
    /// @param shardSectors Sectors of the shard in the range.
    /// @param fullLength min(flowLength, maxMiningLength): what a miner of one unsharded range covers; the target an
    /// answer must meet is scaled by shardSectors / fullLength.
    struct Range {
        uint256 start;
        uint256 mineLength;
        uint256 firstSegment;
        uint256 numShard;
        uint256 shardSectors;
        uint256 fullLength;
    }

    /// @notice The range of a miner starting at `start` (a multiple of `startAlignment`, itself a segment multiple) in
    /// shard `shardId`/`numShard` over a flow of `flowLength` sectors. The range always covers
    /// min(flowLength, maxMiningLength · numShard) sectors and ends inside the flow, so a miner's recalls are spread
    /// over (its shard of) the whole flow, or of a maximal window of it. Reverts with the IPoraMine range errors.
    function range(
        uint256 start,
        uint256 shardId,
        uint256 numShard,
        uint256 flowLength,
        uint256 maxMiningLength,
        uint256 startAlignment
    ) internal pure returns (Range memory r) {
        if (numShard == 0 || numShard > MAX_NUM_SHARD || numShard & (numShard - 1) != 0 || shardId >= numShard) {
            revert IPoraMine.MineInvalidShard(shardId, numShard);
        }
        if (start % startAlignment != 0) revert IPoraMine.MineRangeNotAligned(start, startAlignment);
        r.mineLength = Math.min(flowLength, maxMiningLength * numShard);
        if (start > flowLength - r.mineLength) revert IPoraMine.MineRangeOutsideFlow(start, r.mineLength, flowLength);
        r.start = start;
        r.numShard = numShard;
        r.fullLength = Math.min(flowLength, maxMiningLength);
        uint256 segments = Math.ceilDiv(r.mineLength, FlowTree.SECTORS_PER_SEGMENT);
        uint256 startSegment = start / FlowTree.SECTORS_PER_SEGMENT;
        // The first j >= 0 with (startSegment + j) % numShard == shardId.
        r.firstSegment = (shardId + numShard - startSegment % numShard) % numShard;
        if (r.firstSegment >= segments) {
            revert IPoraMine.MineEmptyShardRange(start, r.mineLength, shardId, numShard);
        }
        uint256 count = (segments - 1 - r.firstSegment) / numShard + 1;
        uint256 lastSegment = r.firstSegment + (count - 1) * numShard;
        uint256 lastSectors =
            Math.min(FlowTree.SECTORS_PER_SEGMENT, r.mineLength - lastSegment * FlowTree.SECTORS_PER_SEGMENT);
        r.shardSectors = (count - 1) * FlowTree.SECTORS_PER_SEGMENT + lastSectors;
    }

    /// @notice The target an answer in `r` must meet: `baseTarget` · shardSectors / fullLength (at most baseTarget),
    /// so the chance per nonce is in proportion to the data the range makes the miner hold.
    function scaledTarget(Range memory r, uint256 baseTarget) internal pure returns (uint256) {
        return Math.mulDiv(baseTarget, r.shardSectors, r.fullLength);
    }

    /// @notice True if `position` is a sector of the shard's part of `r`.
    function contains(Range memory r, uint256 position) internal pure returns (bool) {
        if (position < r.start || position - r.start >= r.mineLength) return false;
        uint256 segment = (position - r.start) / FlowTree.SECTORS_PER_SEGMENT;
        return segment >= r.firstSegment && (segment - r.firstSegment) % r.numShard == 0;
    }

    /// @notice keccak256(abi.encode(contextDigest, minerId, start, shardId, numShard, nonce)).
    function seed(
        bytes32 contextDigest,
        bytes32 minerId,
        uint256 start,
        uint256 shardId,
        uint256 numShard,
        uint256 nonce
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(contextDigest, minerId, start, shardId, numShard, nonce));
    }

    /// @notice The flow position `seed_` recalls in `r`: shard sector number uint64(seed) % shardSectors.
    function recall(Range memory r, bytes32 seed_) internal pure returns (uint256) {
        uint256 k = uint256(uint64(uint256(seed_))) % r.shardSectors;
        uint256 segment = r.firstSegment + (k / FlowTree.SECTORS_PER_SEGMENT) * r.numShard;
        return r.start + segment * FlowTree.SECTORS_PER_SEGMENT + k % FlowTree.SECTORS_PER_SEGMENT;
    }

    /// @notice The sector `sealedData` unseals to for `minerId` at `position`: d_0 = s_0 ^ keccak(minerId, position),
    /// d_i = s_i ^ keccak(s_(i−1)).
    function unseal(bytes32 minerId, uint256 position, bytes32[MINE_SECTOR_WORDS] calldata sealedData)
        internal
        pure
        returns (bytes32[MINE_SECTOR_WORDS] memory data)
    {
        data[0] = sealedData[0] ^ keccak256(abi.encode(minerId, position));
        for (uint256 i = 1; i < MINE_SECTOR_WORDS; ++i) {
            data[i] = sealedData[i] ^ _hashWord(sealedData[i - 1]);
        }
    }

    /// @notice The flow root that the sector `data` at `position` and its `proof` lead to.
    function flowRoot(
        bytes32[MINE_SECTOR_WORDS] memory data,
        uint256 position,
        bytes32[MINE_PROOF_DEPTH] calldata proof
    ) internal pure returns (bytes32 node) {
        node = keccak256(abi.encodePacked(data));
        for (uint256 height; height < MINE_PROOF_DEPTH; ++height) {
            node = (position >> height) & 1 == 0 ? _hashPair(node, proof[height]) : _hashPair(proof[height], node);
        }
    }

    /// @notice keccak256(abi.encode(seed, sealedData)) as an integer.
    function quality(bytes32 seed_, bytes32[MINE_SECTOR_WORDS] calldata sealedData) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed_, sealedData)));
    }

    /// @dev keccak256 of one word, in scratch space.
    function _hashWord(bytes32 word) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, word)
            result := keccak256(0x00, 0x20)
        }
    }

    /// @dev keccak256(left ‖ right), in scratch space.
    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            result := keccak256(0x00, 0x40)
        }
    }
}
