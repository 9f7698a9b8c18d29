"""Contract tests of DASigners (`ape test`): genesis, registration with proof of possession, epochs, stake-weighted
columns, stake, sockets, leaving and withdrawing, slot reuse, the quorum aggregate, and every revert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from web3.exceptions import ContractCustomError

from tests.da.conftest import (
    EPOCH_BLOCKS,
    MIN_STAKE,
    QUORUMS,
    STAKE,
    WITHDRAW_DELAY,
    ZERO_ADDRESS,
    advance_to_epoch,
    chain_id,
    genesis_row,
    keys,
    pop,
)
from zerog.chain import ErrorDecoder
from zerog.da.bls import G1, G2, P, aggregate_g1
from zerog.da.contracts import EpochSigner, assign_columns, assign_quorums, quorum_count, registration_digest

#: The constructor: Parameters (epochBlocks, minStake, withdrawDelayEpochs, quorums, slasher), the genesis set.
GENESIS_TYPES = [
    "(uint256,uint256,uint256,(uint256,uint256),address)",
    "(address,(uint256,uint256),(uint256[2],uint256[2]),(uint256,uint256),string,uint256)[]",
]
MAX_SIGNERS = 32


def deploy_revert(project: Any, chain: Any, sender: Any, args: list[Any], value: int = 0) -> str:
    """The decoded custom error of deploying DASigners with `args` = [epochBlocks, minStake, withdrawDelayEpochs,
    quorums, genesis] and no slasher (ape leaves constructor errors undecoded)."""
    contract_type = project.DASigners.contract_type
    *params, genesis = args
    data = contract_type.deployment_bytecode.bytecode + encode(GENESIS_TYPES, [(*params, ZERO_ADDRESS), genesis]).hex()
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data, "value": value})
    abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
    return ErrorDecoder.from_abis([abi]).decode(info.value.data) or str(info.value.data)


def point(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1]))


def g2(value: Any) -> tuple[list[int], list[int]]:
    return ([int(c) for c in value[0]], [int(c) for c in value[1]])


def members_of(view: Any) -> list[EpochSigner]:
    """The members of a `signers()` / `nextSigners()` answer, parsed as the client parses them."""
    return [EpochSigner.from_chain(row) for row in view[1]]


def members_at(registry: Any, epoch: int) -> list[EpochSigner]:
    return [EpochSigner.from_chain(row) for row in registry.signersAt(epoch)]


def columns_of(members: list[EpochSigner]) -> list[tuple[int, int]]:
    return [(m.columns.start, len(m.columns)) for m in members]


@pytest.fixture
def four(create_registry: Callable[..., Any], signer_accounts: list[Any]) -> Any:
    """Four genesis signers, equal stakes."""
    return create_registry(signer_accounts[:4])


def register(
    registry: Any, chain: Any, account: Any, key_id: int, stake: int = STAKE, socket: str = "http://new.test"
) -> Any:
    key = keys(key_id)
    return registry.register(
        key.pk1.to_contract(),
        key.pk2.to_contract(),
        pop(chain, registry, account, key),
        socket,
        sender=account,
        value=stake,
    )


# ---------------------------------------------------------------- genesis


def test_constructor__genesis_members_from_epoch_0_with_equal_columns(four: Any, signer_accounts: list[Any]) -> None:
    epoch = four.signers()[0]
    members = members_of(four.signers())
    assert epoch == 0 and four.epoch() == 0
    assert [m.account for m in members] == [a.address for a in signer_accounts[:4]]
    assert [m.slot for m in members] == [0, 1, 2, 3]
    assert columns_of(members) == [(0, 32), (32, 32), (64, 32), (96, 32)]
    assert [m.pk1 for m in members] == [keys(k).pk1 for k in range(4)]
    assert [m.pk2 for m in members] == [keys(k).pk2 for k in range(4)]
    assert four.balance == 4 * STAKE
    assert (four.epochBlocks(), four.minStake(), four.withdrawDelayEpochs()) == (
        EPOCH_BLOCKS,
        MIN_STAKE,
        WITHDRAW_DELAY,
    )
    assert (four.maxSigners(), four.columnsPerBlob()) == (MAX_SIGNERS, 128)
    events = four.SignerRegistered.from_receipt(four.creation_metadata.receipt)
    assert [(e.account, e.slot, e.stake, e.activeFromEpoch) for e in events] == [
        (a.address, i, STAKE, 0) for i, a in enumerate(signer_accounts[:4])
    ]
    assert point(events[2].pkG1) == keys(2).pk1.to_contract()
    assert g2(events[2].pkG2) == keys(2).pk2.to_contract()


def test_constructor__zero_epoch_blocks_reverts(project: Any, chain: Any, admin: Any) -> None:
    assert deploy_revert(project, chain, admin, [0, MIN_STAKE, 1, QUORUMS, []]) == "DASignersInvalidEpochBlocks()"


def test_constructor__zero_min_stake_reverts(project: Any, chain: Any, admin: Any) -> None:
    """With no minimum, anyone fills every slot for nothing."""
    assert deploy_revert(project, chain, admin, [EPOCH_BLOCKS, 0, 1, QUORUMS, []]) == "DASignersZeroMinStake()"


def test_constructor__value_must_pay_the_genesis_stakes(
    project: Any, chain: Any, admin: Any, signer_accounts: list[Any]
) -> None:
    from scripts.deploy import create_address

    at = create_address(admin.address, admin.nonce)
    rows = [genesis_row(chain, at, signer_accounts[0], keys(0))]
    reason = deploy_revert(project, chain, admin, [EPOCH_BLOCKS, MIN_STAKE, 1, QUORUMS, rows], value=STAKE - 1)
    assert reason == f"DASignersGenesisValueMismatch(sent={STAKE - 1}, required={STAKE})"


def test_constructor__genesis_proof_of_possession_is_checked(
    project: Any, chain: Any, admin: Any, signer_accounts: list[Any]
) -> None:
    from scripts.deploy import create_address

    at = create_address(admin.address, admin.nonce)
    row = list(genesis_row(chain, at, signer_accounts[0], keys(0)))
    row[3] = (
        keys(1).sign(registration_digest(chain_id(chain), at, signer_accounts[0].address, keys(0).pk1)).to_contract()
    )
    reason = deploy_revert(project, chain, admin, [EPOCH_BLOCKS, MIN_STAKE, 1, QUORUMS, [tuple(row)]], value=STAKE)
    assert reason == f"DASignersInvalidProofOfPossession(account={signer_accounts[0].address})"


def test_constructor__more_than_max_signers_reverts(
    project: Any, chain: Any, admin: Any, signer_accounts: list[Any]
) -> None:
    row = genesis_row(chain, admin.address, signer_accounts[0], keys(0))
    reason = deploy_revert(project, chain, admin, [EPOCH_BLOCKS, MIN_STAKE, 1, QUORUMS, [row] * (MAX_SIGNERS + 1)])
    assert reason == f"DASignersTooManySigners(maxSigners={MAX_SIGNERS})"


# ---------------------------------------------------------------- registration


def test_register__member_from_next_epoch(four: Any, chain: Any, accounts: Any) -> None:
    newcomer = accounts[7]
    tx = register(four, chain, newcomer, 7, stake=4 * STAKE, socket="http://late.test:1")
    [event] = four.SignerRegistered.from_receipt(tx)
    assert (event.account, event.slot, event.socket, event.stake, event.activeFromEpoch) == (
        newcomer.address, 4, "http://late.test:1", 4 * STAKE, 1,
    )  # fmt: skip
    assert len(four.signers()[1]) == 4  # this epoch's set is fixed
    assert four.nextSigners()[0] == 1
    assert [m.account for m in members_of(four.nextSigners())][-1] == newcomer.address
    info = four.signerOf(newcomer.address)
    assert (info.registered, info.slot, info.stake, info.nextStake, info.activeFromEpoch) == (True, 4, 0, 4 * STAKE, 1)

    advance_to_epoch(chain, four, 1)
    members = members_of(four.signers())
    assert [m.slot for m in members] == [0, 1, 2, 3, 4]
    assert four.signerOf(newcomer.address).stake == 4 * STAKE
    # Stake-weighted: 1:1:1:1:4 of 128 columns, in slot order.
    expected = assign_columns([STAKE] * 4 + [4 * STAKE])
    assert (
        columns_of(members)
        == [(r.start, len(r)) for r in expected]
        == [(0, 16), (16, 16), (32, 16), (48, 16), (64, 64)]
    )


def test_register__columns_follow_stake_exactly_as_the_client_computes(
    create_registry: Callable[..., Any], signer_accounts: list[Any]
) -> None:
    stakes = [STAKE, 2 * STAKE, 3 * STAKE + 7, 5 * STAKE]
    registry = create_registry(signer_accounts[:4], stakes)
    members = members_of(registry.signers())
    assert columns_of(members) == [(r.start, len(r)) for r in assign_columns(stakes)]
    assert sum(c for _, c in columns_of(members)) == 128


def test_assign_columns__all_zero_stakes_get_no_columns_instead_of_dividing_by_zero() -> None:
    # DASigners cannot hold such a set any more (the minimum stake is not zero); its column split still guards.
    assert assign_columns([0, 0]) == [range(0, 0), range(0, 0)]


def test_register__without_valid_proof_of_possession_reverts(four: Any, chain: Any, accounts: Any) -> None:
    newcomer, other = accounts[7], accounts[8]
    key = keys(7)
    digest = registration_digest(chain_id(chain), four.address, newcomer.address, key.pk1)
    forged = {
        # Signed by another key.
        "wrong key": keys(8).sign(digest).to_contract(),
        # A valid proof, but for another account (replayed).
        "other account": pop(chain, four, other, key),
        # A proof over another message.
        "wrong message": key.sign(b"\x01" * 32).to_contract(),
    }
    for proof in forged.values():
        with ape.reverts(four.DASignersInvalidProofOfPossession, account=newcomer.address):
            four.register(key.pk1.to_contract(), key.pk2.to_contract(), proof, "http://x", sender=newcomer, value=STAKE)
    # pk2 of another secret: the proof verifies against pk1 but the pairing ties pk1 to pk2.
    with ape.reverts(four.DASignersInvalidProofOfPossession, account=newcomer.address):
        four.register(key.pk1.to_contract(), keys(8).pk2.to_contract(), pop(chain, four, newcomer, key), "http://x",
                      sender=newcomer, value=STAKE)  # fmt: skip


def test_register__invalid_public_keys_revert(four: Any, chain: Any, accounts: Any) -> None:
    newcomer = accounts[7]
    key = keys(7)
    proof = pop(chain, four, newcomer, key)
    x, y = key.pk1.to_contract()
    # Infinity, off the curve, coordinates not reduced mod p.
    for pk1 in [(0, 0), (x, y + 1), (x + P, y)]:
        with ape.reverts(four.DASignersInvalidPublicKey):
            four.register(pk1, key.pk2.to_contract(), proof, "http://x", sender=newcomer, value=STAKE)
    with ape.reverts(four.DASignersInvalidPublicKey):
        four.register(key.pk1.to_contract(), ([0, 0], [0, 0]), proof, "http://x", sender=newcomer, value=STAKE)
    # A G2 point off the twist: the pairing precompile rejects it.
    bad_pk2 = ([1, 2], [3, 4])
    with ape.reverts(four.DASignersInvalidProofOfPossession, account=newcomer.address):
        four.register(key.pk1.to_contract(), bad_pk2, proof, "http://x", sender=newcomer, value=STAKE)


def test_register__twice_low_stake_bad_socket_revert(
    four: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    member = signer_accounts[0]
    with ape.reverts(four.DASignersAlreadyRegistered, account=member.address):
        register(four, chain, member, 0)
    newcomer = accounts[7]
    with ape.reverts(four.DASignersStakeTooLow, stake=MIN_STAKE - 1, minStake=MIN_STAKE):
        register(four, chain, newcomer, 7, stake=MIN_STAKE - 1)
    with ape.reverts(four.DASignersInvalidSocket, length=0, maxLength=256):
        register(four, chain, newcomer, 7, socket="")
    with ape.reverts(four.DASignersInvalidSocket, length=257, maxLength=256):
        register(four, chain, newcomer, 7, socket="h" * 257)


def test_register__key_of_another_account_reverts(
    four: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    # Whoever holds the secret can prove possession for any account, but a key has one owner.
    with ape.reverts(four.DASignersKeyInUse, owner=signer_accounts[0].address):
        register(four, chain, accounts[7], 0)


@pytest.fixture(scope="module")
def full(create_registry: Callable[..., Any], signer_accounts: list[Any]) -> Any:
    """A full genesis set: slot 0 is signer_accounts[0] with the smallest stake, slots 1..31 addresses that never
    transact with twice as much (each test's changes are rolled back)."""
    members = [signer_accounts[0], *(f"0x{0xDA00 + i:040x}" for i in range(1, MAX_SIGNERS))]
    stakes = [STAKE] + [2 * STAKE] * (MAX_SIGNERS - 1)
    return create_registry(members, stakes, key_ids=range(100, 100 + MAX_SIGNERS))


def test_register__full_set_admits_a_larger_stake_and_evicts_the_smallest_next_epoch(
    full: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    smallest, newcomer = signer_accounts[0], accounts[7]
    tx = register(full, chain, newcomer, 7, stake=STAKE + 1)
    withdrawable = 1 + WITHDRAW_DELAY
    [evicted] = full.SignerEvicted.from_receipt(tx)
    assert evicted.event_arguments == {
        "account": smallest.address, "newcomer": newcomer.address, "stake": STAKE, "lastEpoch": 0,
        "withdrawableEpoch": withdrawable,
    }  # fmt: skip
    [registered] = full.SignerRegistered.from_receipt(tx)
    assert (registered.account, registered.activeFromEpoch) == (newcomer.address, 1)
    # This epoch's set is fixed; the next one has the newcomer instead.
    assert [m.account for m in members_of(full.signers())][0] == smallest.address
    next_accounts = [m.account for m in members_of(full.nextSigners())]
    assert len(next_accounts) == MAX_SIGNERS and smallest.address not in next_accounts
    info = full.signerOf(smallest.address)
    assert (info.leaving, info.stake, info.nextStake, info.withdrawableEpoch) == (True, STAKE, 0, withdrawable)
    with ape.reverts(full.DASignersLeaving, account=smallest.address):
        full.addStake(sender=smallest, value=STAKE)

    advance_to_epoch(chain, full, 1)
    accounts_now = [m.account for m in members_of(full.signers())]
    assert len(accounts_now) == MAX_SIGNERS and newcomer.address in accounts_now
    assert smallest.address not in accounts_now
    with ape.reverts(full.DASignersWithdrawalLocked, withdrawableEpoch=withdrawable, epoch=1):
        full.withdraw(sender=smallest)
    advance_to_epoch(chain, full, withdrawable)
    before = smallest.balance
    tx = full.withdraw(sender=smallest)
    assert full.StakeWithdrawn.from_receipt(tx)[0].amount == STAKE
    assert smallest.balance == before + STAKE - tx.total_fees_paid


def test_register__full_set_refuses_a_stake_not_above_the_smallest_of_the_next_epoch(
    full: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    first, second = accounts[7], accounts[8]
    for stake in (STAKE, MIN_STAKE):
        with ape.reverts(full.DASignersStakeTooLowToEvict, stake=stake, smallestStake=STAKE):
            register(full, chain, first, 7, stake=stake)
    # Newcomers of one epoch compete with each other: the first is now the smallest of the next set.
    register(full, chain, first, 7, stake=STAKE + 1)
    with ape.reverts(full.DASignersStakeTooLowToEvict, stake=STAKE + 1, smallestStake=STAKE + 1):
        register(full, chain, second, 8, stake=STAKE + 1)
    tx = register(full, chain, second, 8, stake=STAKE + 2)
    assert full.SignerEvicted.from_receipt(tx)[0].account == first.address
    # The first newcomer never served: its slot is free at once and it withdraws after the usual delay.
    assert full.signerOf(second.address).slot == full.signerOf(first.address).slot
    assert full.signerOf(first.address).withdrawableEpoch == 1 + WITHDRAW_DELAY
    next_accounts = [m.account for m in members_of(full.nextSigners())]
    assert second.address in next_accounts and first.address not in next_accounts
    assert signer_accounts[0].address not in next_accounts


def test_register__member_that_raised_its_stake_is_not_evicted(
    full: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    full.addStake(sender=signer_accounts[0], value=2 * STAKE)
    with ape.reverts(full.DASignersStakeTooLowToEvict, stake=2 * STAKE, smallestStake=2 * STAKE):
        register(full, chain, accounts[7], 7, stake=2 * STAKE)
    # Among equal smallest stakes, the lowest slot goes.
    tx = register(full, chain, accounts[7], 7, stake=2 * STAKE + 1)
    assert full.SignerEvicted.from_receipt(tx)[0].account == to_checksum_address(f"0x{0xDA01:040x}")
    assert not full.signerOf(signer_accounts[0].address).leaving


# ---------------------------------------------------------------- stake and socket


def test_add_stake__effective_next_epoch(four: Any, chain: Any, signer_accounts: list[Any]) -> None:
    member = signer_accounts[1]
    tx = four.addStake(sender=member, value=2 * STAKE)
    [event] = four.StakeAdded.from_receipt(tx)
    assert (event.account, event.amount, event.newStake, event.effectiveEpoch) == (
        member.address,
        2 * STAKE,
        3 * STAKE,
        1,
    )
    four.addStake(sender=member, value=STAKE)  # a second change in the same epoch adds up
    info = four.signerOf(member.address)
    assert (info.stake, info.nextStake) == (STAKE, 4 * STAKE)
    assert columns_of(members_of(four.signers()))[1] == (32, 32)
    advance_to_epoch(chain, four, 1)
    assert four.signerOf(member.address).stake == 4 * STAKE
    assert columns_of(members_of(four.signers())) == [(0, 18), (18, 73), (91, 18), (109, 19)]
    assert four.balance == 7 * STAKE


def test_add_stake__reverts(four: Any, accounts: Any, signer_accounts: list[Any]) -> None:
    with ape.reverts(four.DASignersNotRegistered, account=accounts[7].address):
        four.addStake(sender=accounts[7], value=STAKE)
    with ape.reverts(four.DASignersNoValue):
        four.addStake(sender=signer_accounts[0])
    four.requestLeave(sender=signer_accounts[0])
    with ape.reverts(four.DASignersLeaving, account=signer_accounts[0].address):
        four.addStake(sender=signer_accounts[0], value=STAKE)


def test_update_socket__immediate_and_checked(four: Any, accounts: Any, signer_accounts: list[Any]) -> None:
    tx = four.updateSocket("http://moved.test:9", sender=signer_accounts[2])
    [event] = four.SocketUpdated.from_receipt(tx)
    assert (event.account, event.socket) == (signer_accounts[2].address, "http://moved.test:9")
    assert members_of(four.signers())[2].socket == "http://moved.test:9"
    assert four.signerOf(signer_accounts[2].address).socket == "http://moved.test:9"
    with ape.reverts(four.DASignersNotRegistered, account=accounts[7].address):
        four.updateSocket("http://x", sender=accounts[7])
    with ape.reverts(four.DASignersInvalidSocket, length=0, maxLength=256):
        four.updateSocket("", sender=signer_accounts[2])


# ---------------------------------------------------------------- leaving


def test_leave__member_through_this_epoch_then_withdraw_after_delay(
    four: Any, chain: Any, signer_accounts: list[Any]
) -> None:
    leaver = signer_accounts[3]
    tx = four.requestLeave(sender=leaver)
    withdrawable = 1 + WITHDRAW_DELAY
    [event] = four.LeaveRequested.from_receipt(tx)
    assert (event.account, event.lastEpoch, event.withdrawableEpoch) == (leaver.address, 0, withdrawable)
    assert len(four.signers()[1]) == 4 and len(four.nextSigners()[1]) == 3
    info = four.signerOf(leaver.address)
    assert (info.leaving, info.stake, info.nextStake, info.withdrawableEpoch) == (True, STAKE, 0, withdrawable)
    with ape.reverts(four.DASignersLeaving, account=leaver.address):
        four.requestLeave(sender=leaver)
    with ape.reverts(four.DASignersWithdrawalLocked, withdrawableEpoch=withdrawable, epoch=0):
        four.withdraw(sender=leaver)

    advance_to_epoch(chain, four, 1)
    members = members_of(four.signers())
    assert [m.slot for m in members] == [0, 1, 2]
    assert columns_of(members) == [(0, 42), (42, 43), (85, 43)]
    with ape.reverts(four.DASignersWithdrawalLocked, withdrawableEpoch=withdrawable, epoch=1):
        four.withdraw(sender=leaver)

    advance_to_epoch(chain, four, withdrawable)
    before = leaver.balance
    tx = four.withdraw(sender=leaver)
    [event] = four.StakeWithdrawn.from_receipt(tx)
    assert (event.account, event.amount) == (leaver.address, STAKE)
    assert leaver.balance == before + STAKE - tx.total_fees_paid
    assert not four.signerOf(leaver.address).registered
    with ape.reverts(four.DASignersNotRegistered, account=leaver.address):
        four.withdraw(sender=leaver)
    # The same account comes back with the same key.
    register(four, chain, leaver, 3)
    assert four.signerOf(leaver.address).registered


def test_leave__reverts_for_strangers_and_withdraw_without_leaving(
    four: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    with ape.reverts(four.DASignersNotRegistered, account=accounts[7].address):
        four.requestLeave(sender=accounts[7])
    with ape.reverts(four.DASignersNotLeaving, account=signer_accounts[0].address):
        four.withdraw(sender=signer_accounts[0])


def test_leave__slot_is_reused_only_once_no_readable_epoch_holds_it(
    four: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    four.requestLeave(sender=signer_accounts[1])
    # Still a member this epoch: a newcomer gets a fresh slot, not slot 1.
    register(four, chain, accounts[7], 7)
    assert four.signerOf(accounts[7].address).slot == 4
    # A member of the previous epoch, whose attestations still count for a few blocks: slot 1 stays taken.
    advance_to_epoch(chain, four, 1)
    register(four, chain, accounts[9], 9)
    assert four.signerOf(accounts[9].address).slot == 5
    advance_to_epoch(chain, four, 2)
    register(four, chain, accounts[8], 8)
    assert four.signerOf(accounts[8].address).slot == 1
    # Epochs 1 and 2 are untouched by the slot's new owner; epoch 3 has it.
    assert [m.slot for m in members_at(four, 1)] == [0, 2, 3, 4]
    assert [m.slot for m in members_of(four.signers())] == [0, 2, 3, 4, 5]
    assert [m.account for m in members_of(four.nextSigners())][1] == accounts[8].address
    assert four.signerOf(signer_accounts[1].address).stake == 0


# ---------------------------------------------------------------- quorum aggregate and digests


def test_quorum__signed_stake_and_key_sum_of_a_bitmap(
    create_registry: Callable[..., Any], signer_accounts: list[Any]
) -> None:
    stakes = [STAKE, 2 * STAKE, 3 * STAKE, 4 * STAKE]
    registry = create_registry(signer_accounts[:4], stakes)
    for bitmap in (0b1111, 0b1011, 0b0100):
        q = registry.quorum(0, 0, bitmap)
        slots = [k for k in range(4) if bitmap >> k & 1]
        assert (q.quorumCount, q.members, q.totalStake, q.valid) == (1, 0b1111, sum(stakes), True)
        assert q.signedStake == sum(stakes[k] for k in slots)
        assert point(q.apk) == aggregate_g1(keys(k).pk1 for k in slots).to_contract()
        assert list(q.accounts) == [signer_accounts[k].address for k in slots]
        assert list(q.stakes) == [stakes[k] for k in slots]
    for bitmap in (0, 0b10000, 1 << 255):
        q = registry.quorum(0, 0, bitmap)
        assert (q.signedStake, point(q.apk), q.valid, list(q.accounts)) == (0, (0, 0), False, [])
    q = registry.quorum(0, 1, 0b1111)  # no quorum 1
    assert (q.quorumCount, q.members, q.totalStake, q.valid) == (1, 0, 0, False)


def test_quorums__stake_balanced_serpentine_assignment_matches_python(
    create_registry: Callable[..., Any], accounts: Any
) -> None:
    """Eight signers, at most 4 quorums of at least 2: 4 quorums of 2, dealt by stake 0,1,2,3,3,2,1,0."""
    members = [f"0x{0xDB00 + i:040x}" for i in range(8)]
    stakes = [3, 8, 1, 5, 5, 2, 7, 4]
    registry = create_registry(members, [s * STAKE for s in stakes], quorums=(4, 2))
    assert (registry.maxQuorums(), registry.minSignersPerQuorum(), registry.quorumCount(0)) == (4, 2, 4)
    expected = assign_quorums({slot: s for slot, s in enumerate(stakes)}, 4)
    # Ranks by stake: slot 1 (8), 6 (7), 3 (5), 4 (5, tie: the higher slot after), 7 (4), 0 (3), 5 (2), 2 (1).
    assert expected == {1: 0, 6: 1, 3: 2, 4: 3, 7: 3, 0: 2, 5: 1, 2: 0}
    bitmaps = list(registry.quorumMembers(0))
    assert bitmaps == [sum(1 << s for s in expected if expected[s] == q) for q in range(4)]
    members_ = members_at(registry, 0)
    assert [m.quorum_id for m in members_] == [expected[m.slot] for m in members_]
    for q in range(4):  # the columns are shared by stake within each quorum
        mine = [m for m in members_ if m.quorum_id == q]
        ranges = assign_columns([m.stake for m in mine])
        assert [m.columns for m in mine] == ranges and sum(len(r) for r in ranges) == 128
        agg = registry.quorum(0, q, bitmaps[q])
        assert (agg.quorumCount, agg.valid, agg.totalStake) == (4, True, sum(m.stake for m in mine))
        assert point(agg.apk) == aggregate_g1(keys(m.slot).pk1 for m in mine).to_contract()
    # A bitmap reaching into another quorum is invalid.
    assert not registry.quorum(0, 0, bitmaps[0] | bitmaps[1]).valid


@pytest.mark.parametrize(("signers", "expected"), [(0, 1), (1, 1), (3, 1), (4, 1), (7, 1), (8, 2), (16, 4), (32, 4)])
def test_quorums__count_follows_the_set_size(signers: int, expected: int) -> None:
    assert quorum_count(signers, 4, 4) == expected


def test_constructor__quorum_parameters_are_checked(project: Any, chain: Any, admin: Any) -> None:
    for quorums in ((0, 1), (MAX_SIGNERS + 1, 1), (1, 0)):
        reason = deploy_revert(project, chain, admin, [EPOCH_BLOCKS, MIN_STAKE, 1, quorums, []])
        assert reason == f"DASignersInvalidQuorumParameters(maxQuorums={quorums[0]}, minSignersPerQuorum={quorums[1]})"


def test_quorum__previous_current_and_next_epoch_readable_others_revert(
    four: Any, chain: Any, signer_accounts: list[Any]
) -> None:
    """Every change made in epoch 1 (which rolls the stored versions) leaves epoch 0's set readable."""
    four.addStake(sender=signer_accounts[0], value=STAKE)  # 2:1:1:1 from epoch 1
    advance_to_epoch(chain, four, 1)
    four.addStake(sender=signer_accounts[0], value=STAKE)  # 3:1:1:1 from epoch 2
    four.requestLeave(sender=signer_accounts[3])
    totals = {0: 4 * STAKE, 1: 5 * STAKE, 2: 5 * STAKE}
    for epoch, total in totals.items():
        assert four.quorum(epoch, 0, 0b0111).totalStake == total
    assert four.quorum(2, 0, 0b1111).valid is False  # slot 3 left
    assert [m.stake for m in members_at(four, 0)] == [STAKE] * 4
    assert [m.stake for m in members_at(four, 1)] == [2 * STAKE] + [STAKE] * 3
    assert [m.stake for m in members_at(four, 2)] == [3 * STAKE] + [STAKE] * 2
    advance_to_epoch(chain, four, 3)
    for epoch in (0, 5):
        with ape.reverts(four.DASignersEpochUnavailable, epochNumber=epoch, currentEpoch=3):
            four.quorum(epoch, 0, 0b0111)
        with ape.reverts(four.DASignersEpochUnavailable, epochNumber=epoch, currentEpoch=3):
            four.signersAt(epoch)


def test_registration_digest__matches_python(four: Any, chain: Any, accounts: Any) -> None:
    pk1 = keys(5).pk1
    digest = four.registrationDigest(accounts[7].address, pk1.to_contract())
    assert bytes(digest) == registration_digest(chain_id(chain), four.address, accounts[7].address, pk1)
    assert G1.from_contract(pk1.to_contract()) == pk1 and G2.from_contract(keys(5).pk2.to_contract()) == keys(5).pk2
