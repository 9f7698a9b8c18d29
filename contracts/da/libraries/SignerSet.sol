// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {BN254} from "./BN254.sol";

/// @title SignerSet
/// @notice The DA signer set, versioned by epoch: every change made during epoch E (a signer joins, adds stake,
/// leaves) takes effect at epoch E + 1, while the set of epoch E stays as it was. The previous, the current and
/// the next epoch can be read: DAEntrance accepts attestations of the previous epoch for a few blocks after it
/// ended. Reads and writes are O(1) except the aggregate over the signers missing from a bitmap.
/// @dev Each versioned value keeps three copies: `previous` (in force before `currentFrom`), `current` (in force
/// from `currentFrom` to `nextFrom - 1`) and `next` (in force from `nextFrom` on), rolled lazily: a write during
/// epoch E first shifts them (previous <- current <- next, currentFrom <- nextFrom) if E >= nextFrom, then edits
/// `next` and sets nextFrom = E + 1. A read at epoch X returns `next` if X >= nextFrom, else `current` if
/// X >= currentFrom, else `previous`. That is right for X in {E - 1, E, E + 1} at every epoch E from the last
/// write on; older values are overwritten.
///
/// An epoch has at most MAX_SIGNERS members. They occupy slots 0..SLOTS-1; a slot is free when it is a member of
/// none of the previous, the current and the next epoch, so a slot left at epoch E is taken again from epoch E + 2
/// on, without touching the keys and stakes the reads of epochs E - 1 and E need. SLOTS = 3 * MAX_SIGNERS, so a
/// free slot exists whenever the next epoch has room: the three sets then hold at most SLOTS - 1 slots.
library SignerSet {
    using SafeCast for uint256;

    /// @notice Most members of an epoch.
    uint256 internal constant MAX_SIGNERS = 32;
    /// @notice Signer slots: the signer bitmap of an attestation is one bit per slot.
    uint256 internal constant SLOTS = 3 * MAX_SIGNERS;

    /// @notice Members, their total stake and the sum of their G1 keys, as of one epoch.
    struct Quorum {
        uint96 members;
        uint128 totalStake;
        BN254.G1Point apk;
    }

    /// @notice A signer's stake, versioned like the quorum. The first storage slot holds all that reads of the
    /// current and the next epoch need; only reads of the previous epoch may touch the second.
    struct Stake {
        uint96 current;
        uint96 next;
        uint64 nextFrom;
        uint96 previous;
        uint64 currentFrom;
    }

    /// @notice What the aggregate needs of a signer, by slot: its account, G1 key and stake.
    struct Slot {
        address account;
        BN254.G1Point pkG1;
        Stake stake;
    }

    struct Set {
        Quorum previous;
        Quorum current;
        Quorum next;
        uint64 currentFrom;
        uint64 nextFrom;
        Slot[SLOTS] slots;
    }

    // ------------------------------------------------------------------ reads

    /// @notice The quorum in force at `epoch` (the previous, the current or the next epoch).
    function quorumAt(Set storage set, uint256 epoch) internal view returns (Quorum memory) {
        return _quorumAt(set, epoch);
    }

    /// @notice The member bitmap in force at `epoch`.
    function membersAt(Set storage set, uint256 epoch) internal view returns (uint256) {
        return _quorumAt(set, epoch).members;
    }

    /// @notice The stake of slot `index` in force at `epoch` (0 if it is not a member then).
    function stakeAt(Set storage set, uint256 index, uint256 epoch) internal view returns (uint256) {
        Stake storage stake = set.slots[index].stake;
        uint256 nextFrom = stake.nextFrom;
        if (epoch >= nextFrom) return stake.next;
        // `current` is in force at least at nextFrom - 1, the epoch of the last write: only an earlier epoch
        // needs to read currentFrom, in the second storage slot.
        if (epoch + 1 >= nextFrom || epoch >= stake.currentFrom) return stake.current;
        return stake.previous;
    }

    /// @notice The latest stake of slot `index`: what it will be from the next epoch on.
    function latestStake(Set storage set, uint256 index) internal view returns (uint256) {
        return set.slots[index].stake.next;
    }

    /// @notice True if the next epoch's set, as it stands, has MAX_SIGNERS members.
    function isFull(Set storage set) internal view returns (bool) {
        uint256 count;
        for (uint256 bits = set.next.members; bits != 0; bits &= bits - 1) ++count;
        return count == MAX_SIGNERS;
    }

    /// @notice The member of the next epoch's set, as it stands, with the smallest stake, and that stake; the
    /// lowest such slot on a tie. At most MAX_SIGNERS reads.
    function smallest(Set storage set) internal view returns (uint256 index, uint256 stake) {
        stake = type(uint256).max;
        uint256 members = set.next.members;
        for (uint256 i = 0; members != 0; ++i) {
            if (members & 1 != 0) {
                uint256 candidate = set.slots[i].stake.next;
                if (candidate < stake) (index, stake) = (i, candidate);
            }
            members >>= 1;
        }
    }

    /// @notice The lowest slot that is a member of none of epochs `epoch` - 1, `epoch` and `epoch` + 1. Call it
    /// only while the next epoch has room (not {isFull}): there always is such a slot then.
    function freeSlot(Set storage set, uint256 epoch) internal view returns (uint256 index) {
        uint256 taken = membersAt(set, epoch) | set.next.members;
        if (epoch > 0) taken |= membersAt(set, epoch - 1);
        while (taken & (1 << index) != 0) ++index;
    }

    /// @notice The signers of `bitmap` at `epoch`: their total stake and the sum of their G1 keys, computed as the
    /// quorum's aggregate minus the members missing from `bitmap` (at most a third of the stake when the
    /// attestation is valid, so the cheaper direction). Returns `valid` false, and nothing else, if `bitmap` is
    /// empty or names a slot that is not a member at `epoch`.
    function aggregate(Set storage set, uint256 epoch, uint256 bitmap)
        internal
        view
        returns (bool valid, Quorum memory quorum, uint256 signedStake, BN254.G1Point memory apk)
    {
        quorum = quorumAt(set, epoch);
        if (bitmap == 0 || bitmap & ~uint256(quorum.members) != 0) return (false, quorum, 0, apk);
        signedStake = quorum.totalStake;
        apk = quorum.apk;
        uint256 missing = quorum.members & ~bitmap;
        for (uint256 index = 0; missing != 0; ++index) {
            if (missing & 1 != 0) {
                signedStake -= stakeAt(set, index, epoch);
                apk = BN254.add(apk, BN254.negate(set.slots[index].pkG1));
            }
            missing >>= 1;
        }
        return (true, quorum, signedStake, apk);
    }

    // ------------------------------------------------------------------ writes

    /// @notice A signer in force from epoch 0 on (the genesis set, written before any epoch is read).
    function seed(Set storage set, uint256 index, address account, BN254.G1Point memory pkG1, uint256 stake)
        internal
    {
        uint96 amount = stake.toUint96();
        set.slots[index] = Slot(account, pkG1, Stake(amount, amount, 0, 0, 0));
        Quorum storage next = set.next;
        next.members |= uint96(1 << index);
        next.totalStake += amount;
        next.apk = BN254.add(next.apk, pkG1);
        set.current = next;
    }

    /// @notice `account` takes slot `index` (a {freeSlot}) from epoch `epoch` + 1 on.
    function join(
        Set storage set,
        uint256 epoch,
        uint256 index,
        address account,
        BN254.G1Point memory pkG1,
        uint256 stake
    ) internal {
        Slot storage slot = set.slots[index];
        slot.account = account;
        slot.pkG1 = pkG1;
        _setStake(slot.stake, epoch, stake);
        Quorum storage next = _editNext(set, epoch);
        next.members |= uint96(1 << index);
        next.totalStake += stake.toUint128();
        next.apk = BN254.add(next.apk, pkG1);
    }

    /// @notice Slot `index` gets `amount` more stake from epoch `epoch` + 1 on; returns its new stake.
    function increase(Set storage set, uint256 epoch, uint256 index, uint256 amount) internal returns (uint256) {
        Stake storage stake = set.slots[index].stake;
        uint256 newStake = stake.next + amount;
        _setStake(stake, epoch, newStake);
        _editNext(set, epoch).totalStake += amount.toUint128();
        return newStake;
    }

    /// @notice Slot `index` has `amount` less stake from epoch `epoch` + 1 on (at most its stake); returns its new
    /// stake.
    function decrease(Set storage set, uint256 epoch, uint256 index, uint256 amount) internal returns (uint256) {
        Stake storage stake = set.slots[index].stake;
        uint256 newStake = stake.next - amount;
        _setStake(stake, epoch, newStake);
        _editNext(set, epoch).totalStake -= amount.toUint128();
        return newStake;
    }

    /// @notice Slot `index` stops being a member from epoch `epoch` + 1 on; returns the stake it held.
    function remove(Set storage set, uint256 epoch, uint256 index) internal returns (uint256 stake) {
        Slot storage slot = set.slots[index];
        stake = slot.stake.next;
        _setStake(slot.stake, epoch, 0);
        Quorum storage next = _editNext(set, epoch);
        next.members &= ~uint96(1 << index);
        next.totalStake -= stake.toUint128();
        next.apk = BN254.add(next.apk, BN254.negate(slot.pkG1));
    }

    // ------------------------------------------------------------------ internals

    function _quorumAt(Set storage set, uint256 epoch) private view returns (Quorum storage) {
        if (epoch >= set.nextFrom) return set.next;
        if (epoch >= set.currentFrom) return set.current;
        return set.previous;
    }

    function _editNext(Set storage set, uint256 epoch) private returns (Quorum storage) {
        uint64 nextFrom = set.nextFrom;
        if (epoch >= nextFrom) {
            set.previous = set.current;
            set.current = set.next;
            set.currentFrom = nextFrom;
            set.nextFrom = (epoch + 1).toUint64();
        }
        return set.next;
    }

    function _setStake(Stake storage stake, uint256 epoch, uint256 value) private {
        uint64 nextFrom = stake.nextFrom;
        if (epoch >= nextFrom) {
            stake.previous = stake.current;
            stake.currentFrom = nextFrom;
            stake.current = stake.next;
            stake.nextFrom = (epoch + 1).toUint64();
        }
        stake.next = value.toUint96();
    }
}
