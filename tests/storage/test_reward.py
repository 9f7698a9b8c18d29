"""Contract tests of ChunkLinearReward (`ape test`): attribution to pricing chunks, linear release, claims by
MINE_ROLE only, and pull-payment withdrawals. The `caller` EOA stands in for the market."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from tests.storage.conftest import (
    DEFAULT_ADMIN_ROLE,
    MINE_ROLE,
    PRICE,
    RELEASE_SECONDS,
    SECTORS_PER_CHUNK,
    ZERO_ADDRESS,
    Storage,
    submission,
)

CHUNK = SECTORS_PER_CHUNK
MINER_ID = keccak(text="miner 1")
#: Runtime code that reverts every call with empty data: a receiver that refuses native tokens.
REJECTING_CODE = "0x60006000fd"


@pytest.fixture
def reward(create_reward: Callable[..., Any], admin: Any, miner: Any) -> Any:
    pool = create_reward()
    pool.grantRole(MINE_ROLE, miner, sender=admin)
    return pool


def _fill(reward: Any, caller: Any, before: int, sectors: int, amount: int) -> Any:
    return reward.fillReward(before, sectors, sender=caller, value=amount)


def _deploy_revert_data(project: Any, chain: Any, sender: Any, *args: Any) -> str:
    data = (
        project.ChunkLinearReward.contract_type.deployment_bytecode.bytecode
        + encode(["address", "uint256", "uint256", "address"], args).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    return str(info.value.data)


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


# ---------------------------------------------------------------- constructor


def test_constructor__sets_parameters_and_roles(create_reward: Callable[..., Any], caller: Any, admin: Any) -> None:
    reward = create_reward()
    assert reward.market() == caller.address
    assert reward.sectorsPerPricingChunk() == CHUNK
    assert reward.releaseSeconds() == RELEASE_SECONDS
    assert reward.MINE_ROLE() == MINE_ROLE
    assert reward.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert not reward.hasRole(MINE_ROLE, admin)


@pytest.mark.parametrize(
    ("index", "value", "error"),
    [
        (0, ZERO_ADDRESS, "RewardZeroAddress()"),
        (3, ZERO_ADDRESS, "RewardZeroAddress()"),
        (1, 0, "RewardInvalidChunkSize()"),
        (2, 0, "RewardInvalidReleaseSeconds()"),
    ],
)
def test_constructor__invalid_argument_reverts(
    project: Any, chain: Any, admin: Any, caller: Any, index: int, value: Any, error: str
) -> None:
    args: list[Any] = [caller.address, CHUNK, RELEASE_SECONDS, admin.address]
    args[index] = value
    assert _deploy_revert_data(project, chain, admin, *args) == _selector(error)


# ---------------------------------------------------------------- fillReward


def test_fill_reward__inside_one_chunk_starts_its_clock(reward: Any, caller: Any) -> None:
    receipt = _fill(reward, caller, 100, 50, 5000)

    assert tuple(reward.rewards(0)) == (5000, 0, receipt.timestamp)
    assert tuple(reward.rewards(1)) == (0, 0, 0)
    assert reward.balance == 5000
    [filled] = reward.RewardFilled.from_receipt(receipt)
    assert filled.event_arguments == {"beforeLength": 100, "sectors": 50, "amount": 5000}


def test_fill_reward__across_two_chunks_is_proportional(reward: Any, caller: Any) -> None:
    # 100 sectors from CHUNK - 24: 24 in chunk 0, 76 in chunk 1.
    receipt = _fill(reward, caller, CHUNK - 24, 100, 1000)

    assert tuple(reward.rewards(0)) == (240, 0, receipt.timestamp)
    assert tuple(reward.rewards(1)) == (760, 0, receipt.timestamp)


def test_fill_reward__rounding_dust_goes_to_last_chunk(reward: Any, caller: Any) -> None:
    _fill(reward, caller, CHUNK - 24, 100, 1001)

    assert reward.rewards(0)[0] == 1001 * 24 // 100
    assert reward.rewards(1)[0] == 1001 - 1001 * 24 // 100
    assert reward.balance == 1001


def test_fill_reward__spanning_chunks_fills_middle_fully(reward: Any, caller: Any) -> None:
    # [CHUNK - 1000, 3·CHUNK + 1000): 1000 + CHUNK + CHUNK + 1000 sectors.
    sectors = 2 * CHUNK + 2000
    amount = sectors * 3
    _fill(reward, caller, CHUNK - 1000, sectors, amount)

    assert [reward.rewards(i)[0] for i in range(4)] == [3000, 3 * CHUNK, 3 * CHUNK, 3000]


def test_fill_reward__later_fill_keeps_start_time(reward: Any, caller: Any, chain: Any) -> None:
    first = _fill(reward, caller, 0, 10, 100)
    chain.pending_timestamp = first.timestamp + 50

    _fill(reward, caller, 10, 10, 300)

    assert tuple(reward.rewards(0)) == (400, 0, first.timestamp)


def test_fill_reward__zero_share_does_not_start_clock(reward: Any, caller: Any) -> None:
    receipt = _fill(reward, caller, CHUNK - 1, 100, 1)  # chunk 0's share rounds down to 0

    assert tuple(reward.rewards(0)) == (0, 0, 0)
    assert tuple(reward.rewards(1)) == (1, 0, receipt.timestamp)


def test_fill_reward__not_market_reverts(reward: Any, stranger: Any, admin: Any) -> None:
    for account in (stranger, admin):
        with ape.reverts(reward.RewardCallerNotMarket, caller=account.address):
            _fill(reward, account, 0, 1, 1)


def test_fill_reward__empty_range_reverts(reward: Any, caller: Any) -> None:
    with ape.reverts(reward.RewardEmptyRange):
        _fill(reward, caller, 0, 0, 1)


# ---------------------------------------------------------------- linear release


def test_releasable__grows_linearly_then_caps(reward: Any, caller: Any, chain: Any) -> None:
    start = _fill(reward, caller, 0, 10, 4000).timestamp
    assert reward.releasable(0) == 0

    for elapsed, expected in [(RELEASE_SECONDS // 4, 1000), (RELEASE_SECONDS // 2, 2000), (RELEASE_SECONDS, 4000)]:
        chain.pending_timestamp = start + elapsed
        chain.mine()
        assert reward.releasable(0) == expected
    chain.pending_timestamp = start + 3 * RELEASE_SECONDS
    chain.mine()
    assert reward.releasable(0) == 4000


def test_releasable__unfilled_chunk_is_zero(reward: Any) -> None:
    assert reward.releasable(7) == 0


def test_releasable__later_fill_releases_its_elapsed_share(reward: Any, caller: Any, chain: Any) -> None:
    start = _fill(reward, caller, 0, 10, 1000).timestamp
    chain.pending_timestamp = start + RELEASE_SECONDS // 2
    _fill(reward, caller, 10, 10, 1000)
    assert reward.releasable(0) == 1000  # half of the new total of 2000


# ---------------------------------------------------------------- claimMineReward


def test_claim_mine_reward__credits_released_amount(
    reward: Any, caller: Any, miner: Any, beneficiary: Any, chain: Any
) -> None:
    start = _fill(reward, caller, 0, 10, 4000).timestamp
    chain.pending_timestamp = start + RELEASE_SECONDS // 4

    receipt = reward.claimMineReward(0, beneficiary, MINER_ID, sender=miner)

    assert reward.balanceOf(beneficiary) == 1000
    assert tuple(reward.rewards(0)) == (4000, 1000, start)
    assert reward.releasable(0) == 0
    [distributed] = reward.RewardDistributed.from_receipt(receipt)
    assert distributed.event_arguments == {
        "pricingIndex": 0,
        "beneficiary": beneficiary.address,
        "minerId": MINER_ID,
        "amount": 1000,
    }
    assert reward.balance == 4000  # credited, not paid


def test_claim_mine_reward__second_claim_in_same_second_gets_nothing(
    reward: Any, caller: Any, miner: Any, beneficiary: Any, chain: Any
) -> None:
    start = _fill(reward, caller, 0, 10, 4000).timestamp
    chain.pending_timestamp = start + RELEASE_SECONDS // 2
    reward.claimMineReward(0, beneficiary, MINER_ID, sender=miner)
    chain.pending_timestamp = start + RELEASE_SECONDS // 2  # same second again

    receipt = reward.claimMineReward(0, beneficiary, MINER_ID, sender=miner)

    assert reward.RewardDistributed.from_receipt(receipt) == []
    assert reward.balanceOf(beneficiary) == 2000
    assert reward.rewards(0)[1] == 2000


def test_claim_mine_reward__later_claim_gets_only_the_increment(
    reward: Any, caller: Any, miner: Any, beneficiary: Any, stranger: Any, chain: Any
) -> None:
    start = _fill(reward, caller, 0, 10, 4000).timestamp
    chain.pending_timestamp = start + RELEASE_SECONDS // 4
    reward.claimMineReward(0, beneficiary, MINER_ID, sender=miner)
    chain.pending_timestamp = start + 2 * RELEASE_SECONDS

    reward.claimMineReward(0, stranger, MINER_ID, sender=miner)

    assert reward.balanceOf(beneficiary) == 1000
    assert reward.balanceOf(stranger) == 3000
    assert reward.rewards(0)[1] == 4000
    assert reward.releasable(0) == 0


def test_claim_mine_reward__unfilled_chunk_returns_zero(reward: Any, miner: Any, beneficiary: Any) -> None:
    assert reward.claimMineReward.call(3, beneficiary, MINER_ID, sender=miner) == 0
    receipt = reward.claimMineReward(3, beneficiary, MINER_ID, sender=miner)
    assert reward.RewardDistributed.from_receipt(receipt) == []
    assert reward.balanceOf(beneficiary) == 0


@pytest.mark.parametrize("role", ["admin", "caller", "stranger"])
def test_claim_mine_reward__without_mine_role_reverts(
    reward: Any, beneficiary: Any, request: pytest.FixtureRequest, role: str
) -> None:
    account = request.getfixturevalue(role)
    with ape.reverts(reward.AccessControlUnauthorizedAccount, account=account.address, neededRole=MINE_ROLE):
        reward.claimMineReward(0, beneficiary, MINER_ID, sender=account)


def test_claim_mine_reward__revoked_role_reverts(reward: Any, admin: Any, miner: Any, beneficiary: Any) -> None:
    reward.revokeRole(MINE_ROLE, miner, sender=admin)
    with ape.reverts(reward.AccessControlUnauthorizedAccount, account=miner.address, neededRole=MINE_ROLE):
        reward.claimMineReward(0, beneficiary, MINER_ID, sender=miner)


def test_claim_mine_reward__zero_beneficiary_reverts(reward: Any, miner: Any) -> None:
    with ape.reverts(reward.RewardZeroAddress):
        reward.claimMineReward(0, ZERO_ADDRESS, MINER_ID, sender=miner)


def test_grant_role__only_admin_grants_mine_role(reward: Any, stranger: Any) -> None:
    with ape.reverts(reward.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE):
        reward.grantRole(MINE_ROLE, stranger, sender=stranger)


# ---------------------------------------------------------------- withdraw


def _credit(reward: Any, caller: Any, miner: Any, to: Any, chain: Any, amount: int = 4000) -> None:
    start = _fill(reward, caller, 0, 10, amount).timestamp
    chain.pending_timestamp = start + RELEASE_SECONDS
    reward.claimMineReward(0, to, MINER_ID, sender=miner)


def test_withdraw__pays_credited_balance_and_emits(
    reward: Any, caller: Any, miner: Any, beneficiary: Any, chain: Any
) -> None:
    _credit(reward, caller, miner, beneficiary, chain)
    before = beneficiary.balance

    receipt = reward.withdraw(sender=beneficiary)

    assert beneficiary.balance == before + 4000 - receipt.total_fees_paid
    assert reward.balanceOf(beneficiary) == 0
    assert reward.balance == 0
    [withdrawn] = reward.Withdrawn.from_receipt(receipt)
    assert withdrawn.event_arguments == {"account": beneficiary.address, "amount": 4000}


def test_withdraw__twice_reverts(reward: Any, caller: Any, miner: Any, beneficiary: Any, chain: Any) -> None:
    _credit(reward, caller, miner, beneficiary, chain)
    reward.withdraw(sender=beneficiary)
    with ape.reverts(reward.RewardNothingToWithdraw, account=beneficiary.address):
        reward.withdraw(sender=beneficiary)


def test_withdraw__nothing_credited_reverts(reward: Any, stranger: Any) -> None:
    with ape.reverts(reward.RewardNothingToWithdraw, account=stranger.address):
        reward.withdraw(sender=stranger)


def test_withdraw__rejecting_receiver_reverts_and_keeps_credit(
    reward: Any, caller: Any, miner: Any, chain: Any, accounts: Any
) -> None:
    rejecting = accounts[6]
    _credit(reward, caller, miner, rejecting, chain)
    chain.provider.set_code(rejecting.address, REJECTING_CODE)
    try:
        with ape.reverts(reward.FailedCall):
            reward.withdraw(sender=rejecting)
        assert reward.balanceOf(rejecting) == 4000
    finally:
        chain.provider.set_code(rejecting.address, "0x")


# ---------------------------------------------------------------- through the flow


def test_fill_reward__through_flow_across_two_chunks(create_storage: Callable[..., Storage], user: Any) -> None:
    storage = create_storage(sectors_per_chunk=1024)
    flow = storage.flow
    flow.submit(submission([9], user), sender=user, value=512 * PRICE)  # [512, 1024): padding [1, 512)
    receipt = flow.submit(submission([10, 9], user), sender=user, value=1536 * PRICE)  # [1024, 2560)

    # Second fee covers [1024, 2560): 1024 sectors in chunk 1, 512 in chunk 2.
    assert storage.reward.rewards(0)[0] == 512 * PRICE
    assert storage.reward.rewards(1)[0] == 1024 * PRICE
    assert storage.reward.rewards(2)[0] == 512 * PRICE
    assert storage.reward.rewards(1)[2] == receipt.timestamp
    assert storage.reward.balance == 2048 * PRICE
