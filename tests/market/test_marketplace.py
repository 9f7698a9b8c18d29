"""Contract tests of the Marketplace (`ape test`): listing and its field limits, updates and delisting, public
purchases paid at once and private ones escrowed until a grant or reclaimed after the timeout, free grants and
re-grants, pull payments with exact balances, the fee (only future purchases), access, and InferenceServing
services linked to models, on one deployment per module (ape reverts each test's transactions)."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak

from scripts.deploy import deploy_compute, deploy_market

GRANT_TIMEOUT = 3600
FEE_BPS = 250
BPS = 10_000
MAX_FEE_BPS = 1000
PRICE = 10**16
FEE = PRICE * FEE_BPS // BPS
SIZE = 123_456
STAKE = 10**18
MIN_STAKE = 10**17
MODEL = "zg-bytelm-tiny"
DATASET = "chat.jsonl"
MAX_UINT128 = 2**128 - 1
MAX_UINT256 = 2**256 - 1
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = b"\x00" * 32
MODEL_KIND, DATASET_KIND = 0, 1
#: A sealed key as long as an ECIES seal of a 32-byte key: compressed ephemeral key (33), nonce (12), key (32),
#: tag (16). The contract never looks inside.
SEALED_KEY = b"\x02" + keccak(text="sealed") * 2 + keccak(text="key")[:28]
#: The listings every test starts with, in the order the `market` fixture lists them, and the next id.
PUBLIC_ID, PRIVATE_ID, DATASET_ID, NEW_ID = 1, 2, 3, 4


def root(i: int) -> bytes:
    return keccak(text=f"root {i}")


def params(**changes: Any) -> tuple[Any, ...]:
    """A ListingParams tuple: a public model unless `changes` say otherwise."""
    fields: dict[str, Any] = {
        "kind": MODEL_KIND,
        "isPrivate": False,
        "price": PRICE,
        "size": SIZE,
        "contentHash": keccak(text="content"),
        "roots": [root(1)],
        "name": MODEL,
        "description": "a tiny byte-level LM",
        "license": "MIT",
        "format": "zg-bytelm",
    }
    unknown = set(changes) - set(fields)
    assert not unknown, unknown
    return tuple({**fields, **changes}.values())


def service(signer: Any, model: str = MODEL) -> tuple[Any, ...]:
    """InferenceServing ServiceParams: a chatbot with signed receipts serving `model`."""
    return (0, 1, "http://127.0.0.1:8700", model, 1, 1, signer.address)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deployer(accounts: Any) -> Any:
    """Admin and fee recipient, as scripts/deploy.py makes them."""
    return accounts[0]


@pytest.fixture(scope="module")
def lister(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="module")
def buyer(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="module")
def other(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="module")
def provider(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="module")
def signer(accounts: Any) -> Any:
    """The providers' receipt signer (never checked here)."""
    return accounts[5]


@pytest.fixture(scope="module")
def stranger(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="module")
def providers(accounts: Any, provider: Any) -> list[Any]:
    return [provider, accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def serving(deployer: Any) -> Any:
    deployed = deploy_compute(
        deployer,
        refund_lock=GRANT_TIMEOUT,
        min_stake=MIN_STAKE,
        ack_timeout=GRANT_TIMEOUT,
        unacknowledged_share_bps=0,
        timeout_slash_bps=0,
    )
    return deployed["InferenceServing"][0]


@pytest.fixture(scope="module")
def market(deployer: Any, serving: Any, lister: Any) -> Any:
    """The Marketplace exactly as scripts/deploy.py deploys it, then with the listings every test starts with: a public
    model, a private model (same name) and a public dataset, ids 1 to 3."""
    market = deploy_market(deployer, serving, fee_bps=FEE_BPS, grant_timeout=GRANT_TIMEOUT)["Marketplace"][0]
    market.list(params(), sender=lister)
    market.list(params(isPrivate=True, roots=[root(2), root(3)]), sender=lister)
    market.list(params(kind=DATASET_KIND, name=DATASET, format="jsonl-chat", roots=[root(4)]), sender=lister)
    return market


@pytest.fixture(scope="module")
def registered(serving: Any, providers: list[Any], signer: Any) -> Any:
    """Every provider serves MODEL."""
    for who in providers:
        serving.registerService(service(signer), sender=who, value=STAKE)
    return serving


@pytest.fixture
def escrowed(market: Any, buyer: Any) -> Any:
    """`buyer`'s escrowed purchase of the private model (its receipt)."""
    return market.buy(PRIVATE_ID, sender=buyer, value=PRICE)


# ---------------------------------------------------------------- deployment


def test_deploy__parameters_roles_and_constants(market: Any, serving: Any, deployer: Any) -> None:
    assert market.serving() == serving.address
    assert market.grantTimeout() == GRANT_TIMEOUT
    assert market.fee() == (FEE_BPS, deployer.address)
    assert market.hasRole(DEFAULT_ADMIN_ROLE, deployer)
    assert market.listingCount() == DATASET_ID
    assert (market.MAX_FEE_BPS(), market.BPS(), market.MAX_ROOTS(), market.MAX_SEALED_KEY()) == (1000, BPS, 64, 256)
    assert (market.MAX_NAME(), market.MAX_DESCRIPTION(), market.MAX_LICENSE(), market.MAX_FORMAT()) == (
        64,
        1024,
        64,
        64,
    )
    assert market.MAX_PRICE() == MAX_UINT128
    [event] = market.FeeUpdated.from_receipt(market.creation_metadata.receipt)
    assert event.event_arguments == {"feeBps": FEE_BPS, "recipient": deployer.address}


@pytest.mark.parametrize(
    ("change", "error", "args"),
    [
        ({"serving": ZERO_ADDRESS}, "MarketZeroAddress", {}),
        ({"admin": ZERO_ADDRESS}, "MarketZeroAddress", {}),
        ({"recipient": ZERO_ADDRESS}, "MarketZeroAddress", {}),
        ({"timeout": 0}, "MarketInvalidGrantTimeout", {"grantTimeout": 0}),
        ({"timeout": 2**64}, "MarketInvalidGrantTimeout", {"grantTimeout": 2**64}),
        ({"fee": MAX_FEE_BPS + 1}, "MarketFeeTooHigh", {"feeBps": MAX_FEE_BPS + 1, "max": MAX_FEE_BPS}),
    ],
)
def test_constructor__invalid_arguments_revert(
    project: Any, serving: Any, deployer: Any, change: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    values = {
        "serving": serving.address,
        "timeout": GRANT_TIMEOUT,
        "fee": FEE_BPS,
        "recipient": deployer.address,
        "admin": deployer.address,
    }
    values.update(change)
    with ape.reverts(getattr(project.Marketplace, error), **args):
        project.Marketplace.deploy(*values.values(), sender=deployer)


# ---------------------------------------------------------------- list


def test_list__stores_the_listing_and_emits(market: Any, lister: Any) -> None:
    roots = [root(i) for i in range(1, 4)]
    receipt = market.list(params(isPrivate=True, roots=roots), sender=lister)

    assert receipt.return_value == NEW_ID
    assert market.listingCount() == NEW_ID
    assert market.getListing(NEW_ID) == (
        NEW_ID,
        lister.address,
        MODEL_KIND,
        True,  # isPrivate
        True,  # active
        receipt.timestamp,  # listedAt
        receipt.timestamp,  # updatedAt
        PRICE,
        SIZE,
        0,  # sales
        keccak(text="content"),
        roots,
        MODEL,
        "a tiny byte-level LM",
        "MIT",
        "zg-bytelm",
    )
    [event] = market.ItemListed.from_receipt(receipt)
    assert event.event_arguments == {
        "id": NEW_ID,
        "lister": lister.address,
        "kind": MODEL_KIND,
        "name": MODEL,
        "price": PRICE,
        "isPrivate": True,
    }
    assert market.list(params(kind=DATASET_KIND), sender=lister).return_value == NEW_ID + 1
    assert market.listingCount() == NEW_ID + 1


def test_list__fields_at_their_limits_are_accepted(market: Any, lister: Any) -> None:
    receipt = market.list(
        params(
            name="n" * 64,
            description="d" * 1024,
            license="l" * 64,
            format="f" * 64,
            roots=[root(i) for i in range(64)],
            price=MAX_UINT128,
            size=1,
            contentHash=b"\x00" * 32,
        ),
        sender=lister,
    )
    listing = market.getListing(receipt.return_value)
    assert (len(listing.roots), len(listing.description), listing.price) == (64, 1024, MAX_UINT128)
    # Empty description, licence and format, and a free item, are fine too.
    assert market.list(params(description="", license="", format="", price=0), sender=lister).return_value == NEW_ID + 1


@pytest.mark.parametrize(
    ("change", "field", "length", "max_"),
    [
        ({"name": ""}, "name", 0, 64),
        ({"name": "n" * 65}, "name", 65, 64),
        ({"description": "d" * 1025}, "description", 1025, 1024),
        ({"license": "l" * 65}, "license", 65, 64),
        ({"format": "f" * 65}, "format", 65, 64),
        ({"size": 0}, "size", 0, MAX_UINT256),
        ({"price": MAX_UINT128 + 1}, "price", MAX_UINT128 + 1, MAX_UINT128),
        ({"roots": []}, "roots", 0, 64),
        ({"roots": [root(i) for i in range(65)]}, "roots", 65, 64),
    ],
)
def test_list__invalid_field_reverts(
    market: Any, lister: Any, change: dict[str, Any], field: str, length: int, max_: int
) -> None:
    with ape.reverts(market.MarketInvalidField, field=field, length=length, max=max_):
        market.list(params(**change), sender=lister)


def test_list__zero_root_reverts(market: Any, lister: Any) -> None:
    with ape.reverts(market.MarketZeroRoot, index=1):
        market.list(params(roots=[root(1), b"\x00" * 32, root(3)]), sender=lister)


# ---------------------------------------------------------------- update, delist


def test_update__changes_price_description_and_licence(market: Any, lister: Any, chain: Any) -> None:
    before = market.getListing(PUBLIC_ID)
    chain.pending_timestamp = before.listedAt + 100
    receipt = market.update(PUBLIC_ID, 2 * PRICE, "new words", "Apache-2.0", sender=lister)

    listing = market.getListing(PUBLIC_ID)
    assert (listing.price, listing.description, listing.license) == (2 * PRICE, "new words", "Apache-2.0")
    assert (listing.listedAt, listing.updatedAt) == (before.listedAt, receipt.timestamp)
    assert receipt.timestamp == before.listedAt + 100
    assert (listing.roots, listing.name, listing.format, listing.isPrivate) == (
        before.roots,
        before.name,
        before.format,
        before.isPrivate,
    )
    [event] = market.ItemUpdated.from_receipt(receipt)
    assert event.event_arguments == {
        "id": PUBLIC_ID,
        "price": 2 * PRICE,
        "description": "new words",
        "license": "Apache-2.0",
    }


def test_update__errors(market: Any, lister: Any, stranger: Any) -> None:
    with ape.reverts(market.MarketNotLister, id=PUBLIC_ID, caller=stranger.address):
        market.update(PUBLIC_ID, PRICE, "", "", sender=stranger)
    with ape.reverts(market.MarketUnknownListing, id=99):
        market.update(99, PRICE, "", "", sender=lister)
    with ape.reverts(market.MarketInvalidField, field="description", length=1025, max=1024):
        market.update(PUBLIC_ID, PRICE, "d" * 1025, "", sender=lister)
    with ape.reverts(market.MarketInvalidField, field="license", length=65, max=64):
        market.update(PUBLIC_ID, PRICE, "", "l" * 65, sender=lister)
    with ape.reverts(market.MarketInvalidField, field="price", length=MAX_UINT128 + 1, max=MAX_UINT128):
        market.update(PUBLIC_ID, MAX_UINT128 + 1, "", "", sender=lister)
    market.delist(PUBLIC_ID, sender=lister)
    with ape.reverts(market.MarketListingInactive, id=PUBLIC_ID):
        market.update(PUBLIC_ID, PRICE, "", "", sender=lister)
    # Only the lister learns that the listing is inactive.
    with ape.reverts(market.MarketNotLister, id=PUBLIC_ID, caller=stranger.address):
        market.update(PUBLIC_ID, PRICE, "", "", sender=stranger)


def test_delist__ends_sales_and_emits(market: Any, lister: Any, buyer: Any) -> None:
    receipt = market.delist(PUBLIC_ID, sender=lister)

    assert not market.getListing(PUBLIC_ID).active
    [event] = market.ItemDelisted.from_receipt(receipt)
    assert event.event_arguments == {"id": PUBLIC_ID}
    with ape.reverts(market.MarketListingInactive, id=PUBLIC_ID):
        market.buy(PUBLIC_ID, sender=buyer, value=PRICE)
    with ape.reverts(market.MarketListingInactive, id=PUBLIC_ID):
        market.delist(PUBLIC_ID, sender=lister)


def test_delist__errors(market: Any, stranger: Any, lister: Any) -> None:
    with ape.reverts(market.MarketNotLister, id=PUBLIC_ID, caller=stranger.address):
        market.delist(PUBLIC_ID, sender=stranger)
    with ape.reverts(market.MarketUnknownListing, id=0):
        market.delist(0, sender=lister)


def test_delist__buyers_keep_their_rights(market: Any, lister: Any, buyer: Any, other: Any) -> None:
    market.buy(PUBLIC_ID, sender=buyer, value=PRICE)
    market.buy(PRIVATE_ID, sender=buyer, value=PRICE)
    market.buy(PRIVATE_ID, sender=other, value=PRICE)
    market.delist(PUBLIC_ID, sender=lister)
    market.delist(PRIVATE_ID, sender=lister)

    assert market.hasAccess(PUBLIC_ID, buyer)
    # A pending purchase of a delisted item can still be granted (and released).
    market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    assert market.hasAccess(PRIVATE_ID, buyer)
    assert market.proceeds(lister) == 2 * (PRICE - FEE)


# ---------------------------------------------------------------- buy


def test_buy__public_pays_lister_and_fee_at_once(market: Any, lister: Any, buyer: Any, deployer: Any) -> None:
    receipt = market.buy(PUBLIC_ID, sender=buyer, value=PRICE)

    assert market.proceeds(lister) == PRICE - FEE
    assert market.proceeds(deployer) == FEE
    assert market.balance == PRICE
    assert market.purchaseOf(PUBLIC_ID, buyer) == (PRICE, FEE, False, receipt.timestamp, 0)
    assert market.getListing(PUBLIC_ID).sales == 1
    assert market.hasAccess(PUBLIC_ID, buyer)
    [event] = market.ItemBought.from_receipt(receipt)
    assert event.event_arguments == {
        "id": PUBLIC_ID,
        "buyer": buyer.address,
        "price": PRICE,
        "fee": FEE,
        "escrowed": False,
    }


def test_buy__private_is_escrowed(escrowed: Any, market: Any, lister: Any, buyer: Any, deployer: Any) -> None:
    assert market.proceeds(lister) == market.proceeds(deployer) == 0
    assert market.balance == PRICE
    assert market.purchaseOf(PRIVATE_ID, buyer) == (PRICE, FEE, True, escrowed.timestamp, 0)
    assert market.getListing(PRIVATE_ID).sales == 1
    assert not market.hasAccess(PRIVATE_ID, buyer)
    [event] = market.ItemBought.from_receipt(escrowed)
    assert event.event_arguments == {
        "id": PRIVATE_ID,
        "buyer": buyer.address,
        "price": PRICE,
        "fee": FEE,
        "escrowed": True,
    }


@pytest.mark.parametrize("paid", [PRICE - 1, PRICE + 1, 0])
def test_buy__wrong_price_reverts(market: Any, buyer: Any, paid: int) -> None:
    with ape.reverts(market.MarketWrongPrice, id=PUBLIC_ID, price=PRICE, paid=paid):
        market.buy(PUBLIC_ID, sender=buyer, value=paid)


def test_buy__errors(market: Any, lister: Any, buyer: Any) -> None:
    with ape.reverts(market.MarketUnknownListing, id=NEW_ID):
        market.buy(NEW_ID, sender=buyer, value=PRICE)
    with ape.reverts(market.MarketUnknownListing, id=0):
        market.buy(0, sender=buyer, value=PRICE)
    with ape.reverts(market.MarketListerCannotBuy, id=PUBLIC_ID):
        market.buy(PUBLIC_ID, sender=lister, value=PRICE)


@pytest.mark.parametrize("listing", [PUBLIC_ID, PRIVATE_ID])
def test_buy__twice_reverts(market: Any, buyer: Any, listing: int) -> None:
    market.buy(listing, sender=buyer, value=PRICE)
    with ape.reverts(market.MarketAlreadyBought, id=listing, buyer=buyer.address):
        market.buy(listing, sender=buyer, value=PRICE)


def test_buy__after_a_free_grant_reverts(market: Any, lister: Any, buyer: Any) -> None:
    market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    with ape.reverts(market.MarketAlreadyBought, id=PRIVATE_ID, buyer=buyer.address):
        market.buy(PRIVATE_ID, sender=buyer, value=PRICE)


def test_buy__free_item_records_the_licence(market: Any, lister: Any, buyer: Any, deployer: Any) -> None:
    market.list(params(price=0), sender=lister)
    receipt = market.buy(NEW_ID, sender=buyer)
    assert market.purchaseOf(NEW_ID, buyer) == (0, 0, False, receipt.timestamp, 0)
    assert market.hasAccess(NEW_ID, buyer)
    assert market.proceeds(lister) == market.proceeds(deployer) == 0


# ---------------------------------------------------------------- grant


def test_grant__releases_the_escrow_and_emits(
    escrowed: Any, market: Any, lister: Any, buyer: Any, deployer: Any
) -> None:
    receipt = market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)

    assert market.purchaseOf(PRIVATE_ID, buyer) == (PRICE, FEE, False, escrowed.timestamp, receipt.block_number)
    assert market.proceeds(lister) == PRICE - FEE
    assert market.proceeds(deployer) == FEE
    assert market.hasAccess(PRIVATE_ID, buyer)
    [event] = market.AccessGranted.from_receipt(receipt)
    assert event.event_arguments == {"id": PRIVATE_ID, "grantee": buyer.address, "sealedKey": SEALED_KEY}


def test_grant__again_redelivers_without_paying_twice(
    escrowed: Any, market: Any, lister: Any, buyer: Any, chain: Any
) -> None:
    first = market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    chain.mine(3)
    second = market.grant(PRIVATE_ID, buyer, SEALED_KEY[::-1], sender=lister)

    assert second.block_number > first.block_number
    assert market.purchaseOf(PRIVATE_ID, buyer).grantedBlock == second.block_number
    assert market.proceeds(lister) == PRICE - FEE
    [event] = market.AccessGranted.from_receipt(second)
    assert event.sealedKey == SEALED_KEY[::-1]


def test_grant__without_purchase_is_a_free_grant(market: Any, lister: Any, other: Any, deployer: Any) -> None:
    receipt = market.grant(PRIVATE_ID, other, SEALED_KEY, sender=lister)

    assert market.purchaseOf(PRIVATE_ID, other) == (0, 0, False, 0, receipt.block_number)
    assert market.hasAccess(PRIVATE_ID, other)
    assert market.getListing(PRIVATE_ID).sales == 0
    assert market.proceeds(lister) == market.proceeds(deployer) == 0
    with ape.reverts(market.MarketNothingToReclaim, id=PRIVATE_ID, buyer=other.address):
        market.reclaim(PRIVATE_ID, sender=other)


def test_grant__errors(market: Any, lister: Any, buyer: Any, stranger: Any) -> None:
    with ape.reverts(market.MarketNotLister, id=PRIVATE_ID, caller=stranger.address):
        market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=stranger)
    with ape.reverts(market.MarketNotPrivate, id=PUBLIC_ID):
        market.grant(PUBLIC_ID, buyer, SEALED_KEY, sender=lister)
    with ape.reverts(market.MarketZeroAddress):
        market.grant(PRIVATE_ID, ZERO_ADDRESS, SEALED_KEY, sender=lister)
    with ape.reverts(market.MarketUnknownListing, id=9):
        market.grant(9, buyer, SEALED_KEY, sender=lister)
    for length in (0, 257):
        with ape.reverts(market.MarketInvalidSealedKey, length=length):
            market.grant(PRIVATE_ID, buyer, b"\x04" * length, sender=lister)
    # The longest key there is room for.
    market.grant(PRIVATE_ID, buyer, b"\x04" * 256, sender=lister)


# ---------------------------------------------------------------- reclaim


def test_reclaim__before_the_timeout_reverts(escrowed: Any, market: Any, buyer: Any, chain: Any) -> None:
    reclaimable_at = escrowed.timestamp + GRANT_TIMEOUT
    chain.pending_timestamp = reclaimable_at - 1
    with ape.reverts(market.MarketGrantPending, id=PRIVATE_ID, buyer=buyer.address, reclaimableAt=reclaimable_at):
        market.reclaim(PRIVATE_ID, sender=buyer)


def test_reclaim__after_the_timeout_pays_back(
    escrowed: Any, market: Any, lister: Any, buyer: Any, deployer: Any, chain: Any
) -> None:
    chain.pending_timestamp = escrowed.timestamp + GRANT_TIMEOUT
    before = buyer.balance
    receipt = market.reclaim(PRIVATE_ID, sender=buyer)

    assert buyer.balance == before + PRICE - receipt.total_fees_paid
    assert market.balance == 0
    assert market.purchaseOf(PRIVATE_ID, buyer) == (0, 0, False, 0, 0)
    assert market.getListing(PRIVATE_ID).sales == 0
    assert not market.hasAccess(PRIVATE_ID, buyer)
    assert market.proceeds(lister) == market.proceeds(deployer) == 0
    [event] = market.PurchaseReclaimed.from_receipt(receipt)
    assert event.event_arguments == {"id": PRIVATE_ID, "buyer": buyer.address, "amount": PRICE}
    # The purchase is erased: the buyer may buy again, and the lister grant (and be paid) this time.
    market.buy(PRIVATE_ID, sender=buyer, value=PRICE)
    assert market.getListing(PRIVATE_ID).sales == 1
    market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    assert market.proceeds(lister) == PRICE - FEE


def test_reclaim__after_delist_pays_back(escrowed: Any, market: Any, lister: Any, buyer: Any, chain: Any) -> None:
    market.delist(PRIVATE_ID, sender=lister)
    chain.pending_timestamp = escrowed.timestamp + GRANT_TIMEOUT
    market.reclaim(PRIVATE_ID, sender=buyer)
    assert market.balance == 0


def test_reclaim__without_escrow_reverts(market: Any, lister: Any, buyer: Any, other: Any, chain: Any) -> None:
    market.buy(PUBLIC_ID, sender=buyer, value=PRICE)
    granted = market.buy(PRIVATE_ID, sender=other, value=PRICE)
    market.grant(PRIVATE_ID, other, SEALED_KEY, sender=lister)
    chain.pending_timestamp = granted.timestamp + GRANT_TIMEOUT
    for listing, who in ((PRIVATE_ID, buyer), (PUBLIC_ID, buyer), (PRIVATE_ID, other), (99, buyer)):
        with ape.reverts(market.MarketNothingToReclaim, id=listing, buyer=who.address):
            market.reclaim(listing, sender=who)


# ---------------------------------------------------------------- withdraw


def test_withdraw__moves_the_proceeds_exactly(
    escrowed: Any, market: Any, lister: Any, buyer: Any, other: Any, deployer: Any
) -> None:
    market.buy(PUBLIC_ID, sender=other, value=PRICE)
    market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    assert market.balance == 2 * PRICE

    before = lister.balance
    receipt = market.withdraw(sender=lister)
    assert lister.balance == before + 2 * (PRICE - FEE) - receipt.total_fees_paid
    assert market.proceeds(lister) == 0
    [event] = market.ProceedsWithdrawn.from_receipt(receipt)
    assert event.event_arguments == {"account": lister.address, "amount": 2 * (PRICE - FEE)}

    before = deployer.balance
    receipt = market.withdraw(sender=deployer)
    assert deployer.balance == before + 2 * FEE - receipt.total_fees_paid
    assert market.balance == 0
    with ape.reverts(market.MarketNothingToWithdraw, account=lister.address):
        market.withdraw(sender=lister)


def test_withdraw__nothing_reverts(market: Any, stranger: Any) -> None:
    with ape.reverts(market.MarketNothingToWithdraw, account=stranger.address):
        market.withdraw(sender=stranger)


# ---------------------------------------------------------------- fee


def test_set_fee__applies_to_future_purchases_only(
    market: Any, deployer: Any, lister: Any, buyer: Any, other: Any, stranger: Any
) -> None:
    market.buy(PRIVATE_ID, sender=buyer, value=PRICE)
    receipt = market.setFee(MAX_FEE_BPS, stranger, sender=deployer)
    [event] = market.FeeUpdated.from_receipt(receipt)
    assert event.event_arguments == {"feeBps": MAX_FEE_BPS, "recipient": stranger.address}
    assert market.fee() == (MAX_FEE_BPS, stranger.address)

    # The escrowed purchase keeps its fee; it goes to the recipient of the day it is released.
    assert market.purchaseOf(PRIVATE_ID, buyer).fee == FEE
    market.grant(PRIVATE_ID, buyer, SEALED_KEY, sender=lister)
    assert market.proceeds(stranger) == FEE
    new_fee = PRICE * MAX_FEE_BPS // BPS
    market.buy(PUBLIC_ID, sender=other, value=PRICE)
    assert market.purchaseOf(PUBLIC_ID, other).fee == new_fee
    assert market.proceeds(stranger) == FEE + new_fee
    assert market.proceeds(lister) == 2 * PRICE - FEE - new_fee
    assert market.proceeds(deployer) == 0


def test_set_fee__zero_credits_no_fee(market: Any, deployer: Any, lister: Any, buyer: Any) -> None:
    market.setFee(0, deployer, sender=deployer)
    receipt = market.buy(PUBLIC_ID, sender=buyer, value=PRICE)
    assert market.ItemBought.from_receipt(receipt)[0].fee == 0
    assert (market.proceeds(lister), market.proceeds(deployer)) == (PRICE, 0)


def test_set_fee__errors(market: Any, deployer: Any, stranger: Any) -> None:
    with ape.reverts(market.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE):
        market.setFee(0, stranger, sender=stranger)
    with ape.reverts(market.MarketFeeTooHigh, feeBps=MAX_FEE_BPS + 1, max=MAX_FEE_BPS):
        market.setFee(MAX_FEE_BPS + 1, deployer, sender=deployer)
    with ape.reverts(market.MarketZeroAddress):
        market.setFee(0, ZERO_ADDRESS, sender=deployer)


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("who", "public", "private"),
    [
        ("lister", True, True),
        ("paid", True, False),
        ("paid and granted", True, True),
        ("free grant", False, True),
        # Only the private purchase was escrowed, so only it could be reclaimed.
        ("reclaimed", True, False),
        ("stranger", False, False),
    ],
)
def test_has_access__matrix(
    market: Any, lister: Any, accounts: Any, chain: Any, who: str, public: bool, private: bool
) -> None:
    account = lister if who == "lister" else accounts[9]
    if who in ("paid", "paid and granted", "reclaimed"):
        market.buy(PUBLIC_ID, sender=account, value=PRICE)
        bought = market.buy(PRIVATE_ID, sender=account, value=PRICE)
    if who in ("paid and granted", "free grant"):
        market.grant(PRIVATE_ID, account, SEALED_KEY, sender=lister)
    if who == "reclaimed":
        chain.pending_timestamp = bought.timestamp + GRANT_TIMEOUT
        market.reclaim(PRIVATE_ID, sender=account)
    assert (market.hasAccess(PUBLIC_ID, account), market.hasAccess(PRIVATE_ID, account)) == (public, private)


def test_has_access__unknown_listing_is_false(market: Any, lister: Any) -> None:
    assert not market.hasAccess(0, ZERO_ADDRESS)
    assert not market.hasAccess(NEW_ID, lister)


# ---------------------------------------------------------------- served models


def test_link_service__links_a_serving_provider(market: Any, registered: Any, provider: Any) -> None:
    receipt = market.linkService(PUBLIC_ID, sender=provider)

    assert market.servicesOf(PUBLIC_ID) == [provider.address]
    [event] = market.ServiceLinked.from_receipt(receipt)
    assert event.event_arguments == {"id": PUBLIC_ID, "provider": provider.address}
    with ape.reverts(market.MarketLinkState, id=PUBLIC_ID, provider=provider.address, linked=True):
        market.linkService(PUBLIC_ID, sender=provider)


def test_link_service__errors(
    market: Any, registered: Any, provider: Any, signer: Any, stranger: Any, lister: Any
) -> None:
    with ape.reverts(market.MarketNotAModel, id=DATASET_ID):
        market.linkService(DATASET_ID, sender=provider)
    with ape.reverts(market.MarketNoService, provider=stranger.address):
        market.linkService(PUBLIC_ID, sender=stranger)
    with ape.reverts(market.MarketUnknownListing, id=7):
        market.linkService(7, sender=provider)
    registered.updateService(service(signer, "another-model"), sender=provider)
    with ape.reverts(
        market.MarketServiceModelMismatch, id=PUBLIC_ID, provider=provider.address, served="another-model"
    ):
        market.linkService(PUBLIC_ID, sender=provider)
    market.delist(PUBLIC_ID, sender=lister)
    with ape.reverts(market.MarketListingInactive, id=PUBLIC_ID):
        market.linkService(PUBLIC_ID, sender=provider)


def test_link_service__private_model_needs_a_grant(
    market: Any, registered: Any, provider: Any, lister: Any, signer: Any
) -> None:
    with ape.reverts(market.MarketNoAccess, id=PRIVATE_ID, provider=provider.address):
        market.linkService(PRIVATE_ID, sender=provider)
    # Paying is not enough: the key is.
    market.buy(PRIVATE_ID, sender=provider, value=PRICE)
    with ape.reverts(market.MarketNoAccess, id=PRIVATE_ID, provider=provider.address):
        market.linkService(PRIVATE_ID, sender=provider)
    market.grant(PRIVATE_ID, provider, SEALED_KEY, sender=lister)
    market.linkService(PRIVATE_ID, sender=provider)
    # The lister serving its own model needs no grant.
    registered.registerService(service(signer), sender=lister, value=STAKE)
    market.linkService(PRIVATE_ID, sender=lister)
    assert market.servicesOf(PRIVATE_ID) == [provider.address, lister.address]


def test_unlink_service__removes_the_link(market: Any, registered: Any, providers: list[Any]) -> None:
    for who in providers:
        market.linkService(PUBLIC_ID, sender=who)
    first, middle, last = providers

    receipt = market.unlinkService(PUBLIC_ID, sender=middle)

    assert sorted(market.servicesOf(PUBLIC_ID)) == sorted([first.address, last.address])
    [event] = market.ServiceUnlinked.from_receipt(receipt)
    assert event.event_arguments == {"id": PUBLIC_ID, "provider": middle.address}
    with ape.reverts(market.MarketLinkState, id=PUBLIC_ID, provider=middle.address, linked=False):
        market.unlinkService(PUBLIC_ID, sender=middle)
    # It may link again, and unlink from a delisted model.
    market.linkService(PUBLIC_ID, sender=middle)
    assert len(market.servicesOf(PUBLIC_ID)) == 3
    market.delist(PUBLIC_ID, sender=market.getListing(PUBLIC_ID).lister)
    market.unlinkService(PUBLIC_ID, sender=first)
    assert len(market.servicesOf(PUBLIC_ID)) == 2


def test_services_of__only_providers_still_serving_the_model(
    market: Any, registered: Any, providers: list[Any], signer: Any
) -> None:
    for who in providers:
        market.linkService(PUBLIC_ID, sender=who)
    first, changed, removed = providers

    registered.updateService(service(signer, "another-model"), sender=changed)
    registered.removeService(sender=removed)
    assert market.servicesOf(PUBLIC_ID) == [first.address]
    # Serving the model again puts it back without linking again.
    registered.updateService(service(signer), sender=changed)
    assert market.servicesOf(PUBLIC_ID) == [first.address, changed.address]
    assert market.servicesOf(DATASET_ID) == market.servicesOf(99) == []


# ---------------------------------------------------------------- views


def test_get_listings__pages(market: Any) -> None:
    def ids(offset: int, limit: int) -> list[int]:
        return [listing.id for listing in market.getListings(offset, limit)]

    assert ids(0, 10) == [1, 2, 3]
    assert ids(1, 1) == [2]
    assert ids(1, MAX_UINT256) == [2, 3]
    assert ids(2, 5) == [3]
    assert ids(0, 0) == ids(3, 5) == ids(99, 5) == []
    assert market.getListings(0, 3)[2].name == DATASET


def test_get_listing__unknown_reverts(market: Any) -> None:
    for missing in (0, NEW_ID):
        with ape.reverts(market.MarketUnknownListing, id=missing):
            market.getListing(missing)


def test_purchase_of__nothing_is_all_zero(market: Any, buyer: Any) -> None:
    assert market.purchaseOf(PUBLIC_ID, buyer) == (0, 0, False, 0, 0)
    assert market.purchaseOf(99, buyer) == (0, 0, False, 0, 0)
