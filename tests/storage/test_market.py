"""Contract tests of FixedPriceMarket (`ape test`): bindings, price admin, and fee forwarding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector, keccak
from web3.exceptions import ContractCustomError

from tests.storage.conftest import DEFAULT_ADMIN_ROLE, PRICE, SECTORS_PER_CHUNK, ZERO_ADDRESS, Storage, submission

PRICE_PER_SECTOR_SELECTOR = "0x61ec5082"


@pytest.fixture
def market_and_reward(create_market: Callable[..., tuple[Any, Any]]) -> tuple[Any, Any]:
    return create_market()


@pytest.fixture
def market(market_and_reward: tuple[Any, Any]) -> Any:
    return market_and_reward[0]


@pytest.fixture
def reward(market_and_reward: tuple[Any, Any]) -> Any:
    return market_and_reward[1]


def _deploy_revert_data(project: Any, chain: Any, sender: Any, *args: Any) -> str:
    data = (
        project.FixedPriceMarket.contract_type.deployment_bytecode.bytecode
        + encode(["uint256", "address", "address", "address"], args).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    return str(info.value.data)


# ---------------------------------------------------------------- constructor and views


def test_abi__price_per_sector_selector_matches_0g_sdk(project: Any) -> None:
    [item] = [
        i.model_dump(mode="json", by_alias=True)
        for i in project.FixedPriceMarket.contract_type.abi
        if getattr(i, "name", None) == "pricePerSector"
    ]
    assert "0x" + function_abi_to_4byte_selector(item).hex() == PRICE_PER_SECTOR_SELECTOR


def test_constructor__sets_bindings_price_and_admin(market: Any, reward: Any, caller: Any, admin: Any) -> None:
    assert market.pricePerSector() == PRICE
    assert market.flow() == caller.address
    assert market.reward() == reward.address
    assert market.hasRole(DEFAULT_ADMIN_ROLE, admin)


def test_deploy_storage__binds_the_three_contracts(storage: Storage) -> None:
    assert storage.flow.market() == storage.market.address
    assert storage.market.flow() == storage.flow.address
    assert storage.market.reward() == storage.reward.address
    assert storage.reward.market() == storage.market.address


@pytest.mark.parametrize("zeroed", [1, 2, 3])
def test_constructor__zero_address_reverts(
    project: Any, chain: Any, admin: Any, caller: Any, reward: Any, zeroed: int
) -> None:
    args: list[Any] = [PRICE, caller.address, reward.address, admin.address]
    args[zeroed] = ZERO_ADDRESS
    assert _deploy_revert_data(project, chain, admin, *args) == "0x" + keccak(text="MarketZeroAddress()")[:4].hex()


# ---------------------------------------------------------------- price


def test_set_price_per_sector__updates_and_emits(market: Any, admin: Any) -> None:
    receipt = market.setPricePerSector(7 * PRICE, sender=admin)

    assert market.pricePerSector() == 7 * PRICE
    [updated] = market.PriceUpdated.from_receipt(receipt)
    assert (updated.previousPrice, updated.newPrice) == (PRICE, 7 * PRICE)


def test_set_price_per_sector__zero_is_allowed(market: Any, admin: Any) -> None:
    market.setPricePerSector(0, sender=admin)
    assert market.pricePerSector() == 0


@pytest.mark.parametrize("role", ["caller", "stranger"])
def test_set_price_per_sector__not_admin_reverts(market: Any, request: pytest.FixtureRequest, role: str) -> None:
    account = request.getfixturevalue(role)
    with ape.reverts(market.AccessControlUnauthorizedAccount, account=account.address, neededRole=DEFAULT_ADMIN_ROLE):
        market.setPricePerSector(1, sender=account)


# ---------------------------------------------------------------- chargeFee


def test_charge_fee__forwards_to_reward_over_padding_and_upload(market: Any, reward: Any, caller: Any) -> None:
    receipt = market.chargeFee(1000, 40, 8, sender=caller, value=40 * PRICE)

    [charged] = market.FeeCharged.from_receipt(receipt)
    assert (charged.beforeLength, charged.uploadSectors, charged.paddingSectors, charged.fee) == (1000, 40, 8, 40_000)
    assert market.balance == 0
    assert reward.balance == 40 * PRICE
    [filled] = reward.RewardFilled.from_receipt(receipt)
    assert (filled.beforeLength, filled.sectors, filled.amount) == (1000, 48, 40_000)
    assert reward.rewards(0)[0] == 40_000  # [1000, 1048) lies in chunk 0


def test_charge_fee__range_across_chunks_splits_fee(market: Any, reward: Any, caller: Any) -> None:
    before = SECTORS_PER_CHUNK - 10
    market.chargeFee(before, 30, 10, sender=caller, value=30 * PRICE)
    # 40 sectors: 10 in chunk 0, 30 in chunk 1.
    assert reward.rewards(0)[0] == 30 * PRICE * 10 // 40
    assert reward.rewards(1)[0] == 30 * PRICE * 30 // 40


def test_charge_fee__not_flow_reverts(market: Any, stranger: Any, admin: Any) -> None:
    for account in (stranger, admin):
        with ape.reverts(market.MarketCallerNotFlow, caller=account.address):
            market.chargeFee(1, 1, 0, sender=account, value=PRICE)


@pytest.mark.parametrize("delta", [-1, 1])
def test_charge_fee__wrong_value_reverts(market: Any, caller: Any, delta: int) -> None:
    with ape.reverts(market.MarketIncorrectFee, expected=4 * PRICE, received=4 * PRICE + delta):
        market.chargeFee(1, 4, 3, sender=caller, value=4 * PRICE + delta)


def test_charge_fee__zero_fee_is_not_forwarded(market: Any, reward: Any, caller: Any, admin: Any) -> None:
    market.setPricePerSector(0, sender=admin)

    receipt = market.chargeFee(1, 4, 3, sender=caller)

    [charged] = market.FeeCharged.from_receipt(receipt)
    assert charged.fee == 0
    assert reward.RewardFilled.from_receipt(receipt) == []
    assert reward.rewards(0) == (0, 0, 0)


def test_charge_fee__through_flow_reaches_reward(storage: Storage, user: Any) -> None:
    receipt = storage.flow.submit(submission([3], user), sender=user, value=8 * PRICE)

    [charged] = storage.market.FeeCharged.from_receipt(receipt)
    assert (charged.beforeLength, charged.uploadSectors, charged.paddingSectors) == (1, 8, 7)
    assert storage.reward.rewards(0)[0] == 8 * PRICE
