"""Fixtures of the compute contract tests (`ape test`): role accounts with their keys (to sign vouchers),
a `create_compute` factory deploying Ledger, InferenceServing and FineTuningServing exactly as scripts/deploy.py
does, and
helpers that register a service, fund a sub-account and sign vouchers with the SDK's code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from scripts.deploy import deploy_compute
from zerog.accounts import dev_account
from zerog.compute.contracts import FINE_TUNING, LEDGER, SERVING
from zerog.compute.protocol import Voucher, serving_domain

REFUND_LOCK = 3600
MIN_STAKE = 10**17
ACK_TIMEOUT = 24 * 3600
UNACKNOWLEDGED_SHARE_BPS = 5000
TIMEOUT_SLASH_BPS = 1000
STAKE = 10**18
INPUT_PRICE = 10**9
OUTPUT_PRICE = 3 * 10**9
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_HASH = b"\x00" * 32
CHATBOT, SIGNED_RECEIPTS = 0, 1

_requests = count(1)


@dataclass
class ComputeStack:
    ledger: Any
    serving: Any
    fine_tuning: Any


def request_digest() -> bytes:
    """A fresh request hash (the contracts never look inside it)."""
    return keccak(text=f"request {next(_requests)}")


def params(
    signer: Any,
    url: str = "http://127.0.0.1:8700",
    model: str = "zg-bytelm-tiny",
    prices: tuple[int, int] | None = None,
) -> tuple[Any, ...]:
    input_price, output_price = prices or (INPUT_PRICE, OUTPUT_PRICE)
    address = signer if isinstance(signer, str) else signer.address
    return (CHATBOT, SIGNED_RECEIPTS, url, model, input_price, output_price, address)


# ---------------------------------------------------------------- accounts


@pytest.fixture(scope="session")
def keys(accounts: Any) -> Callable[[Any], LocalAccount]:
    """The private key of an ape test account (ape's and anvil's dev mnemonic are the same)."""
    by_address = {dev_account(i).address: dev_account(i) for i in range(10)}

    def key(account: Any) -> LocalAccount:
        return by_address[account.address]

    assert key(accounts[0]).address == accounts[0].address
    return key


@pytest.fixture(scope="session")
def deployer(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def provider(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def user(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def other_user(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def third_user(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> Any:
    return accounts[5]


@pytest.fixture(scope="session")
def signer(accounts: Any) -> Any:
    """The provider's receipt-signing key, distinct from its wallet."""
    return accounts[6]


# ---------------------------------------------------------------- factories


@pytest.fixture(scope="session")
def create_compute(deployer: Any) -> Callable[..., ComputeStack]:
    """Factory: Ledger, InferenceServing and FineTuningServing deployed by `deployer` exactly as scripts/deploy.py
    does."""

    def create(refund_lock: int = REFUND_LOCK, min_stake: int = MIN_STAKE) -> ComputeStack:
        deployed = deploy_compute(
            deployer,
            refund_lock=refund_lock,
            min_stake=min_stake,
            ack_timeout=ACK_TIMEOUT,
            unacknowledged_share_bps=UNACKNOWLEDGED_SHARE_BPS,
            timeout_slash_bps=TIMEOUT_SLASH_BPS,
        )
        return ComputeStack(deployed[LEDGER][0], deployed[SERVING][0], deployed[FINE_TUNING][0])

    return create


@pytest.fixture
def stack(create_compute: Callable[..., ComputeStack]) -> ComputeStack:
    return create_compute()


@pytest.fixture
def ledger(stack: ComputeStack) -> Any:
    return stack.ledger


@pytest.fixture
def serving(stack: ComputeStack) -> Any:
    return stack.serving


@pytest.fixture
def registered(serving: Any, provider: Any, signer: Any) -> Any:
    """`serving` with the provider's service registered (signer: the separate signer key)."""
    serving.registerService(params(signer), sender=provider, value=STAKE)
    return serving


@pytest.fixture
def fund(ledger: Any, registered: Any, provider: Any) -> Callable[..., None]:
    """fund(user, amount): deposit into the ledger and move it into the sub-account with the provider."""

    def fund_(who: Any, amount: int) -> None:
        ledger.deposit(sender=who, value=amount)
        ledger.transferFund(provider, amount, sender=who)

    return fund_


@pytest.fixture
def sign(serving: Any, chain: Any, keys: Callable[[Any], LocalAccount]) -> Callable[..., tuple[tuple[Any, ...], bytes]]:
    """sign(user, provider, amount, nonce, signer=user) → (voucher struct, signature), with the SDK's EIP-712."""

    def sign_(
        who: Any, to: Any, amount: int, nonce: int, by: Any = None, domain: Any = None
    ) -> tuple[tuple[Any, ...], bytes]:
        voucher = Voucher(who.address, to.address, amount, nonce, "0x" + request_digest().hex())
        signature = voucher.sign(keys(by or who), domain or serving_domain(chain.chain_id, serving.address))
        return voucher.as_tuple(), bytes.fromhex(signature[2:])

    return sign_
