// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlow} from "../../interfaces/IFlow.sol";
import {FlowTree} from "./FlowTree.sol";

/// @title SubmissionLib
/// @notice Validity, size and identity of a submission. The SDK's padding rule (see docs/storage-wire.md) always
/// produces valid submissions.
library SubmissionLib {
    /// @notice Most nodes a submission may have.
    uint256 internal constant MAX_NODES = 4;

    /// @notice The first node's height minus the last node's must stay below this.
    uint256 internal constant MAX_HEIGHT_SPAN = 4;

    /// @notice Highest node height: 2^32 sectors (1 TiB), so one submission takes less than 2^34 of the flow's 2^64
    /// sectors and, even at a price of 0 (see IMarket), filling the flow takes billions of transactions.
    uint256 internal constant MAX_NODE_HEIGHT = 32;

    /// @notice Checks `submission` and returns the sectors it occupies, Σ 2^height.
    /// @dev Reverts with the IFlow error of the first rule broken: submitter, node count, each height (bounded,
    /// strictly decreasing), height span, byte length in ((Σ2^h − 2^lastHeight)·256, Σ2^h·256].
    function validate(IFlow.Submission calldata submission) internal pure returns (uint256 sectors) {
        if (submission.submitter == address(0)) revert IFlow.FlowZeroSubmitter();
        IFlow.SubmissionNode[] calldata nodes = submission.data.nodes;
        uint256 count = nodes.length;
        if (count == 0 || count > MAX_NODES) revert IFlow.FlowInvalidNodeCount(count, MAX_NODES);

        uint256 previousHeight;
        for (uint256 i; i < count; ++i) {
            uint256 height = nodes[i].height;
            if (height > MAX_NODE_HEIGHT) revert IFlow.FlowNodeTooHigh(i, height, MAX_NODE_HEIGHT);
            if (i > 0 && height >= previousHeight) revert IFlow.FlowHeightsNotDecreasing(i, previousHeight, height);
            sectors += 1 << height;
            previousHeight = height;
        }
        uint256 firstHeight = nodes[0].height;
        if (firstHeight - previousHeight >= MAX_HEIGHT_SPAN) {
            revert IFlow.FlowHeightSpanTooLarge(firstHeight, previousHeight, MAX_HEIGHT_SPAN);
        }

        uint256 maxLength = sectors * FlowTree.BYTES_PER_SECTOR;
        uint256 minLengthExclusive = (sectors - (1 << previousHeight)) * FlowTree.BYTES_PER_SECTOR;
        uint256 length = submission.data.length;
        if (length > maxLength || length <= minLengthExclusive) {
            revert IFlow.FlowLengthOutOfRange(length, minLengthExclusive, maxLength);
        }
    }

    /// @notice keccak256 of the node roots packed in order (the Submit event's `identity`).
    function digest(IFlow.SubmissionNode[] calldata nodes) internal pure returns (bytes32) {
        bytes32[] memory roots = new bytes32[](nodes.length);
        for (uint256 i; i < nodes.length; ++i) {
            roots[i] = nodes[i].root;
        }
        return keccak256(abi.encodePacked(roots));
    }
}
