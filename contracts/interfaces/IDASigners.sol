// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BN254} from "../da/libraries/BN254.sol";

/// @title IDASigners
/// @notice Registry of the data-availability signers: BN254 BLS keys bound to an account by a proof of
/// possession, a socket (the URL clients reach the signer at), and a stake in native tokens. Time is cut into
/// epochs of `epochBlocks()` blocks; the signer set of an epoch is fixed when it starts: joining, adding stake
/// and leaving during epoch E take effect at epoch E + 1. The sets of the previous, the current and the next
/// epoch can be read.
///
/// An epoch has at most `maxSigners()` (32) members, chosen by stake: a newcomer to a full set evicts the member
/// with the smallest stake if its own is larger (see {register}). Members hold slots 0..3*maxSigners()-1, the
/// bits of the attestation bitmap; a slot is reused only once it is a member of none of the previous, the
/// current and the next epoch.
///
/// Quorums (sharding): each epoch splits its n signers into Q = clamp(n / minSignersPerQuorum(), 1, maxQuorums())
/// quorums, every signer in exactly one. The assignment is deterministic and stake-balanced: the members sorted by
/// stake, largest first (the lower slot first on a tie), are dealt out in serpentine order (ranks 0..Q-1 to
/// quorums 0..Q-1, ranks Q..2Q-1 to quorums Q-1..0, and so on). DAEntrance gives every blob to one quorum; only that
/// quorum's signers store and attest it, and two thirds of that quorum's stake must sign.
///
/// Within its quorum, each blob's 128 cell columns are assigned to the quorum's signers in proportion to stake:
/// the quorum's signers in slot order, signer k with cumulative stake C_k before it gets columns
/// [128*C_k/S, 128*(C_k + s_k)/S) of the quorum's stake S. With at most 32 signers, any subset holding two thirds
/// of a quorum's stake holds at least 64 columns (each signer's count is within one of its exact share, and a set
/// of signers breaks into at most 16 runs of members consecutive in slot order), which is what recovering a blob
/// needs: a quorum that attests can always serve the data.
/// Slashing: the one contract bound at deployment as `slasher()` (DAChallenges, for a sampling challenge left
/// unanswered) can take a fraction of a signer's stake with {slash}; nobody else can move a signer's stake.
/// @dev A signer's BLS secret key sk gives pkG1 = sk*G1 and pkG2 = sk*G2. Proof of possession: the BLS signature
/// of {registrationDigest}(account, pkG1) under that key, which ties both keys to the same secret and the key to
/// the account, so nobody can register a key derived from other signers' keys (rogue-key attacks).
interface IDASigners {
    /// @notice A registered signer as `signerOf` reports it.
    struct SignerInfo {
        address account;
        bool registered;
        bool leaving;
        /// Slot, and bit of the attestation bitmap, while a member.
        uint256 slot;
        BN254.G1Point pkG1;
        BN254.G2Point pkG2;
        string socket;
        /// Stake in force in the current epoch (0 before the signer's first epoch, and after it left).
        uint256 stake;
        /// Stake from the next epoch on.
        uint256 nextStake;
        /// First epoch the signer is a member of.
        uint256 activeFromEpoch;
        /// Epoch from which a leaving signer can withdraw its stake (0 while not leaving).
        uint256 withdrawableEpoch;
    }

    /// @notice A member of an epoch's signer set, with its quorum and its share of the cell columns in it.
    struct EpochSigner {
        uint256 slot;
        uint256 quorumId;
        address account;
        uint256 stake;
        uint256 firstColumn;
        uint256 columnCount;
        BN254.G1Point pkG1;
        BN254.G2Point pkG2;
        string socket;
    }

    /// @notice How an epoch's signers split into quorums (constructor argument).
    struct QuorumParameters {
        uint256 maxQuorums;
        uint256 minSignersPerQuorum;
    }

    /// @notice The registry's parameters (constructor argument).
    struct Parameters {
        uint256 epochBlocks;
        uint256 minStake;
        uint256 withdrawDelayEpochs;
        QuorumParameters quorums;
        /// The only contract that may slash (zero: nobody).
        address slasher;
    }

    /// @notice The signers of a bitmap within one quorum of an epoch, as {quorum} reports them.
    struct QuorumAggregate {
        /// Quorums of the epoch.
        uint256 quorumCount;
        /// Bitmap of the quorum's members (0 if the quorum does not exist).
        uint256 members;
        /// Stake of the quorum's members.
        uint256 totalStake;
        /// Stake of the signers of the bitmap (0 if `valid` is false).
        uint256 signedStake;
        /// Sum of their G1 keys (infinity if `valid` is false).
        BN254.G1Point apk;
        /// False if the quorum does not exist, or the bitmap is empty or names a slot outside the quorum.
        bool valid;
        /// The signers of the bitmap in slot order, and their stakes (empty if `valid` is false).
        address[] accounts;
        uint256[] stakes;
        /// The quorum's column layout: byte i (least significant first) is the first column of the quorum's i-th
        /// member in slot order; a member's columns run to the next member's first (the last member's to 128).
        uint256 columnStarts;
    }

    /// @notice A signer of the genesis set, a member from epoch 0 on; its stake is paid by the deployer.
    struct GenesisSigner {
        address account;
        BN254.G1Point pkG1;
        BN254.G2Point pkG2;
        BN254.G1Point proofOfPossession;
        string socket;
        uint256 stake;
    }

    /// @notice Emitted after `account` registered in slot `slot`; it is a member from `activeFromEpoch` on.
    event SignerRegistered(
        address indexed account,
        uint256 indexed slot,
        BN254.G1Point pkG1,
        BN254.G2Point pkG2,
        string socket,
        uint256 stake,
        uint256 activeFromEpoch
    );

    /// @notice Emitted after `account` added `amount` to its stake, now `newStake` from `effectiveEpoch` on.
    event StakeAdded(address indexed account, uint256 amount, uint256 newStake, uint256 effectiveEpoch);

    /// @notice Emitted after `account` changed the URL clients reach it at.
    event SocketUpdated(address indexed account, string socket);

    /// @notice Emitted after `account` asked to leave: a member through `lastEpoch`, its stake withdrawable from
    /// `withdrawableEpoch` on.
    event LeaveRequested(address indexed account, uint256 lastEpoch, uint256 withdrawableEpoch);

    /// @notice Emitted after `newcomer` registered into a full set and evicted `account`, the member of the next
    /// epoch with the smallest stake: a member through `lastEpoch` at most, its `stake` withdrawable from
    /// `withdrawableEpoch` on, as if it had asked to leave.
    event SignerEvicted(
        address indexed account, address indexed newcomer, uint256 stake, uint256 lastEpoch, uint256 withdrawableEpoch
    );

    /// @notice Emitted after `account` took back its stake of `amount` and left the registry.
    event StakeWithdrawn(address indexed account, uint256 amount);

    /// @notice Emitted after the slasher took `amount` of the stake of `account`, which keeps `remainingStake` (from
    /// the next epoch on, or of its locked stake if it is leaving).
    event SignerSlashed(address indexed account, address indexed slasher, uint256 amount, uint256 remainingStake);

    /// @notice `account` is already registered (possibly leaving, until it withdraws).
    error DASignersAlreadyRegistered(address account);

    /// @notice `account` is not registered.
    error DASignersNotRegistered(address account);

    /// @notice A stake of `stake` is below the minimum of `minStake`.
    error DASignersStakeTooLow(uint256 stake, uint256 minStake);

    /// @notice A public key is the point at infinity or not on the curve.
    error DASignersInvalidPublicKey();

    /// @notice The proof of possession does not verify for `account` and the given keys.
    error DASignersInvalidProofOfPossession(address account);

    /// @notice The G1 key is already registered by `owner`.
    error DASignersKeyInUse(address owner);

    /// @notice The genesis set lists more than `maxSigners` signers.
    error DASignersTooManySigners(uint256 maxSigners);

    /// @notice The next epoch's set is full and a stake of `stake` is not above its smallest, `smallestStake`.
    error DASignersStakeTooLowToEvict(uint256 stake, uint256 smallestStake);

    /// @notice The minimum stake cannot be zero: filling every slot would cost nothing.
    error DASignersZeroMinStake();

    /// @notice A socket must be 1 to `maxLength` bytes.
    error DASignersInvalidSocket(uint256 length, uint256 maxLength);

    /// @notice `account` asked to leave already and can no longer add stake or leave again.
    error DASignersLeaving(address account);

    /// @notice `account` has not asked to leave, so it has no stake to withdraw.
    error DASignersNotLeaving(address account);

    /// @notice The stake can be withdrawn from epoch `withdrawableEpoch` on; this is epoch `epoch`.
    error DASignersWithdrawalLocked(uint256 withdrawableEpoch, uint256 epoch);

    /// @notice `maxQuorums` must be 1 to `maxSigners` and `minSignersPerQuorum` at least 1.
    error DASignersInvalidQuorumParameters(uint256 maxQuorums, uint256 minSignersPerQuorum);

    /// @notice A call that adds stake carried no value.
    error DASignersNoValue();

    /// @notice The deployer sent `sent` but the genesis stakes add up to `required`.
    error DASignersGenesisValueMismatch(uint256 sent, uint256 required);

    /// @notice Only the slasher bound at deployment may slash, not `caller`.
    error DASignersNotSlasher(address caller);

    /// @notice A slash of `fractionBps` basis points is more than the whole stake.
    error DASignersInvalidSlashFraction(uint256 fractionBps);

    /// @notice Epochs must be at least one block long.
    error DASignersInvalidEpochBlocks();

    /// @notice Only the epochs before, at and after the current epoch `currentEpoch` can be read, not `epochNumber`.
    error DASignersEpochUnavailable(uint256 epochNumber, uint256 currentEpoch);

    /// @notice Registers the caller as a signer with the attached value as stake; a member from the next epoch on.
    /// If the next epoch's set already has `maxSigners()` members, the caller gets in only with a stake strictly
    /// greater than the smallest stake of that set as it stands, counting the newcomers admitted earlier in this
    /// epoch and the stake members added so far; that member (the one in the lowest slot on a tie) is evicted:
    /// SignerEvicted, a member through this epoch at most, and its stake withdrawable `withdrawDelayEpochs()`
    /// after it, by {withdraw}, as if it had asked to leave. So several newcomers in one epoch each displace the
    /// then smallest, an earlier newcomer included, and one whose stake is not above it is refused; a member
    /// adds stake to stay ahead.
    /// @dev Reverts with DASignersAlreadyRegistered, DASignersStakeTooLow, DASignersInvalidSocket,
    /// DASignersInvalidPublicKey, DASignersKeyInUse, DASignersInvalidProofOfPossession or
    /// DASignersStakeTooLowToEvict.
    /// @param pkG1 sk*G1.
    /// @param pkG2 sk*G2.
    /// @param proofOfPossession sk*hashToG1(registrationDigest(msg.sender, pkG1)).
    /// @param socket URL of the signer's HTTP API.
    function register(
        BN254.G1Point calldata pkG1,
        BN254.G2Point calldata pkG2,
        BN254.G1Point calldata proofOfPossession,
        string calldata socket
    ) external payable;

    /// @notice Adds the attached value to the caller's stake, from the next epoch on.
    function addStake() external payable;

    /// @notice Changes the caller's socket, with immediate effect (it is not part of any signature).
    function updateSocket(string calldata socket) external;

    /// @notice The caller stops being a signer from the next epoch on; its stake becomes withdrawable after
    /// `withdrawDelayEpochs()` more epochs.
    function requestLeave() external;

    /// @notice Pays a leaving caller its stake once the withdrawal delay is over and removes it from the registry.
    function withdraw() external;

    /// @notice Takes `fractionBps` / 10000 of the stake of `account` and sends it to the caller, the slasher: of its
    /// stake from the next epoch on (the epoch in progress keeps its set, and attestations their weights), or of its
    /// locked stake if it is leaving. Nothing for an account that is not registered (it withdrew already).
    /// @dev Only `slasher()`. Reverts with DASignersNotSlasher or DASignersInvalidSlashFraction. Emits
    /// SignerSlashed when it takes something.
    /// @return amount The wei sent to the slasher.
    function slash(address account, uint256 fractionBps) external returns (uint256 amount);

    /// @notice The current epoch: (block.number - genesisBlock) / epochBlocks.
    function epoch() external view returns (uint256);

    /// @notice Blocks per epoch.
    function epochBlocks() external view returns (uint256);

    /// @notice The block epoch 0 started at (the deployment block).
    function genesisBlock() external view returns (uint256);

    /// @notice Smallest stake a signer can register with, in wei (never zero).
    function minStake() external view returns (uint256);

    /// @notice Epochs a leaving signer waits after its last epoch before it can withdraw.
    function withdrawDelayEpochs() external view returns (uint256);

    /// @notice The most quorums an epoch is split into.
    function maxQuorums() external view returns (uint256);

    /// @notice Signers per quorum at least: an epoch of n signers has clamp(n / minSignersPerQuorum, 1, maxQuorums)
    /// quorums.
    function minSignersPerQuorum() external view returns (uint256);

    /// @notice Quorums of epoch `epochNumber` (the previous, the current or the next one); 1 for an empty set.
    /// @dev Reverts with DASignersEpochUnavailable for any other epoch.
    function quorumCount(uint256 epochNumber) external view returns (uint256);

    /// @notice The member bitmap of each quorum of epoch `epochNumber` (the previous, the current or the next one).
    /// @dev Reverts with DASignersEpochUnavailable for any other epoch.
    function quorumMembers(uint256 epochNumber) external view returns (uint256[] memory bitmaps);

    /// @notice The most signers an epoch can hold (their slots, the bits of the attestation bitmap, range over
    /// 0..3*maxSigners()-1).
    function maxSigners() external pure returns (uint256);

    /// @notice Cell columns of a blob, assigned to the signers of every epoch.
    function columnsPerBlob() external pure returns (uint256);

    /// @notice The contract allowed to {slash} (zero: none), bound at deployment.
    function slasher() external view returns (address);

    /// @notice The slot of `account` and the first epoch it is a member of (the compact part of {signerOf}): while
    /// it stays registered it holds that slot in every epoch from `activeFromEpoch` on until it leaves.
    function slotOf(address account) external view returns (bool registered, uint256 slot, uint256 activeFromEpoch);

    /// @notice The registration of `account` (`registered` false if none).
    function signerOf(address account) external view returns (SignerInfo memory);

    /// @notice The signer set of the current epoch, in slot order, with their columns.
    function signers() external view returns (uint256 epochNumber, EpochSigner[] memory members);

    /// @notice The signer set of the next epoch as it stands now.
    function nextSigners() external view returns (uint256 epochNumber, EpochSigner[] memory members);

    /// @notice The signer set of `epochNumber`, in slot order, with their columns: the previous epoch (whose
    /// attestations DAEntrance still accepts for a few blocks), the current or the next one.
    /// @dev Reverts with DASignersEpochUnavailable for any other epoch.
    function signersAt(uint256 epochNumber) external view returns (EpochSigner[] memory members);

    /// @notice The signers of `bitmap` in quorum `quorumId` of epoch `epochNumber` (the previous, the current or the
    /// next one): the quorum's members and stake, the signers' stake, the sum of their G1 keys, and who they are.
    /// O(n^2) in the epoch's n <= 32 signers (sorting them by stake), O(signers of the bitmap) in key reads.
    /// @dev Reverts with DASignersEpochUnavailable for any other epoch.
    function quorum(uint256 epochNumber, uint256 quorumId, uint256 bitmap)
        external
        view
        returns (QuorumAggregate memory aggregate);

    /// @notice The EIP-712 digest a proof of possession signs: DASignerRegistration(address account, uint256 pkX,
    /// uint256 pkY) in the domain ("DASigners", "1", chain id, this contract).
    function registrationDigest(address account, BN254.G1Point calldata pkG1) external view returns (bytes32);
}
