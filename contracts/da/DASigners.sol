// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDASigners} from "../interfaces/IDASigners.sol";
import {BN254} from "./libraries/BN254.sol";
import {SignerSet} from "./libraries/SignerSet.sol";

/// @title DASigners
/// @notice Registry of the DA signers, their stakes and epochs. See {IDASigners}.
/// @dev No privileged role: parameters are fixed at deployment and only a signer can change its own record, but for
/// the slasher (DAChallenges), bound at deployment, which can take a fraction of a stake.
contract DASigners is IDASigners, EIP712, ReentrancyGuard {
    using SignerSet for SignerSet.Set;
    using SafeCast for uint256;

    /// @notice Cell columns of an extended blob (EIP-7594: 128 cells, any 64 recover the blob).
    uint256 public constant COLUMNS_PER_BLOB = 128;
    /// @notice Longest socket accepted, in bytes.
    uint256 public constant MAX_SOCKET_LENGTH = 256;
    /// @notice Denominator of a slash fraction.
    uint256 public constant BPS = 10_000;
    /// @dev Bits per member in a quorum's column layout (QuorumAggregate.columnStarts).
    uint256 private constant COLUMN_START_BITS = 8;
    bytes32 private constant REGISTRATION_TYPEHASH = keccak256("DASignerRegistration(address account,uint256 pkX,uint256 pkY)");

    /// @dev A signer's own record; the slot data the aggregate reads lives in the SignerSet.
    struct Registration {
        bool registered;
        bool leaving;
        uint8 slot;
        uint64 activeFromEpoch;
        uint64 withdrawableEpoch;
        uint96 lockedStake;
        BN254.G1Point pkG1;
        BN254.G2Point pkG2;
        string socket;
    }

    uint256 private immutable _epochBlocks;
    uint256 private immutable _genesisBlock;
    uint256 private immutable _minStake;
    uint256 private immutable _withdrawDelayEpochs;
    uint256 private immutable _maxQuorums;
    uint256 private immutable _minSignersPerQuorum;
    address private immutable _slasher;

    SignerSet.Set private _set;
    mapping(address account => Registration) private _registrations;
    mapping(bytes32 keyHash => address owner) private _keyOwners;

    /// @param params epochBlocks: blocks per epoch, at least one. minStake: smallest stake a signer registers with,
    /// in wei; not zero, else squatting all slots is free. withdrawDelayEpochs: epochs between a leaving signer's last
    /// epoch and its withdrawal. quorums: how the signer set splits into quorums: at most maxQuorums (1 to
    /// MAX_SIGNERS), with minSignersPerQuorum (at least 1) each when the set is large enough for one. slasher: the
    /// only contract that may {slash} (DAChallenges; zero: nobody).
    /// @param genesis Signers that are members from epoch 0 on; the attached value pays their stakes.
    constructor(Parameters memory params, GenesisSigner[] memory genesis) payable EIP712("DASigners", "1") {
        if (params.epochBlocks == 0) revert DASignersInvalidEpochBlocks();
        if (params.minStake == 0) revert DASignersZeroMinStake();
        QuorumParameters memory quorums = params.quorums;
        if (quorums.maxQuorums == 0 || quorums.maxQuorums > SignerSet.MAX_SIGNERS || quorums.minSignersPerQuorum == 0) {
            revert DASignersInvalidQuorumParameters(quorums.maxQuorums, quorums.minSignersPerQuorum);
        }
        _maxQuorums = quorums.maxQuorums;
        _minSignersPerQuorum = quorums.minSignersPerQuorum;
        _slasher = params.slasher;
        _epochBlocks = params.epochBlocks;
        _genesisBlock = block.number;
        _minStake = params.minStake;
        _withdrawDelayEpochs = params.withdrawDelayEpochs;
        uint256 required = _seedGenesis(genesis);
        if (msg.value != required) revert DASignersGenesisValueMismatch(msg.value, required);
    }

    // ------------------------------------------------------------------ signers

    /// @inheritdoc IDASigners
    function register(
        BN254.G1Point calldata pkG1,
        BN254.G2Point calldata pkG2,
        BN254.G1Point calldata proofOfPossession,
        string calldata socket
    ) external payable {
        _checkRegistration(msg.sender, msg.value, pkG1, pkG2, proofOfPossession, socket);
        uint256 current = epoch();
        if (_set.isFull()) _evictSmallest(current);
        uint256 slot = _set.freeSlot(current);
        _set.join(current, slot, msg.sender, pkG1, msg.value);
        _store(msg.sender, slot, current + 1, pkG1, pkG2, socket);
        emit SignerRegistered(msg.sender, slot, pkG1, pkG2, socket, msg.value, current + 1);
    }

    /// @inheritdoc IDASigners
    function addStake() external payable {
        Registration storage reg = _active(msg.sender);
        if (msg.value == 0) revert DASignersNoValue();
        uint256 current = epoch();
        uint256 newStake = _set.increase(current, reg.slot, msg.value);
        emit StakeAdded(msg.sender, msg.value, newStake, current + 1);
    }

    /// @inheritdoc IDASigners
    function updateSocket(string calldata socket) external {
        Registration storage reg = _registrations[msg.sender];
        if (!reg.registered) revert DASignersNotRegistered(msg.sender);
        _checkSocket(socket);
        reg.socket = socket;
        emit SocketUpdated(msg.sender, socket);
    }

    /// @inheritdoc IDASigners
    function requestLeave() external {
        uint256 current = epoch();
        (, uint256 withdrawable) = _leave(_active(msg.sender), current);
        emit LeaveRequested(msg.sender, current, withdrawable);
    }

    /// @inheritdoc IDASigners
    function withdraw() external nonReentrant {
        Registration storage reg = _registrations[msg.sender];
        if (!reg.registered) revert DASignersNotRegistered(msg.sender);
        if (!reg.leaving) revert DASignersNotLeaving(msg.sender);
        uint256 current = epoch();
        if (current < reg.withdrawableEpoch) revert DASignersWithdrawalLocked(reg.withdrawableEpoch, current);
        uint256 amount = reg.lockedStake;
        delete _registrations[msg.sender];
        emit StakeWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IDASigners
    function slash(address account, uint256 fractionBps) external nonReentrant returns (uint256 amount) {
        if (msg.sender != _slasher) revert DASignersNotSlasher(msg.sender);
        if (fractionBps > BPS) revert DASignersInvalidSlashFraction(fractionBps);
        Registration storage reg = _registrations[account];
        if (!reg.registered) return 0;
        uint256 remaining;
        if (reg.leaving) {
            amount = (uint256(reg.lockedStake) * fractionBps) / BPS;
            remaining = reg.lockedStake - amount;
            reg.lockedStake = remaining.toUint96();
        } else {
            amount = (_set.latestStake(reg.slot) * fractionBps) / BPS;
            remaining = _set.decrease(epoch(), reg.slot, amount);
        }
        if (amount == 0) return 0;
        emit SignerSlashed(account, msg.sender, amount, remaining);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDASigners
    function epoch() public view returns (uint256) {
        return (block.number - _genesisBlock) / _epochBlocks;
    }

    /// @inheritdoc IDASigners
    function epochBlocks() external view returns (uint256) {
        return _epochBlocks;
    }

    /// @inheritdoc IDASigners
    function genesisBlock() external view returns (uint256) {
        return _genesisBlock;
    }

    /// @inheritdoc IDASigners
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IDASigners
    function withdrawDelayEpochs() external view returns (uint256) {
        return _withdrawDelayEpochs;
    }

    /// @inheritdoc IDASigners
    function maxQuorums() external view returns (uint256) {
        return _maxQuorums;
    }

    /// @inheritdoc IDASigners
    function minSignersPerQuorum() external view returns (uint256) {
        return _minSignersPerQuorum;
    }

    /// @inheritdoc IDASigners
    function quorumCount(uint256 epochNumber) external view returns (uint256) {
        _checkReadable(epochNumber);
        return _quorumCount(_popcount(_set.membersAt(epochNumber)));
    }

    /// @inheritdoc IDASigners
    function quorumMembers(uint256 epochNumber) external view returns (uint256[] memory bitmaps) {
        _checkReadable(epochNumber);
        (bitmaps,) = _assign(epochNumber);
    }

    /// @inheritdoc IDASigners
    function maxSigners() external pure returns (uint256) {
        return SignerSet.MAX_SIGNERS;
    }

    /// @inheritdoc IDASigners
    function columnsPerBlob() external pure returns (uint256) {
        return COLUMNS_PER_BLOB;
    }

    /// @inheritdoc IDASigners
    function slasher() external view returns (address) {
        return _slasher;
    }

    /// @inheritdoc IDASigners
    function slotOf(address account) external view returns (bool registered, uint256 slot, uint256 activeFromEpoch) {
        Registration storage reg = _registrations[account];
        return (reg.registered, reg.slot, reg.activeFromEpoch);
    }

    /// @inheritdoc IDASigners
    function signerOf(address account) external view returns (SignerInfo memory info) {
        Registration storage reg = _registrations[account];
        if (!reg.registered) return info;
        uint256 current = epoch();
        info = SignerInfo({
            account: account,
            registered: true,
            leaving: reg.leaving,
            slot: reg.slot,
            pkG1: reg.pkG1,
            pkG2: reg.pkG2,
            socket: reg.socket,
            stake: 0,
            nextStake: 0,
            activeFromEpoch: reg.activeFromEpoch,
            withdrawableEpoch: reg.withdrawableEpoch
        });
        // A leaving signer's slot may be taken by someone else once it is no longer a member.
        if (_set.slots[reg.slot].account == account) {
            if (_set.membersAt(current) & (1 << reg.slot) != 0) info.stake = _set.stakeAt(reg.slot, current);
            if (!reg.leaving) info.nextStake = _set.latestStake(reg.slot);
        }
    }

    /// @inheritdoc IDASigners
    function signers() external view returns (uint256 epochNumber, EpochSigner[] memory members) {
        epochNumber = epoch();
        members = _epochSigners(epochNumber);
    }

    /// @inheritdoc IDASigners
    function nextSigners() external view returns (uint256 epochNumber, EpochSigner[] memory members) {
        epochNumber = epoch() + 1;
        members = _epochSigners(epochNumber);
    }

    /// @inheritdoc IDASigners
    function signersAt(uint256 epochNumber) external view returns (EpochSigner[] memory members) {
        _checkReadable(epochNumber);
        members = _epochSigners(epochNumber);
    }

    /// @inheritdoc IDASigners
    function quorum(uint256 epochNumber, uint256 quorumId, uint256 bitmap)
        external
        view
        returns (QuorumAggregate memory agg)
    {
        _checkReadable(epochNumber);
        (uint256[] memory bitmaps, uint256[] memory stakes) = _assign(epochNumber);
        agg.quorumCount = bitmaps.length;
        if (quorumId >= bitmaps.length) return agg;
        uint256 members = bitmaps[quorumId];
        agg.members = members;
        for (uint256 bits = members; bits != 0; bits &= bits - 1) {
            agg.totalStake += stakes[_lowestBit(bits)];
        }
        agg.columnStarts = _columnStarts(members, stakes, agg.totalStake);
        if (bitmap == 0 || bitmap & ~members != 0) return agg;
        uint256 count = _popcount(bitmap);
        agg.accounts = new address[](count);
        agg.stakes = new uint256[](count);
        // One quorum: the epoch's key sum minus the keys missing from the bitmap (at most a third of the stake, so
        // the fewer key reads). Several: the signers' keys added up.
        if (bitmaps.length == 1) (,,, agg.apk) = _set.aggregate(epochNumber, bitmap);
        uint256 k;
        for (uint256 bits = bitmap; bits != 0; bits &= bits - 1) {
            uint256 slot = _lowestBit(bits);
            SignerSet.Slot storage s = _set.slots[slot];
            agg.accounts[k] = s.account;
            agg.stakes[k++] = stakes[slot];
            agg.signedStake += stakes[slot];
            if (bitmaps.length > 1) agg.apk = BN254.add(agg.apk, s.pkG1);
        }
        agg.valid = true;
    }

    /// @inheritdoc IDASigners
    function registrationDigest(address account, BN254.G1Point calldata pkG1) external view returns (bytes32) {
        return _registrationDigest(account, pkG1);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Makes the genesis signers members from epoch 0 on; returns their stakes' sum.
    function _seedGenesis(GenesisSigner[] memory genesis) private returns (uint256 required) {
        if (genesis.length > SignerSet.MAX_SIGNERS) revert DASignersTooManySigners(SignerSet.MAX_SIGNERS);
        for (uint256 i = 0; i < genesis.length; ++i) {
            GenesisSigner memory signer = genesis[i];
            _checkRegistration(signer.account, signer.stake, signer.pkG1, signer.pkG2, signer.proofOfPossession, signer.socket);
            required += signer.stake;
            _set.seed(i, signer.account, signer.pkG1, signer.stake);
            _store(signer.account, i, 0, signer.pkG1, signer.pkG2, signer.socket);
            emit SignerRegistered(signer.account, i, signer.pkG1, signer.pkG2, signer.socket, signer.stake, 0);
        }
    }

    function _registrationDigest(address account, BN254.G1Point memory pkG1) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REGISTRATION_TYPEHASH, account, pkG1.X, pkG1.Y)));
    }

    function _checkRegistration(
        address account,
        uint256 stake,
        BN254.G1Point memory pkG1,
        BN254.G2Point memory pkG2,
        BN254.G1Point memory proofOfPossession,
        string memory socket
    ) private view {
        if (_registrations[account].registered) revert DASignersAlreadyRegistered(account);
        if (stake < _minStake) revert DASignersStakeTooLow(stake, _minStake);
        _checkSocket(socket);
        if (!BN254.isOnCurve(pkG1) || BN254.isInfinity(pkG2)) revert DASignersInvalidPublicKey();
        address owner = _keyOwners[_keyHash(pkG1)];
        if (owner != address(0) && owner != account) revert DASignersKeyInUse(owner);
        BN254.G1Point memory message = BN254.hashToG1(_registrationDigest(account, pkG1));
        if (!BN254.verify(message, proofOfPossession, pkG1, pkG2)) revert DASignersInvalidProofOfPossession(account);
    }

    function _checkSocket(string memory socket) private pure {
        uint256 length = bytes(socket).length;
        if (length == 0 || length > MAX_SOCKET_LENGTH) revert DASignersInvalidSocket(length, MAX_SOCKET_LENGTH);
    }

    function _store(
        address account,
        uint256 slot,
        uint256 activeFromEpoch,
        BN254.G1Point memory pkG1,
        BN254.G2Point memory pkG2,
        string memory socket
    ) private {
        _keyOwners[_keyHash(pkG1)] = account;
        Registration storage reg = _registrations[account];
        reg.registered = true;
        reg.slot = uint8(slot);
        reg.activeFromEpoch = activeFromEpoch.toUint64();
        reg.pkG1 = pkG1;
        reg.pkG2 = pkG2;
        reg.socket = socket;
    }

    /// @dev Makes room in the full next set for the caller, whose stake must be above the smallest there.
    function _evictSmallest(uint256 current) private {
        (uint256 slot, uint256 smallestStake) = _set.smallest();
        if (msg.value <= smallestStake) revert DASignersStakeTooLowToEvict(msg.value, smallestStake);
        address account = _set.slots[slot].account;
        (uint256 stake, uint256 withdrawable) = _leave(_registrations[account], current);
        emit SignerEvicted(account, msg.sender, stake, current, withdrawable);
    }

    /// @dev The signer of `reg` is a member through `current` at most; its stake is locked until `withdrawable`.
    function _leave(Registration storage reg, uint256 current) private returns (uint256 stake, uint256 withdrawable) {
        stake = _set.remove(current, reg.slot);
        withdrawable = current + 1 + _withdrawDelayEpochs;
        reg.leaving = true;
        reg.lockedStake = stake.toUint96();
        reg.withdrawableEpoch = withdrawable.toUint64();
    }

    /// @dev The signer set keeps the previous, the current and the next epoch.
    function _checkReadable(uint256 epochNumber) private view {
        uint256 current = epoch();
        if (epochNumber > current + 1 || epochNumber + 1 < current) {
            revert DASignersEpochUnavailable(epochNumber, current);
        }
    }

    /// @dev A registered signer that has not asked to leave.
    function _active(address account) private view returns (Registration storage reg) {
        reg = _registrations[account];
        if (!reg.registered) revert DASignersNotRegistered(account);
        if (reg.leaving) revert DASignersLeaving(account);
    }

    function _epochSigners(uint256 epochNumber) private view returns (EpochSigner[] memory members) {
        (uint256[] memory bitmaps, uint256[] memory stakes) = _assign(epochNumber);
        uint256[] memory totals = new uint256[](bitmaps.length);
        uint256[] memory cumulative = new uint256[](bitmaps.length);
        uint256 all;
        for (uint256 q = 0; q < bitmaps.length; ++q) {
            all |= bitmaps[q];
            for (uint256 bits = bitmaps[q]; bits != 0; bits &= bits - 1) {
                totals[q] += stakes[_lowestBit(bits)];
            }
        }
        members = new EpochSigner[](_popcount(all));
        uint256 k;
        for (uint256 bits = all; bits != 0; bits &= bits - 1) {
            uint256 slot = _lowestBit(bits);
            uint256 q = 0;
            while (bitmaps[q] & (1 << slot) == 0) ++q;
            address account = _set.slots[slot].account;
            Registration storage reg = _registrations[account];
            uint256 first = _column(cumulative[q], totals[q]);
            cumulative[q] += stakes[slot];
            uint256 end = _column(cumulative[q], totals[q]);
            members[k++] =
                EpochSigner(slot, q, account, stakes[slot], first, end - first, reg.pkG1, reg.pkG2, reg.socket);
        }
    }

    /// @dev The quorums of `epochNumber` (member bitmaps) and every member's stake, by slot: the members sorted by
    /// stake, largest first (lower slot first on a tie), dealt out to the quorums in serpentine order.
    function _assign(uint256 epochNumber) private view returns (uint256[] memory bitmaps, uint256[] memory stakes) {
        uint256 members = _set.membersAt(epochNumber);
        stakes = new uint256[](SignerSet.SLOTS);
        uint256[] memory order = new uint256[](SignerSet.MAX_SIGNERS);
        uint256 n;
        for (uint256 bits = members; bits != 0; bits &= bits - 1) {
            uint256 slot = _lowestBit(bits);
            uint256 stake = _set.stakeAt(slot, epochNumber);
            stakes[slot] = stake;
            // Insertion sort; slots arrive in ascending order, so an equal stake stays behind the lower slot.
            uint256 j = n++;
            while (j > 0 && stakes[order[j - 1]] < stake) {
                order[j] = order[j - 1];
                --j;
            }
            order[j] = slot;
        }
        uint256 count = _quorumCount(n);
        bitmaps = new uint256[](count);
        for (uint256 rank = 0; rank < n; ++rank) {
            uint256 position = rank % count;
            uint256 q = (rank / count) % 2 == 0 ? position : count - 1 - position;
            bitmaps[q] |= 1 << order[rank];
        }
    }

    /// @dev A quorum's column layout (QuorumAggregate.columnStarts): the same columns as _epochSigners gives, by
    /// cumulative stake in slot order.
    function _columnStarts(uint256 members, uint256[] memory stakes, uint256 total)
        private
        pure
        returns (uint256 starts)
    {
        uint256 cumulative;
        uint256 shift;
        for (uint256 bits = members; bits != 0; bits &= bits - 1) {
            starts |= _column(cumulative, total) << shift;
            cumulative += stakes[_lowestBit(bits)];
            shift += COLUMN_START_BITS;
        }
    }

    /// @dev clamp(members / minSignersPerQuorum, 1, maxQuorums).
    function _quorumCount(uint256 members) private view returns (uint256 count) {
        count = members / _minSignersPerQuorum;
        if (count > _maxQuorums) count = _maxQuorums;
        if (count == 0) count = 1;
    }

    function _popcount(uint256 bits) private pure returns (uint256 count) {
        for (; bits != 0; bits &= bits - 1) ++count;
    }

    /// @dev Index of the lowest set bit of a non-zero `bits`.
    function _lowestBit(uint256 bits) private pure returns (uint256) {
        unchecked {
            return Math.log2(bits & (~bits + 1));
        }
    }

    /// @dev The first column after a cumulative stake of `cumulative` out of `total`. A set without stake has no
    /// columns to share: every member gets none rather than the view reverting on a division by zero.
    function _column(uint256 cumulative, uint256 total) private pure returns (uint256) {
        return total == 0 ? 0 : (cumulative * COLUMNS_PER_BLOB) / total;
    }

    function _keyHash(BN254.G1Point memory pkG1) private pure returns (bytes32) {
        return keccak256(abi.encode(pkG1.X, pkG1.Y));
    }
}
