// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDAEntrance} from "./IDAEntrance.sol";
import {IDASigners} from "./IDASigners.sol";
import {IKZGCellVerifier} from "./IKZGCellVerifier.sol";

/// @title IDAChallenges
/// @notice Sampling challenges: anyone may ask a signer that attested a data root to prove, on chain, that it still
/// holds one cell of it. The challenger posts `bond()` and names (dataRoot, signer); the contract picks the cell at
/// random: a blob of the root and one of the columns the signer was assigned in the attesting epoch, within the
/// root's quorum (DAEntrance's attestation record). Within `responseBlocks()` blocks the signer (or anyone for it)
/// answers with the cell, its KZG cell proof and the blob's KZG commitment with its merkle path to the data root;
/// the contract checks the commitment's inclusion, then the cell proof (KZGCellVerifier, EIP-2537 precompiles). A
/// correct answer credits the bond to the signer. Once the deadline passed without one, {claim} credits the
/// challenger its bond back plus `slashBps()` / 10000 of the signer's stake, taken through DASigners.slash. Credits
/// are paid by {withdraw} (pull payments). A wrong answer reverts: it does not count as an answer.
///
/// Randomness: seed = keccak256(blockhash(block.number - 1), block.prevrandao, id, dataRoot, signer), fixed when the
/// challenge is created: blob = seed mod blobs, column = first + (seed >> 128) mod count. The challenger knows the
/// previous block hash, and a block producer prevrandao, before the transaction is included, so they can grind: wait
/// or reorder until the seed hits a cell they expect the signer to lack. That only sharpens the check against a
/// signer that dropped data; a signer holding every cell of its columns answers any seed, so grinding cannot make an
/// honest signer lose its stake, and the signer cannot steer its own challenges (it does not create them). A
/// commit-reveal (the cell fixed by a later block hash) would take a second transaction from the challenger for no
/// gain against honest signers.
///
/// Limits: one challenge in flight per signer (open and not past its deadline), so a signer never has to answer two
/// at once; a challenge is refused if its deadline would fall after the root's retention (signers delete expired
/// cells). On a chain without the EIP-2537 precompiles the contract is deployed disabled (`enabled()` false) and
/// refuses every challenge.
interface IDAChallenges {
    /// @notice Where a challenge stands.
    enum Status {
        None,
        Open,
        Answered,
        Claimed
    }

    /// @notice A challenge as {challengeOf} reports it.
    struct Challenge {
        Status status;
        address challenger;
        address signer;
        bytes32 dataRoot;
        /// The challenged blob of the root and cell column (of the extended blob, below 128).
        uint256 blobIndex;
        uint256 column;
        /// Blobs of the root (the depth of the merkle path is log2 of it rounded up to a power of two).
        uint256 blobs;
        /// Last block an answer is accepted in.
        uint256 deadline;
    }

    /// @notice An answer: the challenged cell, its proof, and the blob's commitment with its path to the data root.
    struct Answer {
        /// 64 field elements, 32 bytes big-endian each (2048 bytes).
        bytes cell;
        /// The cell's KZG proof, 48 bytes compressed.
        bytes proof;
        /// The blob's KZG commitment, 48 bytes compressed.
        bytes commitment;
        /// The payload length the data root commits to.
        uint256 length;
        /// Siblings from the commitment's leaf keccak256(commitment) up to the tree's root, leaf level first.
        bytes32[] merklePath;
    }

    /// @notice Emitted after `challenger` challenged `signer` to show cell `column` of blob `blobIndex` of
    /// `dataRoot` by block `deadline`.
    event ChallengeCreated(
        uint256 indexed id,
        bytes32 indexed dataRoot,
        address indexed signer,
        address challenger,
        uint256 blobIndex,
        uint256 column,
        uint256 deadline
    );

    /// @notice Emitted after challenge `id` was answered correctly; `bond` was credited to `signer`.
    event ChallengeAnswered(uint256 indexed id, address indexed signer, uint256 bond);

    /// @notice Emitted after challenge `id` went unanswered: `challenger` was credited its `bond` and the `slashed`
    /// part of the stake of `signer`.
    event ChallengeClaimed(
        uint256 indexed id, address indexed challenger, address indexed signer, uint256 bond, uint256 slashed
    );

    /// @notice Emitted after `account` took `amount` of its credits.
    event CreditsWithdrawn(address indexed account, uint256 amount);

    /// @notice The chain has no EIP-2537 precompiles (recorded at deployment): challenges are off.
    error DAChallengesDisabled();

    /// @notice `sent` wei were attached; a challenge takes a bond of exactly `bond`.
    error DAChallengesWrongBond(uint256 sent, uint256 bond);

    /// @notice `dataRoot` has no attestation on record.
    error DAChallengesNotAttested(bytes32 dataRoot);

    /// @notice `dataRoot` is kept until epoch `expiryEpoch` only, before a challenge's deadline.
    error DAChallengesDataExpired(bytes32 dataRoot, uint256 expiryEpoch);

    /// @notice `signer` is not among the signers of the attestation of `dataRoot`.
    error DAChallengesNotAttestingSigner(bytes32 dataRoot, address signer);

    /// @notice `signer` had no column assigned in the attesting epoch (no stake share).
    error DAChallengesNoColumns(address signer);

    /// @notice Challenge `id` against `signer` is still in flight.
    error DAChallengesInFlight(address signer, uint256 id);

    /// @notice Challenge `id` is `status`, not open.
    error DAChallengesNotOpen(uint256 id, Status status);

    /// @notice Challenge `id` took answers through block `deadline` only.
    error DAChallengesDeadlinePassed(uint256 id, uint256 deadline);

    /// @notice Challenge `id` can be claimed after block `deadline` only.
    error DAChallengesDeadlineNotPassed(uint256 id, uint256 deadline);

    /// @notice The commitment and path of an answer to challenge `id` do not lead to its data root.
    error DAChallengesInvalidInclusion(uint256 id);

    /// @notice The cell or its proof of an answer to challenge `id` does not verify (or is malformed).
    error DAChallengesInvalidCell(uint256 id);

    /// @notice `account` has no credits to withdraw.
    error DAChallengesNothingToWithdraw(address account);

    /// @notice Only the signer registry pays this contract (slashed stake).
    error DAChallengesUnexpectedPayment(address sender);

    /// @notice A constructor argument is out of range: `name` = `value`.
    error DAChallengesInvalidParameter(string name, uint256 value);

    /// @notice Challenges `signer` (posting `bond()`) on a cell of `dataRoot` drawn at random now.
    /// @dev Reverts with DAChallengesDisabled, DAChallengesWrongBond, DAChallengesNotAttested,
    /// DAChallengesDataExpired, DAChallengesNotAttestingSigner, DAChallengesNoColumns or DAChallengesInFlight. Emits
    /// ChallengeCreated.
    /// @return id The challenge's id (0, 1, 2, ...).
    function challenge(bytes32 dataRoot, address signer) external payable returns (uint256 id);

    /// @notice Answers open challenge `id` by its deadline; credits the bond to the signer.
    /// @dev Reverts with DAChallengesNotOpen, DAChallengesDeadlinePassed, DAChallengesInvalidInclusion or
    /// DAChallengesInvalidCell. The cell check runs with a bounded gas stipend, so give the call at least ~1.1M gas:
    /// a check starved of gas reverts as DAChallengesInvalidCell. Emits ChallengeAnswered.
    function respond(uint256 id, Answer calldata answer) external;

    /// @notice Closes challenge `id`, unanswered past its deadline: credits the challenger its bond and the slashed
    /// stake. Anyone may call it; only the challenger is credited.
    /// @dev Reverts with DAChallengesNotOpen (a second claim, or answered) or DAChallengesDeadlineNotPassed. Emits
    /// ChallengeClaimed.
    function claim(uint256 id) external;

    /// @notice Pays the caller all its credits: bonds of answered challenges (signers), bonds and slashed stake
    /// of claimed ones (challengers).
    /// @dev Reverts with DAChallengesNothingToWithdraw. Emits CreditsWithdrawn.
    function withdraw() external;

    /// @notice Challenge `id` (status None if there is no such challenge).
    function challengeOf(uint256 id) external view returns (Challenge memory);

    /// @notice The challenge of `signer` in flight (open, deadline not passed): `open` false if none.
    function openChallenge(address signer) external view returns (bool open, uint256 id);

    /// @notice Challenges created so far (the next id).
    function challengeCount() external view returns (uint256);

    /// @notice Credits of `account` not withdrawn yet.
    function credits(address account) external view returns (uint256);

    /// @notice Wei a challenger posts.
    function bond() external view returns (uint256);

    /// @notice Blocks after the challenge's block an answer is accepted in.
    function responseBlocks() external view returns (uint256);

    /// @notice Basis points of the signer's stake an unanswered challenge slashes.
    function slashBps() external view returns (uint256);

    /// @notice Whether the chain has the EIP-2537 precompiles (recorded at deployment); challenges are off if not.
    function enabled() external view returns (bool);

    /// @notice Gas the cell proof check is given at most.
    function cellCheckGas() external pure returns (uint256);

    function entrance() external view returns (IDAEntrance);

    function signerRegistry() external view returns (IDASigners);

    function verifier() external view returns (IKZGCellVerifier);
}
