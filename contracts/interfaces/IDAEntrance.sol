// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BN254} from "../da/libraries/BN254.sol";
import {IDASigners} from "./IDASigners.sol";

/// @title IDAEntrance
/// @notice Entry point of data availability. A client pays the blob fee for a data root
/// (`submitOriginalData` -> `DataUpload`), hands each signer of the current epoch its cell columns, collects
/// their BLS signatures over {attestationDigest}(dataRoot, epoch, quorumId), and submits the aggregate
/// (`submitVerifiedCommitRoots` -> `ErasureCommitmentVerified`). The contract checks that the bitmap names
/// members of the signed epoch holding at least two thirds of its stake, sums their G1 keys, and checks the
/// aggregate signature with one pairing against the caller-supplied aggregate G2 key, which the same pairing
/// ties to the summed G1 key (see {BN254-verify}). The signed epoch is the current one or, during the first
/// `graceBlocks()` blocks of an epoch, the previous one (checked against the previous epoch's signers and
/// stakes), so that a put crossing an epoch change does not fail.
/// @dev A data root commits to a payload of up to 32 MiB: the keccak merkle root of the per-blob KZG
/// commitments of its 4096-element blobs, with the payload length (zerog/da/encoding.py has the definition).
/// The contract never opens it.
interface IDAEntrance {
    /// @notice One attestation: `signature` is the sum of the signatures of the signers in `signerBitmap`
    /// (bit k = slot k of DASigners) and `aggregatePkG2` the sum of their G2 keys.
    struct CommitRootSubmission {
        bytes32 dataRoot;
        uint256 epoch;
        uint256 quorumId;
        uint256 signerBitmap;
        BN254.G2Point aggregatePkG2;
        BN254.G1Point signature;
    }

    /// @notice What is known about a data root.
    struct DataRootStatus {
        address uploader;
        uint256 uploadEpoch;
        bool verified;
        uint256 verifiedEpoch;
    }

    /// @notice Emitted after `sender` paid `blobFee` for `dataRoot` in `epoch`; signers accept its cells from now on.
    event DataUpload(address indexed sender, bytes32 indexed dataRoot, uint256 epoch, uint256 quorumId, uint256 blobFee);

    /// @notice Emitted after signers holding `signedStake` of `totalStake` attested that `dataRoot` is available.
    event ErasureCommitmentVerified(
        bytes32 indexed dataRoot,
        uint256 epoch,
        uint256 quorumId,
        uint256 signerBitmap,
        uint256 signedStake,
        uint256 totalStake
    );

    /// @notice Emitted after the admin changed the fee per data root.
    event BlobFeeUpdated(uint256 previousFee, uint256 newFee);

    /// @notice Emitted after the admin took `amount` of the collected fees.
    event FeesWithdrawn(address indexed to, uint256 amount);

    /// @notice `submitOriginalData` was called without data roots.
    error DAEntranceNoDataRoots();

    /// @notice The zero data root cannot be uploaded.
    error DAEntranceZeroDataRoot();

    /// @notice `sent` wei were attached but the fee is `required` (blob fee times data roots).
    error DAEntranceWrongFee(uint256 sent, uint256 required);

    /// @notice `dataRoot` was uploaded already.
    error DAEntranceDataRootExists(bytes32 dataRoot);

    /// @notice `submitVerifiedCommitRoots` was called without submissions.
    error DAEntranceNoSubmissions();

    /// @notice Nobody paid for `dataRoot`.
    error DAEntranceUnknownDataRoot(bytes32 dataRoot);

    /// @notice Only quorum 0 exists.
    error DAEntranceUnknownQuorum(uint256 quorumId);

    /// @notice The signatures are for epoch `signedEpoch`, neither the current epoch `currentEpoch` nor the one
    /// before it.
    error DAEntranceEpochMismatch(uint256 signedEpoch, uint256 currentEpoch);

    /// @notice The signatures are for the previous epoch `signedEpoch`, whose attestations count only before block
    /// `deadlineBlock`.
    error DAEntranceAttestationExpired(uint256 signedEpoch, uint256 deadlineBlock);

    /// @notice `bitmap` is empty or names slots that are not members (`members`) of the signed epoch.
    error DAEntranceInvalidSignerBitmap(uint256 bitmap, uint256 members);

    /// @notice The signers hold `signedStake` of `totalStake`, less than two thirds.
    error DAEntranceInsufficientStake(uint256 signedStake, uint256 totalStake);

    /// @notice The aggregate signature of `dataRoot` does not verify (or a point is malformed).
    error DAEntranceInvalidSignature(bytes32 dataRoot);

    /// @notice The zero address cannot receive fees.
    error DAEntranceZeroAddress();

    /// @notice A grace window of `graceBlocks` blocks is not shorter than an epoch of `epochBlocks` blocks.
    error DAEntranceInvalidGraceBlocks(uint256 graceBlocks, uint256 epochBlocks);

    /// @notice A withdrawal asked for `amount` but only `balance` is held.
    error DAEntranceInsufficientBalance(uint256 balance, uint256 amount);

    /// @notice Pays the blob fee for each of `dataRoots` and announces them to the signers.
    /// @dev msg.value must be exactly blobFee() * dataRoots.length. Emits DataUpload per root.
    function submitOriginalData(bytes32[] calldata dataRoots) external payable;

    /// @notice Records the attestations of `submissions`, each checked as the contract description says. A data
    /// root verified already (by an earlier call, or earlier in the batch) is skipped without any check and emits
    /// nothing, so a copy of one entry submitted first cannot void the batch.
    /// @dev Reverts with DAEntranceNoSubmissions, DAEntranceUnknownDataRoot, DAEntranceUnknownQuorum,
    /// DAEntranceEpochMismatch, DAEntranceAttestationExpired, DAEntranceInvalidSignerBitmap,
    /// DAEntranceInsufficientStake or DAEntranceInvalidSignature. Emits ErasureCommitmentVerified per data root it
    /// verifies.
    function submitVerifiedCommitRoots(CommitRootSubmission[] calldata submissions) external;

    /// @notice Sets the fee per data root. Only DEFAULT_ADMIN_ROLE.
    function setBlobFee(uint256 newFee) external;

    /// @notice Sends `amount` of the collected fees to `to`. Only DEFAULT_ADMIN_ROLE.
    function withdrawFees(address payable to, uint256 amount) external;

    /// @notice The signer registry attestations are checked against.
    function signerRegistry() external view returns (IDASigners);

    /// @notice Wei per data root.
    function blobFee() external view returns (uint256);

    /// @notice The only quorum: every signer of the epoch.
    function quorumId() external pure returns (uint256);

    /// @notice The current epoch of the signer registry.
    function epoch() external view returns (uint256);

    /// @notice Blocks at the start of an epoch during which attestations of the previous epoch still count.
    function graceBlocks() external view returns (uint256);

    /// @notice Upload and verification state of `dataRoot` (zero uploader: never uploaded).
    function dataRootStatus(bytes32 dataRoot) external view returns (DataRootStatus memory);

    /// @notice The EIP-712 digest signers sign: DAAttestation(bytes32 dataRoot, uint256 epoch, uint256 quorumId)
    /// in the domain ("DAEntrance", "1", chain id, this contract).
    function attestationDigest(bytes32 dataRoot, uint256 epochNumber, uint256 quorum) external view returns (bytes32);

    /// @notice The message point of an attestation: BN254.hashToG1(attestationDigest(...)).
    function attestationPoint(bytes32 dataRoot, uint256 epochNumber, uint256 quorum)
        external
        view
        returns (BN254.G1Point memory);
}
