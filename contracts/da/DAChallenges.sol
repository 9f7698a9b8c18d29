// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDAChallenges} from "../interfaces/IDAChallenges.sol";
import {IDAEntrance} from "../interfaces/IDAEntrance.sol";
import {IDASigners} from "../interfaces/IDASigners.sol";
import {IKZGCellVerifier} from "../interfaces/IKZGCellVerifier.sol";

/// @title DAChallenges
/// @notice Sampling challenges of DA signers: a random cell of an attested root, answered on chain within a deadline
/// or the signer's stake is slashed. See {IDAChallenges}.
/// @dev No privileged role: the bond, the deadline, the slash fraction and whether the chain can check cells are
/// fixed at deployment; DASigners lets only this contract slash.
contract DAChallenges is IDAChallenges, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Denominator of the slash fraction.
    uint256 public constant BPS = 10_000;
    /// @dev Gas the cell check may burn at most: ~620k measured (benches/da_cell_proof_gas.py) plus headroom for a
    /// repricing. A precompile fed a bad point consumes all it is given, so the stipend bounds what that costs.
    uint256 private constant CELL_CHECK_GAS = 1_000_000;
    /// @dev Cell columns of an extended blob.
    uint256 private constant COLUMNS_PER_BLOB = 128;
    /// @dev Bytes of a compressed KZG commitment (the data root's leaves hash exactly these).
    uint256 private constant BYTES_PER_COMMITMENT = 48;
    /// @dev Payload bytes per blob: 4096 field elements of 31 payload bytes (zerog/da/encoding.py).
    uint256 private constant PAYLOAD_BYTES_PER_BLOB = 4096 * 31;
    /// @dev A quorum's column layout: one byte per member, the column in its low 7 bits.
    uint256 private constant COLUMN_START_BITS = 8;
    uint256 private constant COLUMN_START_MASK = 0x7f;
    /// @dev The seed's high half picks the column, its low half the blob.
    uint256 private constant SEED_HALF_BITS = 128;

    /// @dev Three storage slots.
    struct Record {
        address challenger;
        uint64 deadline;
        Status status;
        uint8 column;
        address signer;
        uint32 blobIndex;
        uint32 blobs;
        bytes32 dataRoot;
    }

    IDAEntrance private immutable _entrance;
    IDASigners private immutable _signers;
    IKZGCellVerifier private immutable _verifier;
    uint256 private immutable _bond;
    uint256 private immutable _responseBlocks;
    uint256 private immutable _slashBps;
    bool private immutable _enabled;
    /// @dev The registry's epoch clock (immutable there too): a root's expiry block.
    uint256 private immutable _genesisBlock;
    uint256 private immutable _epochBlocks;

    uint256 private _count;
    mapping(uint256 id => Record) private _records;
    /// @dev The last challenge of each signer, id + 1 (0: none).
    mapping(address signer => uint256) private _latest;
    mapping(address account => uint256) private _credits;

    /// @param entrance_ The DAEntrance whose attestations are challenged (its signer registry must name this
    /// contract as slasher).
    /// @param verifier_ The KZG cell proof checker.
    /// @param bond_ Wei a challenger posts; paid to a signer that answers.
    /// @param responseBlocks_ Blocks a signer has to answer, at least one.
    /// @param slashBps_ Basis points of the stake an unanswered challenge takes, at most BPS.
    /// @param enabled_ Whether the chain has the EIP-2537 precompiles (the deploy probes them); false refuses
    /// every challenge.
    constructor(
        IDAEntrance entrance_,
        IKZGCellVerifier verifier_,
        uint256 bond_,
        uint256 responseBlocks_,
        uint256 slashBps_,
        bool enabled_
    ) {
        if (address(entrance_) == address(0)) revert DAChallengesInvalidParameter("entrance", 0);
        if (address(verifier_) == address(0)) revert DAChallengesInvalidParameter("verifier", 0);
        if (responseBlocks_ == 0) revert DAChallengesInvalidParameter("responseBlocks", responseBlocks_);
        if (slashBps_ > BPS) revert DAChallengesInvalidParameter("slashBps", slashBps_);
        IDASigners registry = entrance_.signerRegistry();
        _entrance = entrance_;
        _signers = registry;
        _verifier = verifier_;
        _bond = bond_;
        _responseBlocks = responseBlocks_;
        _slashBps = slashBps_;
        _enabled = enabled_;
        _genesisBlock = registry.genesisBlock();
        _epochBlocks = registry.epochBlocks();
    }

    /// @dev Slashed stake arrives from the signer registry during {claim}.
    receive() external payable {
        if (msg.sender != address(_signers)) revert DAChallengesUnexpectedPayment(msg.sender);
    }

    /// @inheritdoc IDAChallenges
    function challenge(bytes32 dataRoot, address signer) external payable returns (uint256 id) {
        if (!_enabled) revert DAChallengesDisabled();
        if (msg.value != _bond) revert DAChallengesWrongBond(msg.value, _bond);
        IDAEntrance.Attestation memory a = _entrance.attestationOf(dataRoot);
        if (!a.verified) revert DAChallengesNotAttested(dataRoot);
        uint256 deadline = block.number + _responseBlocks;
        // Signers delete a root's cells once its expiry epoch starts: the answer must be due before.
        if (deadline >= _genesisBlock + a.expiryEpoch * _epochBlocks) {
            revert DAChallengesDataExpired(dataRoot, a.expiryEpoch);
        }
        (uint256 first, uint256 count) = _columnsOf(dataRoot, signer, a);
        _checkNoneInFlight(signer);

        id = _count++;
        uint256 seed = uint256(
            keccak256(abi.encode(blockhash(block.number - 1), block.prevrandao, id, dataRoot, signer))
        );
        uint256 blobIndex = uint128(seed) % a.blobs;
        uint256 column = first + (seed >> SEED_HALF_BITS) % count;
        _records[id] = Record({
            challenger: msg.sender,
            deadline: deadline.toUint64(),
            status: Status.Open,
            column: uint8(column),
            signer: signer,
            blobIndex: uint32(blobIndex),
            blobs: a.blobs.toUint32(),
            dataRoot: dataRoot
        });
        _latest[signer] = id + 1;
        emit ChallengeCreated(id, dataRoot, signer, msg.sender, blobIndex, column, deadline);
    }

    /// @inheritdoc IDAChallenges
    function respond(uint256 id, Answer calldata answer) external {
        Record storage r = _open(id);
        if (block.number > r.deadline) revert DAChallengesDeadlinePassed(id, r.deadline);
        if (!_includes(r, answer)) revert DAChallengesInvalidInclusion(id);
        // Bounded stipend: a malformed point burns at most CELL_CHECK_GAS, and any failure is a wrong answer.
        try _verifier.verifyCellProof{gas: CELL_CHECK_GAS}(answer.commitment, r.column, answer.cell, answer.proof)
        returns (bool valid) {
            if (!valid) revert DAChallengesInvalidCell(id);
        } catch {
            revert DAChallengesInvalidCell(id);
        }
        r.status = Status.Answered;
        address signer = r.signer;
        _credits[signer] += _bond;
        emit ChallengeAnswered(id, signer, _bond);
    }

    /// @inheritdoc IDAChallenges
    function claim(uint256 id) external nonReentrant {
        Record storage r = _open(id);
        if (block.number <= r.deadline) revert DAChallengesDeadlineNotPassed(id, r.deadline);
        r.status = Status.Claimed;
        address signer = r.signer;
        address challenger = r.challenger;
        // The registry is bound to this contract at deployment and sends the slashed stake here (receive).
        uint256 slashed = _signers.slash(signer, _slashBps);
        _credits[challenger] += _bond + slashed;
        emit ChallengeClaimed(id, challenger, signer, _bond, slashed);
    }

    /// @inheritdoc IDAChallenges
    function withdraw() external nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert DAChallengesNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit CreditsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDAChallenges
    function challengeOf(uint256 id) external view returns (Challenge memory c) {
        Record storage r = _records[id];
        c = Challenge(r.status, r.challenger, r.signer, r.dataRoot, r.blobIndex, r.column, r.blobs, r.deadline);
    }

    /// @inheritdoc IDAChallenges
    function openChallenge(address signer) external view returns (bool open, uint256 id) {
        uint256 latest = _latest[signer];
        if (latest == 0) return (false, 0);
        id = latest - 1;
        Record storage r = _records[id];
        open = r.status == Status.Open && block.number <= r.deadline;
    }

    /// @inheritdoc IDAChallenges
    function challengeCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IDAChallenges
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IDAChallenges
    function bond() external view returns (uint256) {
        return _bond;
    }

    /// @inheritdoc IDAChallenges
    function responseBlocks() external view returns (uint256) {
        return _responseBlocks;
    }

    /// @inheritdoc IDAChallenges
    function slashBps() external view returns (uint256) {
        return _slashBps;
    }

    /// @inheritdoc IDAChallenges
    function enabled() external view returns (bool) {
        return _enabled;
    }

    /// @inheritdoc IDAChallenges
    function cellCheckGas() external pure returns (uint256) {
        return CELL_CHECK_GAS;
    }

    /// @inheritdoc IDAChallenges
    function entrance() external view returns (IDAEntrance) {
        return _entrance;
    }

    /// @inheritdoc IDAChallenges
    function signerRegistry() external view returns (IDASigners) {
        return _signers;
    }

    /// @inheritdoc IDAChallenges
    function verifier() external view returns (IKZGCellVerifier) {
        return _verifier;
    }

    // ------------------------------------------------------------------ internals

    function _open(uint256 id) private view returns (Record storage r) {
        r = _records[id];
        if (r.status != Status.Open) revert DAChallengesNotOpen(id, r.status);
    }

    function _checkNoneInFlight(address signer) private view {
        uint256 latest = _latest[signer];
        if (latest == 0) return;
        Record storage r = _records[latest - 1];
        if (r.status == Status.Open && block.number <= r.deadline) revert DAChallengesInFlight(signer, latest - 1);
    }

    /// @dev The columns `signer` held of `dataRoot`: it signed the attestation (its slot's bit), and its slot was
    /// its own in the attesting epoch (registered since then, so the slot was not reused by someone else).
    function _columnsOf(bytes32 dataRoot, address signer, IDAEntrance.Attestation memory a)
        private
        view
        returns (uint256 first, uint256 count)
    {
        (bool registered, uint256 slot, uint256 activeFromEpoch) = _signers.slotOf(signer);
        if (!registered || activeFromEpoch > a.epoch || (a.signerBitmap >> slot) & 1 == 0) {
            revert DAChallengesNotAttestingSigner(dataRoot, signer);
        }
        // The signer's rank among the quorum's members in slot order picks its byte of the layout.
        uint256 rank = _popcount(a.quorumMembers & ((1 << slot) - 1));
        first = (a.columnStarts >> (rank * COLUMN_START_BITS)) & COLUMN_START_MASK;
        uint256 end = rank + 1 < _popcount(a.quorumMembers)
            ? (a.columnStarts >> ((rank + 1) * COLUMN_START_BITS)) & COLUMN_START_MASK
            : COLUMNS_PER_BLOB;
        count = end - first;
        if (count == 0) revert DAChallengesNoColumns(signer);
    }

    /// @dev Whether the answer's commitment is blob r.blobIndex of r.dataRoot: the data root is
    /// keccak256(uint256 length || tree), tree the keccak merkle root of keccak256(commitment) per blob, padded with
    /// zero leaves to a power of two (zerog/da/encoding.py).
    function _includes(Record storage r, Answer calldata answer) private view returns (bool) {
        if (answer.commitment.length != BYTES_PER_COMMITMENT) return false;
        uint256 blobs = r.blobs;
        if (answer.length == 0 || (answer.length + PAYLOAD_BYTES_PER_BLOB - 1) / PAYLOAD_BYTES_PER_BLOB != blobs) {
            return false;
        }
        uint256 depth;
        while ((1 << depth) < blobs) ++depth;
        bytes32[] calldata path = answer.merklePath;
        if (path.length != depth) return false;
        bytes32 node = keccak256(answer.commitment);
        uint256 index = r.blobIndex;
        for (uint256 i = 0; i < depth; ++i) {
            node = index & 1 == 0 ? keccak256(abi.encode(node, path[i])) : keccak256(abi.encode(path[i], node));
            index >>= 1;
        }
        return keccak256(abi.encode(answer.length, node)) == r.dataRoot;
    }

    function _popcount(uint256 bits) private pure returns (uint256 count) {
        for (; bits != 0; bits &= bits - 1) ++count;
    }
}
