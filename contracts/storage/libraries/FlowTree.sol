// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FlowTree
/// @notice Incremental merkle tree over the flow's sectors, and the placement rule for submissions.
/// @dev Definition (the mining proofs are built against it):
/// - The tree is the perfect binary tree of height DEPTH over sector positions 0 .. 2^DEPTH − 1.
/// - Internal node = keccak256(left ‖ right), the 64 raw bytes.
/// - Every position that holds no submitted node is an empty sector: the reserved sector 0, alignment and segment
///   padding, and everything at or past `length`. An empty sector's leaf is ZERO_SECTOR_HASH = Z[0] =
///   keccak256(256 zero bytes); an empty subtree of height d has root Z[d], Z[d+1] = keccak256(Z[d] ‖ Z[d]).
/// - A node of height h inserted at position p (p a multiple of 2^h) is the subtree of height h at index p / 2^h;
///   its root is taken as given.
/// The tree keeps only a frontier: `frontier[h]` is valid when bit h of `length` is set and is then the root of the
/// complete subtree of height h that ends at position (length >> h << h) − 1, i.e. the left sibling at height h of
/// the subtree holding position `length`. Appending is a binary carry; the root is folded on demand by `root`.
library FlowTree {
    /// @notice Height of the tree: the flow has 2^DEPTH sector positions.
    uint256 internal constant DEPTH = 64;

    /// @notice Largest flow length: one position short of 2^DEPTH, so a carry never reaches the root level.
    uint256 internal constant CAPACITY = (1 << DEPTH) - 1;

    /// @notice Bytes per sector (a chunk, an entry: the leaf unit).
    uint256 internal constant BYTES_PER_SECTOR = 256;

    /// @notice log2 of SECTORS_PER_SEGMENT.
    uint256 internal constant SEGMENT_HEIGHT = 10;

    /// @notice Sectors per segment, the unit storage nodes move data in (256 KiB).
    uint256 internal constant SECTORS_PER_SEGMENT = 1 << SEGMENT_HEIGHT;

    /// @notice Sectors reserved at the start of the flow (sector 0, an empty sector).
    uint256 internal constant RESERVED_SECTORS = 1;

    /// @notice Z[0]: keccak256 of 256 zero bytes, the leaf of an empty sector.
    bytes32 internal constant ZERO_SECTOR_HASH = 0xd397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5;

    /// @notice `padTo(target)` needs target = length rounded up to a power-of-two multiple.
    error FlowTreeInvalidPadding(uint256 length, uint256 target);

    /// @param length Sectors in the flow: reserved sector, padding and nodes.
    /// @param frontier Left siblings of the path to position `length`, by height (see the library docs).
    struct Tree {
        uint256 length;
        bytes32[DEPTH] frontier;
    }

    /// @notice Starts the flow with its reserved empty sector.
    function initialize(Tree storage tree) internal {
        tree.length = RESERVED_SECTORS;
        tree.frontier[0] = ZERO_SECTOR_HASH;
    }

    /// @notice Where a submission of `sectors` sectors whose first (largest) node has height `firstHeight` starts
    /// when the flow has `length` sectors: aligned to 2^firstHeight and then, if it would cross a segment boundary
    /// without being segment-aligned, moved to the next segment start.
    function placement(uint256 length, uint256 firstHeight, uint256 sectors) internal pure returns (uint256 start) {
        start = alignUp(length, firstHeight);
        bool crossesSegment = start / SECTORS_PER_SEGMENT != (start + sectors - 1) / SECTORS_PER_SEGMENT;
        if (start % SECTORS_PER_SEGMENT != 0 && crossesSegment) start = alignUp(start, SEGMENT_HEIGHT);
    }

    /// @notice `value` rounded up to a multiple of 2^height.
    function alignUp(uint256 value, uint256 height) internal pure returns (uint256) {
        uint256 mask = (1 << height) - 1;
        return (value + mask) & ~mask;
    }

    /// @notice Appends empty sectors up to `target`, which must be `length` rounded up to a multiple of a power of
    /// two (what `placement` returns). No-op when target == length.
    function padTo(Tree storage tree, uint256 target) internal {
        uint256 position = tree.length;
        if (target == position) return;
        uint256 alignHeight = _trailingZeros(target);
        if (alignUp(position, alignHeight) != target) revert FlowTreeInvalidPadding(position, target);
        // position is not a multiple of 2^alignHeight, so its lowest set bit h is below alignHeight: the subtree of
        // height h starting at `position` is empty, its left sibling is frontier[h]. Fold up to alignHeight, taking
        // frontier entries on the left where `position` has a bit and empty subtrees on the right elsewhere.
        uint256 height = _trailingZeros(position);
        bytes32 zero = zeroHash(height);
        bytes32 node = _hashPair(tree.frontier[height], zero);
        for (++height; height < alignHeight; ++height) {
            zero = _hashPair(zero, zero);
            node = (position >> height) & 1 == 1 ? _hashPair(tree.frontier[height], node) : _hashPair(node, zero);
        }
        // node is the completed subtree of height alignHeight ending at target − 1.
        _carry(tree, target - (1 << alignHeight), alignHeight, node);
        tree.length = target;
    }

    /// @notice Appends a node of height `height` with merkle root `root` at the current length.
    /// @dev The caller guarantees that the length is a multiple of 2^height and that the result fits CAPACITY.
    /// @return start The node's first sector.
    function insert(Tree storage tree, bytes32 root, uint256 height) internal returns (uint256 start) {
        start = tree.length;
        _carry(tree, start, height, root);
        tree.length = start + (1 << height);
    }

    /// @notice The flow root: the frontier folded with empty subtrees up to height DEPTH.
    function root(Tree storage tree) internal view returns (bytes32 node) {
        uint256 length = tree.length;
        bytes32 zero = ZERO_SECTOR_HASH;
        node = zero; // the (empty) sector at position `length`
        for (uint256 height; height < DEPTH; ++height) {
            node = (length >> height) & 1 == 1 ? _hashPair(tree.frontier[height], node) : _hashPair(node, zero);
            zero = _hashPair(zero, zero);
        }
    }

    /// @notice Z[height]: the root of 2^height empty sectors.
    function zeroHash(uint256 height) internal pure returns (bytes32 zero) {
        zero = ZERO_SECTOR_HASH;
        for (uint256 i; i < height; ++i) {
            zero = _hashPair(zero, zero);
        }
    }

    /// @dev Adds the complete subtree `node` of height `height` at `position` (a multiple of 2^height): merges it
    /// with the left siblings while `position` has a bit at the current height, then stores it in the frontier.
    function _carry(Tree storage tree, uint256 position, uint256 height, bytes32 node) private {
        while ((position >> height) & 1 == 1) {
            node = _hashPair(tree.frontier[height], node);
            ++height;
        }
        tree.frontier[height] = node;
    }

    /// @dev Index of the lowest set bit; `value` is positive.
    function _trailingZeros(uint256 value) private pure returns (uint256) {
        // value & -value isolates the lowest set bit; unchecked since the two's complement negation wraps by design.
        unchecked {
            return Math.log2(value & (~value + 1));
        }
    }

    /// @dev keccak256(left ‖ right) in scratch space.
    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            result := keccak256(0x00, 0x40)
        }
    }
}
