"""Contract tests of Ledger (`ape test`): deposits, withdrawals, transfers into sub-accounts, and refunds
through the serving contract's timelock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from tests.compute.conftest import REFUND_LOCK, ZERO_ADDRESS, ComputeStack

AMOUNT = 10**18


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


# ---------------------------------------------------------------- construction


def test_constructor__binds_serving_and_fine_tuning_both_ways(stack: ComputeStack) -> None:
    ledger, serving, fine_tuning = stack.ledger, stack.serving, stack.fine_tuning
    assert (ledger.serving(), ledger.fineTuning()) == (serving.address, fine_tuning.address)
    assert serving.ledger() == fine_tuning.ledger() == ledger.address
    assert serving.refundLock() == REFUND_LOCK


@pytest.mark.parametrize("zero", [0, 1], ids=["serving", "fineTuning"])
def test_constructor__zero_binding_reverts(project: Any, chain: Any, deployer: Any, stranger: Any, zero: int) -> None:
    bindings = [stranger.address, stranger.address]
    bindings[zero] = ZERO_ADDRESS
    data = project.Ledger.contract_type.deployment_bytecode.bytecode + encode(["address", "address"], bindings).hex()
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": deployer.address, "data": data})
    assert str(info.value.data) == _selector("LedgerZeroAddress()")


def test_serving_constructor__zero_ledger_reverts(project: Any, chain: Any, deployer: Any) -> None:
    args = encode(["address", "uint256", "uint256"], [ZERO_ADDRESS, REFUND_LOCK, 0]).hex()
    data = project.InferenceServing.contract_type.deployment_bytecode.bytecode + args
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": deployer.address, "data": data})
    assert str(info.value.data) == _selector("InferenceZeroAddress()")


# ---------------------------------------------------------------- deposit / withdraw


def test_deposit__credits_caller_and_emits(ledger: Any, user: Any) -> None:
    receipt = ledger.deposit(sender=user, value=AMOUNT)
    assert ledger.balanceOf(user) == AMOUNT
    assert ledger.balance == AMOUNT
    [event] = ledger.Deposited.from_receipt(receipt)
    assert event.event_arguments == {"user": user.address, "from": user.address, "amount": AMOUNT, "balance": AMOUNT}


def test_deposit__zero_reverts(ledger: Any, user: Any) -> None:
    with ape.reverts(ledger.LedgerZeroAmount):
        ledger.deposit(sender=user, value=0)


def test_deposit_for__credits_the_named_user(ledger: Any, user: Any, stranger: Any) -> None:
    receipt = ledger.depositFor(user, sender=stranger, value=AMOUNT)
    assert ledger.balanceOf(user) == AMOUNT
    assert ledger.balanceOf(stranger) == 0
    [event] = ledger.Deposited.from_receipt(receipt)
    assert (event.user, event["from"]) == (user.address, stranger.address)


def test_deposit_for__zero_address_reverts(ledger: Any, stranger: Any) -> None:
    with ape.reverts(ledger.LedgerZeroAddress):
        ledger.depositFor(ZERO_ADDRESS, sender=stranger, value=AMOUNT)


def test_withdraw__pays_caller_and_emits(ledger: Any, user: Any) -> None:
    ledger.deposit(sender=user, value=AMOUNT)
    before = user.balance

    receipt = ledger.withdraw(AMOUNT // 4, sender=user)

    assert user.balance == before + AMOUNT // 4 - receipt.total_fees_paid
    assert ledger.balanceOf(user) == AMOUNT - AMOUNT // 4
    [event] = ledger.Withdrawn.from_receipt(receipt)
    assert event.event_arguments == {"user": user.address, "amount": AMOUNT // 4, "balance": AMOUNT - AMOUNT // 4}


def test_withdraw__more_than_balance_reverts(ledger: Any, user: Any) -> None:
    ledger.deposit(sender=user, value=AMOUNT)
    with ape.reverts(ledger.LedgerInsufficientBalance, user=user.address, balance=AMOUNT, amount=AMOUNT + 1):
        ledger.withdraw(AMOUNT + 1, sender=user)


def test_withdraw__zero_reverts(ledger: Any, user: Any) -> None:
    with ape.reverts(ledger.LedgerZeroAmount):
        ledger.withdraw(0, sender=user)


def test_receive__from_anyone_but_serving_reverts(ledger: Any, stranger: Any) -> None:
    with ape.reverts(ledger.LedgerUnexpectedTransfer, **{"from": stranger.address}):
        stranger.transfer(ledger, 1)


# ---------------------------------------------------------------- transfer into sub-accounts


def test_transfer_fund__moves_value_into_sub_account(ledger: Any, registered: Any, user: Any, provider: Any) -> None:
    ledger.deposit(sender=user, value=AMOUNT)

    receipt = ledger.transferFund(provider, AMOUNT // 2, sender=user)

    assert ledger.balanceOf(user) == AMOUNT // 2
    assert ledger.balance == AMOUNT // 2
    assert registered.balance == AMOUNT // 2 + registered.getService(provider).stake
    assert registered.getSubAccount(user, provider).balance == AMOUNT // 2
    [moved] = ledger.FundTransferred.from_receipt(receipt)
    assert moved.event_arguments == {
        "user": user.address,
        "provider": provider.address,
        "amount": AMOUNT // 2,
        "balance": AMOUNT // 2,
    }
    [funded] = registered.SubAccountFunded.from_receipt(receipt)
    assert funded.event_arguments == {
        "user": user.address,
        "provider": provider.address,
        "amount": AMOUNT // 2,
        "balance": AMOUNT // 2,
    }


def test_transfer_fund__unknown_provider_reverts_and_keeps_balance(
    ledger: Any, registered: Any, user: Any, stranger: Any
) -> None:
    ledger.deposit(sender=user, value=AMOUNT)
    with ape.reverts(registered.InferenceUnknownService, provider=stranger.address):
        ledger.transferFund(stranger, AMOUNT, sender=user)
    assert ledger.balanceOf(user) == AMOUNT


def test_transfer_fund__more_than_balance_reverts(ledger: Any, registered: Any, user: Any, provider: Any) -> None:
    ledger.deposit(sender=user, value=AMOUNT)
    with ape.reverts(ledger.LedgerInsufficientBalance, user=user.address, balance=AMOUNT, amount=2 * AMOUNT):
        ledger.transferFund(provider, 2 * AMOUNT, sender=user)


def test_serving_ledger_functions__reject_other_callers(registered: Any, user: Any, provider: Any) -> None:
    with ape.reverts(registered.InferenceCallerNotLedger, caller=user.address):
        registered.depositFund(user, provider, sender=user, value=1)
    with ape.reverts(registered.InferenceCallerNotLedger, caller=user.address):
        registered.requestRefund(user, provider, 1, sender=user)
    with ape.reverts(registered.InferenceCallerNotLedger, caller=user.address):
        registered.processRefund(user, provider, sender=user)


# ---------------------------------------------------------------- refunds


def test_request_refund__records_pending_and_unlock_time(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any
) -> None:
    fund(user, AMOUNT)

    receipt = ledger.requestRefund(provider, AMOUNT // 2, sender=user)

    account = registered.getSubAccount(user, provider)
    assert account.refundPending == AMOUNT // 2
    assert account.refundUnlockAt == receipt.timestamp + REFUND_LOCK
    assert account.balance == AMOUNT  # nothing leaves before the timelock
    [event] = registered.RefundRequested.from_receipt(receipt)
    assert event.event_arguments == {
        "user": user.address,
        "provider": provider.address,
        "amount": AMOUNT // 2,
        "unlockAt": receipt.timestamp + REFUND_LOCK,
    }


def test_request_refund__more_than_sub_account_reverts(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any
) -> None:
    fund(user, AMOUNT)
    with ape.reverts(
        registered.InferenceInsufficientBalance,
        user=user.address,
        provider=provider.address,
        balance=AMOUNT,
        amount=AMOUNT + 1,
    ):
        ledger.requestRefund(provider, AMOUNT + 1, sender=user)


def test_request_refund__zero_reverts(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any
) -> None:
    fund(user, AMOUNT)
    with ape.reverts(registered.InferenceZeroAmount):
        ledger.requestRefund(provider, 0, sender=user)


def test_process_refund__before_timelock_reverts(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any, chain: Any
) -> None:
    fund(user, AMOUNT)
    receipt = ledger.requestRefund(provider, AMOUNT, sender=user)
    unlock_at = receipt.timestamp + REFUND_LOCK
    chain.pending_timestamp = unlock_at - 1

    with ape.reverts(
        registered.InferenceRefundLocked, user=user.address, provider=provider.address, unlockAt=unlock_at
    ):
        ledger.processRefund(provider, sender=user)


def test_process_refund__after_timelock_returns_to_ledger(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any, chain: Any
) -> None:
    fund(user, AMOUNT)
    requested = ledger.requestRefund(provider, AMOUNT // 4, sender=user)
    chain.pending_timestamp = requested.timestamp + REFUND_LOCK

    receipt = ledger.processRefund(provider, sender=user)

    assert ledger.balanceOf(user) == AMOUNT // 4
    assert ledger.balance == AMOUNT // 4
    account = registered.getSubAccount(user, provider)
    assert (account.balance, account.refundPending, account.refundUnlockAt) == (AMOUNT - AMOUNT // 4, 0, 0)
    [returned] = ledger.FundReturned.from_receipt(receipt)
    assert returned.event_arguments == {
        "user": user.address,
        "provider": provider.address,
        "amount": AMOUNT // 4,
        "balance": AMOUNT // 4,
    }
    [processed] = registered.RefundProcessed.from_receipt(receipt)
    assert (processed.amount, processed.balance) == (AMOUNT // 4, AMOUNT - AMOUNT // 4)
    # ...and the user can take it out of the ledger.
    ledger.withdraw(AMOUNT // 4, sender=user)
    assert ledger.balanceOf(user) == 0


def test_process_refund__without_request_reverts(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any
) -> None:
    fund(user, AMOUNT)
    with ape.reverts(registered.InferenceNoRefundPending, user=user.address, provider=provider.address):
        ledger.processRefund(provider, sender=user)


def test_process_refund__twice_reverts(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any, chain: Any
) -> None:
    fund(user, AMOUNT)
    requested = ledger.requestRefund(provider, AMOUNT, sender=user)
    chain.pending_timestamp = requested.timestamp + REFUND_LOCK
    ledger.processRefund(provider, sender=user)
    with ape.reverts(registered.InferenceNoRefundPending):
        ledger.processRefund(provider, sender=user)


def test_request_refund__again_replaces_and_restarts_timelock(
    ledger: Any, registered: Any, fund: Callable[..., None], user: Any, provider: Any, chain: Any
) -> None:
    fund(user, AMOUNT)
    first = ledger.requestRefund(provider, AMOUNT, sender=user)
    chain.pending_timestamp = first.timestamp + REFUND_LOCK // 2
    second = ledger.requestRefund(provider, AMOUNT // 2, sender=user)
    chain.pending_timestamp = first.timestamp + REFUND_LOCK  # the first request's unlock time: not enough now
    with ape.reverts(registered.InferenceRefundLocked, unlockAt=second.timestamp + REFUND_LOCK):
        ledger.processRefund(provider, sender=user)
    assert registered.getSubAccount(user, provider).refundPending == AMOUNT // 2


def test_process_refund__pays_only_what_settlement_left(
    ledger: Any,
    registered: Any,
    fund: Callable[..., None],
    sign: Callable[..., Any],
    user: Any,
    provider: Any,
    chain: Any,
) -> None:
    """The user asks everything back, but the provider settles a voucher within the timelock: the voucher is
    paid in full and only the rest goes back."""
    fund(user, AMOUNT)
    requested = ledger.requestRefund(provider, AMOUNT, sender=user)
    voucher, signature = sign(user, provider, AMOUNT // 3, 1)
    registered.settle(voucher, signature, sender=provider)
    chain.pending_timestamp = requested.timestamp + REFUND_LOCK

    receipt = ledger.processRefund(provider, sender=user)

    [returned] = ledger.FundReturned.from_receipt(receipt)
    assert returned.amount == AMOUNT - AMOUNT // 3
    assert registered.earnings(provider) == AMOUNT // 3
    assert registered.getSubAccount(user, provider).balance == 0


def test_process_refund__after_everything_was_settled_returns_nothing(
    ledger: Any,
    registered: Any,
    fund: Callable[..., None],
    sign: Callable[..., Any],
    user: Any,
    provider: Any,
    chain: Any,
) -> None:
    fund(user, AMOUNT)
    requested = ledger.requestRefund(provider, AMOUNT, sender=user)
    registered.settle(*sign(user, provider, AMOUNT, 1), sender=provider)
    chain.pending_timestamp = requested.timestamp + REFUND_LOCK

    receipt = ledger.processRefund(provider, sender=user)

    [returned] = ledger.FundReturned.from_receipt(receipt)
    assert returned.amount == 0
    assert ledger.balanceOf(user) == 0
