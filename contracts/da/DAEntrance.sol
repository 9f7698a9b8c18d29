// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDAEntrance} from "../interfaces/IDAEntrance.sol";
import {IDASigners} from "../interfaces/IDASigners.sol";
import {BN254} from "./libraries/BN254.sol";

/// @title DAEntrance
/// @notice Blob fees, data upload announcements, quorum assignment, BLS-verified availability attestations and the
/// signers' fee earnings. See {IDAEntrance}.
/// @dev No privileged role: the price, grace window and retention are fixed at deployment, and fees go only to the
/// signers that attested.
contract DAEntrance is IDAEntrance, ReentrancyGuard, EIP712 {
    using SafeCast for uint256;

    /// @dev Attestation threshold: signed stake * 3 >= quorum stake * 2.
    uint256 private constant THRESHOLD_NUMERATOR = 2;
    uint256 private constant THRESHOLD_DENOMINATOR = 3;
    /// @dev Payload bytes per blob: 4096 field elements of 31 payload bytes (zerog/da/encoding.py).
    uint256 private constant PAYLOAD_BYTES_PER_BLOB = 4096 * 31;
    /// @dev Blobs per data root at most (the width of Upload.blobs; about 8.3 GB, far above any client limit).
    uint256 private constant MAX_BLOBS = type(uint16).max;
    /// @dev Bits of a slot bitmap (DASigners has 96 slots): a root's signer bitmap and quorum members share a word.
    uint256 private constant BITMAP_BITS = 96;
    uint256 private constant BITMAP_MASK = (1 << BITMAP_BITS) - 1;
    /// @dev Marks a recorded column layout: column starts are below 128, so every byte's top bit is free.
    uint256 private constant LAYOUT_RECORDED = 1 << 255;
    bytes32 private constant ATTESTATION_TYPEHASH =
        keccak256("DAAttestation(bytes32 dataRoot,uint256 epoch,uint256 quorumId)");

    /// @dev One storage slot per data root: the uploader (zero: never uploaded), the upload epoch, the verification
    /// epoch + 1 (zero: not verified), the quorum (the attesting one once verified) and the blobs paid for.
    struct Upload {
        address uploader;
        uint32 uploadEpoch;
        uint32 verifiedEpochPlusOne;
        uint8 quorumId;
        uint16 blobs;
    }

    IDASigners private immutable _signers;
    /// @dev The registry's epoch clock (immutable there too), kept here to save a call per attestation.
    uint256 private immutable _epochBlocks;
    uint256 private immutable _genesisBlock;
    uint256 private immutable _graceBlocks;
    uint256 private immutable _pricePerBlob;
    uint256 private immutable _retentionEpochs;
    uint256 private _uploadCount;
    mapping(bytes32 dataRoot => Upload) private _uploads;
    mapping(address signer => uint256) private _earnings;
    /// @dev Per verified root: signer bitmap | quorum members << BITMAP_BITS.
    mapping(bytes32 dataRoot => uint256) private _signed;
    /// @dev Per epoch and quorum, written by its first attestation: columnStarts | LAYOUT_RECORDED.
    mapping(uint256 epoch => mapping(uint256 quorumId => uint256)) private _layouts;

    /// @param signerRegistry_ The DASigners attestations are checked against.
    /// @param pricePerBlob_ Wei per blob of 4096 field elements.
    /// @param graceBlocks_ Blocks at the start of an epoch during which attestations of the previous epoch still
    /// count; shorter than an epoch.
    /// @param retentionEpochs_ Epochs signers keep a root's cells from its upload epoch on; at least one.
    constructor(IDASigners signerRegistry_, uint256 pricePerBlob_, uint256 graceBlocks_, uint256 retentionEpochs_)
        EIP712("DAEntrance", "1")
    {
        if (address(signerRegistry_) == address(0)) revert DAEntranceZeroAddress();
        uint256 epochBlocks = signerRegistry_.epochBlocks();
        if (graceBlocks_ >= epochBlocks) revert DAEntranceInvalidGraceBlocks(graceBlocks_, epochBlocks);
        if (retentionEpochs_ == 0) revert DAEntranceInvalidRetention();
        _signers = signerRegistry_;
        _epochBlocks = epochBlocks;
        _genesisBlock = signerRegistry_.genesisBlock();
        _graceBlocks = graceBlocks_;
        _pricePerBlob = pricePerBlob_;
        _retentionEpochs = retentionEpochs_;
    }

    /// @inheritdoc IDAEntrance
    function submitOriginalData(bytes32[] calldata dataRoots, uint256[] calldata lengths) external payable {
        uint256 count = dataRoots.length;
        if (count == 0) revert DAEntranceNoDataRoots();
        if (lengths.length != count) revert DAEntranceLengthsMismatch(count, lengths.length);
        uint256 current = _epoch();
        uint256 quorums = _signers.quorumCount(current);
        uint256 next = _uploadCount;
        uint256 total;
        for (uint256 i = 0; i < count; ++i) {
            total += _upload(dataRoots[i], lengths[i], current, next++ % quorums);
        }
        if (msg.value != total) revert DAEntranceWrongFee(msg.value, total);
        _uploadCount = next;
    }

    /// @inheritdoc IDAEntrance
    function submitVerifiedCommitRoots(CommitRootSubmission[] calldata submissions) external {
        if (submissions.length == 0) revert DAEntranceNoSubmissions();
        for (uint256 i = 0; i < submissions.length; ++i) {
            _verify(submissions[i]);
        }
    }

    /// @inheritdoc IDAEntrance
    function withdrawEarnings() external nonReentrant {
        uint256 amount = _earnings[msg.sender];
        if (amount == 0) revert DAEntranceNothingToWithdraw(msg.sender);
        _earnings[msg.sender] = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDAEntrance
    function earnings(address account) external view returns (uint256) {
        return _earnings[account];
    }

    /// @inheritdoc IDAEntrance
    function signerRegistry() external view returns (IDASigners) {
        return _signers;
    }

    /// @inheritdoc IDAEntrance
    function pricePerBlob() external view returns (uint256) {
        return _pricePerBlob;
    }

    /// @inheritdoc IDAEntrance
    function feeFor(uint256 length) external view returns (uint256) {
        return _blobs(length) * _pricePerBlob;
    }

    /// @inheritdoc IDAEntrance
    function retentionEpochs() external view returns (uint256) {
        return _retentionEpochs;
    }

    /// @inheritdoc IDAEntrance
    function epoch() external view returns (uint256) {
        return _epoch();
    }

    /// @inheritdoc IDAEntrance
    function graceBlocks() external view returns (uint256) {
        return _graceBlocks;
    }

    /// @inheritdoc IDAEntrance
    function uploadCount() external view returns (uint256) {
        return _uploadCount;
    }

    /// @inheritdoc IDAEntrance
    function dataRootStatus(bytes32 dataRoot) external view returns (DataRootStatus memory status) {
        Upload memory upload = _uploads[dataRoot];
        if (upload.uploader == address(0)) return status;
        status.uploader = upload.uploader;
        status.uploadEpoch = upload.uploadEpoch;
        if (upload.verifiedEpochPlusOne != 0) {
            status.verified = true;
            status.verifiedEpoch = upload.verifiedEpochPlusOne - 1;
        }
        status.quorumId = upload.quorumId;
        status.blobs = upload.blobs;
        status.fee = upload.blobs * _pricePerBlob;
        status.expiryEpoch = upload.uploadEpoch + _retentionEpochs;
        status.expired = _epoch() >= status.expiryEpoch;
    }

    /// @inheritdoc IDAEntrance
    function attestationOf(bytes32 dataRoot) external view returns (Attestation memory a) {
        Upload memory upload = _uploads[dataRoot];
        if (upload.verifiedEpochPlusOne == 0) return a;
        uint256 signed = _signed[dataRoot];
        a.verified = true;
        a.epoch = upload.verifiedEpochPlusOne - 1;
        a.quorumId = upload.quorumId;
        a.signerBitmap = signed & BITMAP_MASK;
        a.quorumMembers = signed >> BITMAP_BITS;
        a.columnStarts = _layouts[a.epoch][a.quorumId] & ~LAYOUT_RECORDED;
        a.blobs = upload.blobs;
        a.expiryEpoch = upload.uploadEpoch + _retentionEpochs;
    }

    /// @inheritdoc IDAEntrance
    function attestationDigest(bytes32 dataRoot, uint256 epochNumber, uint256 quorum) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, dataRoot, epochNumber, quorum)));
    }

    /// @inheritdoc IDAEntrance
    function attestationPoint(bytes32 dataRoot, uint256 epochNumber, uint256 quorum)
        external
        view
        returns (BN254.G1Point memory)
    {
        return BN254.hashToG1(attestationDigest(dataRoot, epochNumber, quorum));
    }

    // ------------------------------------------------------------------ internals

    function _epoch() private view returns (uint256) {
        return (block.number - _genesisBlock) / _epochBlocks;
    }

    /// @dev Blobs of a `length`-byte payload (a started blob counts whole); reverts outside 1..MAX_BLOBS blobs.
    function _blobs(uint256 length) private pure returns (uint256 blobs) {
        blobs = (length + PAYLOAD_BYTES_PER_BLOB - 1) / PAYLOAD_BYTES_PER_BLOB;
        if (length == 0 || blobs > MAX_BLOBS) {
            revert DAEntranceInvalidLength(length, MAX_BLOBS * PAYLOAD_BYTES_PER_BLOB);
        }
    }

    /// @dev Records one upload in quorum `quorumId`; returns its fee.
    function _upload(bytes32 dataRoot, uint256 length, uint256 current, uint256 quorumId)
        private
        returns (uint256 fee)
    {
        if (dataRoot == bytes32(0)) revert DAEntranceZeroDataRoot();
        uint256 blobs = _blobs(length);
        Upload storage upload = _uploads[dataRoot];
        if (upload.uploader != address(0)) {
            uint256 kept = upload.uploadEpoch + _retentionEpochs;
            if (current < kept) revert DAEntranceDataRootExists(dataRoot, kept);
        }
        fee = blobs * _pricePerBlob;
        _uploads[dataRoot] = Upload(msg.sender, current.toUint32(), 0, uint8(quorumId), uint16(blobs));
        emit DataUpload(msg.sender, dataRoot, current, quorumId, length, fee, current + _retentionEpochs);
    }

    function _verify(CommitRootSubmission calldata s) private {
        Upload storage upload = _uploads[s.dataRoot];
        if (upload.uploader == address(0)) revert DAEntranceUnknownDataRoot(s.dataRoot);
        // Skipped, not reverted: whoever copies one entry of a pending batch and submits it first must not void
        // the rest of the batch.
        if (upload.verifiedEpochPlusOne != 0) return;
        uint256 current = _epoch();
        if (s.epoch != current) {
            // Puts that straddle an epoch change: the previous epoch's signatures count for a few more blocks.
            if (current == 0 || s.epoch != current - 1) revert DAEntranceEpochMismatch(s.epoch, current);
            uint256 deadline = _genesisBlock + current * _epochBlocks + _graceBlocks;
            if (block.number >= deadline) revert DAEntranceAttestationExpired(s.epoch, deadline);
        }
        uint256 expiry = upload.uploadEpoch + _retentionEpochs;
        if (s.epoch >= expiry) revert DAEntranceDataExpired(s.dataRoot, expiry);

        IDASigners.QuorumAggregate memory q = _signers.quorum(s.epoch, s.quorumId, s.signerBitmap);
        // The upload's quorum; folded into the signed epoch's count should the set have shrunk since.
        uint256 expected = upload.quorumId % q.quorumCount;
        if (s.quorumId != expected) revert DAEntranceWrongQuorum(s.dataRoot, s.quorumId, expected);
        if (!q.valid) revert DAEntranceInvalidSignerBitmap(s.signerBitmap, q.members);
        if (q.signedStake * THRESHOLD_DENOMINATOR < q.totalStake * THRESHOLD_NUMERATOR) {
            revert DAEntranceInsufficientStake(q.signedStake, q.totalStake);
        }
        BN254.G1Point memory message = BN254.hashToG1(attestationDigest(s.dataRoot, s.epoch, s.quorumId));
        if (!BN254.verify(message, s.signature, q.apk, s.aggregatePkG2)) revert DAEntranceInvalidSignature(s.dataRoot);

        upload.verifiedEpochPlusOne = (s.epoch + 1).toUint32();
        upload.quorumId = uint8(s.quorumId);
        // What a sampling challenge needs once the registry no longer has the epoch: who signed, and the columns.
        _signed[s.dataRoot] = s.signerBitmap | (q.members << BITMAP_BITS);
        mapping(uint256 => uint256) storage layouts = _layouts[s.epoch];
        if (layouts[s.quorumId] == 0) layouts[s.quorumId] = q.columnStarts | LAYOUT_RECORDED;
        uint256 fee = upload.blobs * _pricePerBlob;
        if (fee != 0) _credit(fee, q);
        emit ErasureCommitmentVerified(
            s.dataRoot, s.epoch, s.quorumId, s.signerBitmap, q.signedStake, q.totalStake, fee
        );
    }

    /// @dev Splits `fee` among the signers of `q` by stake; the rounding dust goes to the first (lowest slot).
    function _credit(uint256 fee, IDASigners.QuorumAggregate memory q) private {
        uint256 credited;
        for (uint256 i = 1; i < q.accounts.length; ++i) {
            uint256 share = (fee * q.stakes[i]) / q.signedStake;
            credited += share;
            _earnings[q.accounts[i]] += share;
        }
        _earnings[q.accounts[0]] += fee - credited;
    }
}
