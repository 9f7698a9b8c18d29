// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDAEntrance} from "../interfaces/IDAEntrance.sol";
import {IDASigners} from "../interfaces/IDASigners.sol";
import {BN254} from "./libraries/BN254.sol";

/// @title DAEntrance
/// @notice Blob fees, data upload announcements and BLS-verified availability attestations. See {IDAEntrance}.
contract DAEntrance is IDAEntrance, AccessControl, ReentrancyGuard, EIP712 {
    using SafeCast for uint256;

    /// @dev Quorums other than the whole signer set are not defined.
    uint256 private constant QUORUM_ID = 0;
    /// @dev Attestation threshold: signed stake * 3 >= total stake * 2.
    uint256 private constant THRESHOLD_NUMERATOR = 2;
    uint256 private constant THRESHOLD_DENOMINATOR = 3;
    bytes32 private constant ATTESTATION_TYPEHASH =
        keccak256("DAAttestation(bytes32 dataRoot,uint256 epoch,uint256 quorumId)");

    /// @dev One storage slot per data root: the uploader (zero: never uploaded), the upload epoch, and the
    /// verification epoch + 1 (zero: not verified).
    struct Upload {
        address uploader;
        uint48 uploadEpoch;
        uint48 verifiedEpochPlusOne;
    }

    IDASigners private immutable _signers;
    /// @dev The registry's epoch clock (immutable there too), kept here to save a call per attestation.
    uint256 private immutable _epochBlocks;
    uint256 private immutable _genesisBlock;
    uint256 private immutable _graceBlocks;
    uint256 private _blobFee;
    mapping(bytes32 dataRoot => Upload) private _uploads;

    /// @param signerRegistry_ The DASigners attestations are checked against.
    /// @param initialBlobFee Wei per data root.
    /// @param graceBlocks_ Blocks at the start of an epoch during which attestations of the previous epoch still
    /// count; shorter than an epoch.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (blob fee, collected fees, roles).
    constructor(IDASigners signerRegistry_, uint256 initialBlobFee, uint256 graceBlocks_, address admin)
        EIP712("DAEntrance", "1")
    {
        if (address(signerRegistry_) == address(0) || admin == address(0)) revert DAEntranceZeroAddress();
        uint256 epochBlocks = signerRegistry_.epochBlocks();
        if (graceBlocks_ >= epochBlocks) revert DAEntranceInvalidGraceBlocks(graceBlocks_, epochBlocks);
        _signers = signerRegistry_;
        _epochBlocks = epochBlocks;
        _genesisBlock = signerRegistry_.genesisBlock();
        _graceBlocks = graceBlocks_;
        _blobFee = initialBlobFee;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IDAEntrance
    function submitOriginalData(bytes32[] calldata dataRoots) external payable {
        uint256 count = dataRoots.length;
        if (count == 0) revert DAEntranceNoDataRoots();
        uint256 fee = _blobFee;
        if (msg.value != fee * count) revert DAEntranceWrongFee(msg.value, fee * count);
        uint256 current = _epoch();
        uint48 epochStored = current.toUint48();
        for (uint256 i = 0; i < count; ++i) {
            bytes32 dataRoot = dataRoots[i];
            if (dataRoot == bytes32(0)) revert DAEntranceZeroDataRoot();
            Upload storage upload = _uploads[dataRoot];
            if (upload.uploader != address(0)) revert DAEntranceDataRootExists(dataRoot);
            upload.uploader = msg.sender;
            upload.uploadEpoch = epochStored;
            emit DataUpload(msg.sender, dataRoot, current, QUORUM_ID, fee);
        }
    }

    /// @inheritdoc IDAEntrance
    function submitVerifiedCommitRoots(CommitRootSubmission[] calldata submissions) external {
        if (submissions.length == 0) revert DAEntranceNoSubmissions();
        for (uint256 i = 0; i < submissions.length; ++i) {
            _verify(submissions[i]);
        }
    }

    /// @inheritdoc IDAEntrance
    function setBlobFee(uint256 newFee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BlobFeeUpdated(_blobFee, newFee);
        _blobFee = newFee;
    }

    /// @inheritdoc IDAEntrance
    function withdrawFees(address payable to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert DAEntranceZeroAddress();
        if (address(this).balance < amount) revert DAEntranceInsufficientBalance(address(this).balance, amount);
        emit FeesWithdrawn(to, amount);
        Address.sendValue(to, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDAEntrance
    function signerRegistry() external view returns (IDASigners) {
        return _signers;
    }

    /// @inheritdoc IDAEntrance
    function blobFee() external view returns (uint256) {
        return _blobFee;
    }

    /// @inheritdoc IDAEntrance
    function quorumId() external pure returns (uint256) {
        return QUORUM_ID;
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
    function dataRootStatus(bytes32 dataRoot) external view returns (DataRootStatus memory status) {
        Upload memory upload = _uploads[dataRoot];
        if (upload.uploader == address(0)) return status;
        status.uploader = upload.uploader;
        status.uploadEpoch = upload.uploadEpoch;
        if (upload.verifiedEpochPlusOne != 0) {
            status.verified = true;
            status.verifiedEpoch = upload.verifiedEpochPlusOne - 1;
        }
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

    function _verify(CommitRootSubmission calldata s) private {
        Upload storage upload = _uploads[s.dataRoot];
        if (upload.uploader == address(0)) revert DAEntranceUnknownDataRoot(s.dataRoot);
        // Skipped, not reverted: whoever copies one entry of a pending batch and submits it first must not void
        // the rest of the batch.
        if (upload.verifiedEpochPlusOne != 0) return;
        if (s.quorumId != QUORUM_ID) revert DAEntranceUnknownQuorum(s.quorumId);
        uint256 current = _epoch();
        if (s.epoch != current) {
            // Puts that straddle an epoch change: the previous epoch's signatures count for a few more blocks.
            if (current == 0 || s.epoch != current - 1) revert DAEntranceEpochMismatch(s.epoch, current);
            uint256 deadline = _genesisBlock + current * _epochBlocks + _graceBlocks;
            if (block.number >= deadline) revert DAEntranceAttestationExpired(s.epoch, deadline);
        }

        (uint256 members, uint256 totalStake, uint256 signedStake, BN254.G1Point memory apk, bool valid) =
            _signers.quorum(s.epoch, s.signerBitmap);
        if (!valid) revert DAEntranceInvalidSignerBitmap(s.signerBitmap, members);
        if (signedStake * THRESHOLD_DENOMINATOR < totalStake * THRESHOLD_NUMERATOR) {
            revert DAEntranceInsufficientStake(signedStake, totalStake);
        }
        BN254.G1Point memory message = BN254.hashToG1(attestationDigest(s.dataRoot, s.epoch, QUORUM_ID));
        if (!BN254.verify(message, s.signature, apk, s.aggregatePkG2)) revert DAEntranceInvalidSignature(s.dataRoot);

        upload.verifiedEpochPlusOne = (s.epoch + 1).toUint48();
        emit ErasureCommitmentVerified(s.dataRoot, s.epoch, QUORUM_ID, s.signerBitmap, signedStake, totalStake);
    }
}
