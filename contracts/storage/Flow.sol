// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IFlow} from "../interfaces/IFlow.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {FlowTree} from "./libraries/FlowTree.sol";
import {SubmissionLib} from "./libraries/SubmissionLib.sol";

/// @title Flow
/// @notice The storage log of the local 0G network. See {IFlow}.
/// @dev No roles and no setters: the market, the epoch length and the first block are fixed at construction.
/// ReentrancyGuardTransient (EIP-1153) keeps the guard off storage on the hot submit path.
contract Flow is IFlow, ReentrancyGuardTransient {
    using FlowTree for FlowTree.Tree;

    IMarket private immutable _market;
    uint256 private immutable _blocksPerEpoch;
    uint256 private immutable _firstBlock;

    FlowTree.Tree private _tree;
    uint256 private _submissionIndex;
    MineContext private _context;

    /// @param market_ The market that prices submissions and receives their fees.
    /// @param blocksPerEpoch_ Blocks per mining epoch, positive. Epoch 0 starts at the deployment block.
    constructor(address market_, uint256 blocksPerEpoch_) {
        if (market_ == address(0)) revert FlowZeroAddress();
        if (blocksPerEpoch_ == 0) revert FlowInvalidBlocksPerEpoch();
        _market = IMarket(market_);
        _blocksPerEpoch = blocksPerEpoch_;
        _firstBlock = block.number;
        _tree.initialize();
        _setContext(0, block.number);
    }

    /// @inheritdoc IFlow
    function submit(Submission calldata submission)
        external
        payable
        nonReentrant
        returns (uint256 index, bytes32 digest, uint256 startIndex, uint256 length)
    {
        length = SubmissionLib.validate(submission);
        uint256 fee = length * _market.pricePerSector();
        if (msg.value != fee) revert FlowIncorrectFee(fee, msg.value);

        _makeContext();
        uint256 beforeLength = _tree.length;
        (index, digest, startIndex) = _append(submission, length);
        _market.chargeFee{value: fee}(beforeLength, length, startIndex - beforeLength);
    }

    /// @inheritdoc IFlow
    function batchSubmit(Submission[] calldata submissions)
        external
        payable
        nonReentrant
        returns (
            uint256[] memory indexes,
            bytes32[] memory digests,
            uint256[] memory startIndexes,
            uint256[] memory lengths
        )
    {
        uint256 count = submissions.length;
        lengths = new uint256[](count);
        uint256 totalSectors;
        for (uint256 i; i < count; ++i) {
            lengths[i] = SubmissionLib.validate(submissions[i]);
            totalSectors += lengths[i];
        }
        uint256 fee = totalSectors * _market.pricePerSector();
        if (msg.value != fee) revert FlowIncorrectFee(fee, msg.value);

        _makeContext();
        indexes = new uint256[](count);
        digests = new bytes32[](count);
        startIndexes = new uint256[](count);
        uint256 beforeLength = _tree.length;
        for (uint256 i; i < count; ++i) {
            (indexes[i], digests[i], startIndexes[i]) = _append(submissions[i], lengths[i]);
        }
        if (count != 0) {
            uint256 paddingSectors = _tree.length - beforeLength - totalSectors;
            _market.chargeFee{value: fee}(beforeLength, totalSectors, paddingSectors);
        }
    }

    /// @inheritdoc IFlow
    function makeContext() external {
        _makeContext();
    }

    /// @inheritdoc IFlow
    function market() external view returns (address) {
        return address(_market);
    }

    /// @inheritdoc IFlow
    function numSubmissions() external view returns (uint256) {
        return _submissionIndex;
    }

    /// @inheritdoc IFlow
    function submissionIndex() external view returns (uint256) {
        return _submissionIndex;
    }

    /// @inheritdoc IFlow
    function blocksPerEpoch() external view returns (uint256) {
        return _blocksPerEpoch;
    }

    /// @inheritdoc IFlow
    function firstBlock() external view returns (uint256) {
        return _firstBlock;
    }

    /// @inheritdoc IFlow
    function epoch() public view returns (uint256) {
        return (block.number - _firstBlock) / _blocksPerEpoch;
    }

    /// @inheritdoc IFlow
    function tree() external view returns (uint256 currentLength, uint256 unstagedHeight) {
        currentLength = _tree.length;
        unstagedHeight = Math.log2(currentLength) + 1; // the flow is never empty (reserved sector)
    }

    /// @inheritdoc IFlow
    function flowRoot() external view returns (bytes32) {
        return _tree.root();
    }

    /// @inheritdoc IFlow
    function getContext() external view returns (MineContext memory) {
        return _context;
    }

    /// @dev Places `submission` (already validated, `sectors` long) and emits Submit. Effects only.
    function _append(Submission calldata submission, uint256 sectors)
        private
        returns (uint256 index, bytes32 digest, uint256 start)
    {
        SubmissionNode[] calldata nodes = submission.data.nodes;
        start = FlowTree.placement(_tree.length, nodes[0].height, sectors);
        uint256 end = start + sectors;
        if (end > FlowTree.CAPACITY) revert FlowFull(end, FlowTree.CAPACITY);

        _tree.padTo(start);
        for (uint256 i; i < nodes.length; ++i) {
            _tree.insert(nodes[i].root, nodes[i].height);
        }
        index = _submissionIndex++;
        digest = SubmissionLib.digest(nodes);
        emit Submit(submission.submitter, digest, index, start, sectors, submission.data);
    }

    /// @dev Makes the context of the current epoch if it is not made yet. Called before every insertion, so the flow
    /// a context captures is the flow as it was when the epoch's first block began.
    function _makeContext() private {
        uint256 current = epoch();
        if (current <= _context.epoch) return;
        _setContext(current, _firstBlock + current * _blocksPerEpoch);
    }

    /// @dev Stores the context of `epochIndex` over the flow as it is now, and emits NewEpoch. The block before
    /// `mineStart` was sealed after every submission the context captures, so no submitter can steer the digest;
    /// once that block hash is out of the EVM's reach (256 blocks) the digest is zero: the epoch cannot be mined.
    function _setContext(uint256 epochIndex, uint256 mineStart) private {
        bytes32 blockDigest = blockhash(mineStart - 1);
        bytes32 root = _tree.root();
        uint256 flowLength = _tree.length;
        bytes32 digest = blockDigest == bytes32(0) ? bytes32(0) : keccak256(abi.encode(blockDigest, root, flowLength));
        _context = MineContext({
            epoch: epochIndex,
            mineStart: mineStart,
            flowRoot: root,
            flowLength: flowLength,
            blockDigest: blockDigest,
            digest: digest
        });
        emit NewEpoch(msg.sender, epochIndex, root, _submissionIndex, flowLength, digest);
    }
}
