// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BN254} from "../da/libraries/BN254.sol";
import {IDASigners} from "./IDASigners.sol";

/// @title IDAEntrance
/// @notice Entry point of data availability. A client pays for a data root by its payload length
/// (`submitOriginalData` -> `DataUpload`): `pricePerBlob()` per blob of 4096 field elements (126976 payload bytes).
/// Each root goes to one quorum of the epoch's signers (round-robin over the uploads: the quorum count of the
/// upload epoch, see {IDASigners}); the client hands each signer of that quorum its cell columns, collects their
/// BLS signatures over {attestationDigest}(dataRoot, epoch, quorumId), and submits the aggregate
/// (`submitVerifiedCommitRoots` -> `ErasureCommitmentVerified`). The contract checks that the bitmap names
/// members of the root's quorum in the signed epoch holding at least two thirds of that quorum's stake, sums their
/// G1 keys, and checks the aggregate signature with one pairing against the caller-supplied aggregate G2 key, which
/// the same pairing ties to the summed G1 key (see {BN254-verify}). The signed epoch is the current one or, during
/// the first `graceBlocks()` blocks of an epoch, the previous one (checked against the previous epoch's signers and
/// stakes), so that a put crossing an epoch change does not fail.
///
/// The fee of a root is credited, once verified, to the signers that attested it in proportion to their stake
/// (the rounding dust to the lowest slot); each signer takes its earnings with {withdrawEarnings}. Nobody else can
/// move fees: there is no admin.
///
/// Retention: signers keep a root's cells for `retentionEpochs()` epochs from its upload epoch: through epoch
/// expiryEpoch - 1, where expiryEpoch = uploadEpoch + retentionEpochs(). From expiryEpoch on the root can no
/// longer be attested, signers delete its cells, and it can be paid for (uploaded) again.
/// The attestation records the signer bitmap, the signed epoch and the quorum's column layout of that epoch
/// ({attestationOf}), which a sampling challenge reads for the whole retention window.
/// @dev A data root commits to a payload: the keccak merkle root of the per-blob KZG commitments of its
/// 4096-element blobs, with the payload length (zerog/da/encoding.py has the definition). The contract never opens
/// it; signers refuse cells whose length differs from the length paid for.
interface IDAEntrance {
    /// @notice One attestation: `signature` is the sum of the signatures of the signers in `signerBitmap`
    /// (bit k = slot k of DASigners, all in quorum `quorumId` of `epoch`) and `aggregatePkG2` the sum of their G2
    /// keys.
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
        /// The quorum it was given at upload, the quorum that attested it once verified.
        uint256 quorumId;
        uint256 blobs;
        /// Fee paid (credited to the attesting signers once verified).
        uint256 fee;
        /// First epoch it is no longer kept: uploadEpoch + retentionEpochs().
        uint256 expiryEpoch;
        bool expired;
    }

    /// @notice Who attested a data root, and how its quorum's columns were split then (what a sampling challenge,
    /// DAChallenges, needs long after the signer registry forgot that epoch).
    struct Attestation {
        bool verified;
        /// The signed epoch and the attesting quorum.
        uint256 epoch;
        uint256 quorumId;
        /// Bit k: slot k of DASigners signed.
        uint256 signerBitmap;
        /// Bit k: slot k was a member of the quorum in `epoch`.
        uint256 quorumMembers;
        /// Byte i: the first column of the quorum's i-th member in slot order (see IDASigners.QuorumAggregate).
        uint256 columnStarts;
        uint256 blobs;
        uint256 expiryEpoch;
    }

    /// @notice Emitted after `sender` paid `blobFee` for the `length`-byte payload of `dataRoot` in `epoch`; the
    /// signers of quorum `quorumId` accept its cells from now on and keep them until `expiryEpoch`.
    event DataUpload(
        address indexed sender,
        bytes32 indexed dataRoot,
        uint256 epoch,
        uint256 quorumId,
        uint256 length,
        uint256 blobFee,
        uint256 expiryEpoch
    );

    /// @notice Emitted after signers of quorum `quorumId` holding `signedStake` of its `totalStake` attested that
    /// `dataRoot` is available; its `fee` was credited to them.
    event ErasureCommitmentVerified(
        bytes32 indexed dataRoot,
        uint256 epoch,
        uint256 quorumId,
        uint256 signerBitmap,
        uint256 signedStake,
        uint256 totalStake,
        uint256 fee
    );

    /// @notice Emitted after `signer` took `amount` of its credited fees.
    event EarningsWithdrawn(address indexed signer, uint256 amount);

    /// @notice `submitOriginalData` was called without data roots.
    error DAEntranceNoDataRoots();

    /// @notice `roots` data roots but `lengths` lengths.
    error DAEntranceLengthsMismatch(uint256 roots, uint256 lengths);

    /// @notice A payload of `length` bytes: it must be 1 to `maxLength` bytes.
    error DAEntranceInvalidLength(uint256 length, uint256 maxLength);

    /// @notice The zero data root cannot be uploaded.
    error DAEntranceZeroDataRoot();

    /// @notice `sent` wei were attached but the fee is `required` (price per blob times blobs).
    error DAEntranceWrongFee(uint256 sent, uint256 required);

    /// @notice `dataRoot` was uploaded already and is kept until `expiryEpoch`.
    error DAEntranceDataRootExists(bytes32 dataRoot, uint256 expiryEpoch);

    /// @notice `submitVerifiedCommitRoots` was called without submissions.
    error DAEntranceNoSubmissions();

    /// @notice Nobody paid for `dataRoot`.
    error DAEntranceUnknownDataRoot(bytes32 dataRoot);

    /// @notice `dataRoot` belongs to quorum `expected` of the signed epoch, not `quorumId`.
    error DAEntranceWrongQuorum(bytes32 dataRoot, uint256 quorumId, uint256 expected);

    /// @notice `dataRoot` was kept until epoch `expiryEpoch` only; pay for it again.
    error DAEntranceDataExpired(bytes32 dataRoot, uint256 expiryEpoch);

    /// @notice The signatures are for epoch `signedEpoch`, neither the current epoch `currentEpoch` nor the one
    /// before it.
    error DAEntranceEpochMismatch(uint256 signedEpoch, uint256 currentEpoch);

    /// @notice The signatures are for the previous epoch `signedEpoch`, whose attestations count only before block
    /// `deadlineBlock`.
    error DAEntranceAttestationExpired(uint256 signedEpoch, uint256 deadlineBlock);

    /// @notice `bitmap` is empty or names slots that are not members (`members`) of the quorum in the signed epoch.
    error DAEntranceInvalidSignerBitmap(uint256 bitmap, uint256 members);

    /// @notice The signers hold `signedStake` of the quorum's `totalStake`, less than two thirds.
    error DAEntranceInsufficientStake(uint256 signedStake, uint256 totalStake);

    /// @notice The aggregate signature of `dataRoot` does not verify (or a point is malformed).
    error DAEntranceInvalidSignature(bytes32 dataRoot);

    /// @notice The signer registry cannot be the zero address.
    error DAEntranceZeroAddress();

    /// @notice A grace window of `graceBlocks` blocks is not shorter than an epoch of `epochBlocks` blocks.
    error DAEntranceInvalidGraceBlocks(uint256 graceBlocks, uint256 epochBlocks);

    /// @notice Data must be kept at least one epoch.
    error DAEntranceInvalidRetention();

    /// @notice `account` has no earnings to withdraw.
    error DAEntranceNothingToWithdraw(address account);

    /// @notice Pays for each of `dataRoots`, a payload of `lengths[i]` bytes, assigns it to a quorum and announces
    /// it to the signers. A root uploaded before can be paid for again once expired.
    /// @dev msg.value must be exactly the sum of {feeFor}(lengths[i]). Reverts with DAEntranceNoDataRoots,
    /// DAEntranceLengthsMismatch, DAEntranceInvalidLength, DAEntranceZeroDataRoot, DAEntranceDataRootExists or
    /// DAEntranceWrongFee. Emits DataUpload per root.
    function submitOriginalData(bytes32[] calldata dataRoots, uint256[] calldata lengths) external payable;

    /// @notice Records the attestations of `submissions`, each checked as the contract description says, and
    /// credits each root's fee to its signers. A data root verified already (by an earlier call, or earlier in the
    /// batch) is skipped without any check and emits nothing, so a copy of one entry submitted first cannot void
    /// the batch.
    /// @dev Reverts with DAEntranceNoSubmissions, DAEntranceUnknownDataRoot, DAEntranceEpochMismatch,
    /// DAEntranceAttestationExpired, DAEntranceDataExpired, DAEntranceWrongQuorum, DAEntranceInvalidSignerBitmap,
    /// DAEntranceInsufficientStake or DAEntranceInvalidSignature. Emits ErasureCommitmentVerified per data root it
    /// verifies. Gas is O(signers of the quorum) (one credit each) on top of one pairing.
    function submitVerifiedCommitRoots(CommitRootSubmission[] calldata submissions) external;

    /// @notice Pays the caller all its credited fees (pull payment).
    /// @dev Reverts with DAEntranceNothingToWithdraw. Emits EarningsWithdrawn.
    function withdrawEarnings() external;

    /// @notice Fees credited to `account` and not withdrawn yet.
    function earnings(address account) external view returns (uint256);

    /// @notice The signer registry attestations are checked against.
    function signerRegistry() external view returns (IDASigners);

    /// @notice Wei per blob of 4096 field elements (126976 payload bytes).
    function pricePerBlob() external view returns (uint256);

    /// @notice The fee of a `length`-byte payload: pricePerBlob() per (started) blob.
    /// @dev Reverts with DAEntranceInvalidLength.
    function feeFor(uint256 length) external view returns (uint256);

    /// @notice Epochs signers keep a root's cells, counted from its upload epoch.
    function retentionEpochs() external view returns (uint256);

    /// @notice The current epoch of the signer registry.
    function epoch() external view returns (uint256);

    /// @notice Blocks at the start of an epoch during which attestations of the previous epoch still count.
    function graceBlocks() external view returns (uint256);

    /// @notice Data roots uploaded so far (the round-robin counter of the quorum assignment).
    function uploadCount() external view returns (uint256);

    /// @notice Upload and verification state of `dataRoot` (zero uploader: never uploaded).
    function dataRootStatus(bytes32 dataRoot) external view returns (DataRootStatus memory);

    /// @notice The attestation of `dataRoot` (`verified` false, and nothing else set, if it has none).
    function attestationOf(bytes32 dataRoot) external view returns (Attestation memory);

    /// @notice The EIP-712 digest signers sign: DAAttestation(bytes32 dataRoot, uint256 epoch, uint256 quorumId)
    /// in the domain ("DAEntrance", "1", chain id, this contract).
    function attestationDigest(bytes32 dataRoot, uint256 epochNumber, uint256 quorum) external view returns (bytes32);

    /// @notice The message point of an attestation: BN254.hashToG1(attestationDigest(...)).
    function attestationPoint(bytes32 dataRoot, uint256 epochNumber, uint256 quorum)
        external
        view
        returns (BN254.G1Point memory);
}
