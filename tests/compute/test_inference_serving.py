"""Contract tests of InferenceServing (`ape test`): the provider registry, signer acknowledgement, and voucher
settlement — exact payment, replay and stale vouchers, bad signatures, other domains, and batches that skip
the vouchers they cannot settle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from tests.compute.conftest import (
    INPUT_PRICE,
    MIN_STAKE,
    OUTPUT_PRICE,
    SIGNED_RECEIPTS,
    STAKE,
    ZERO_ADDRESS,
    params,
    request_digest,
)
from zerog.auth import typed_data
from zerog.compute.protocol import RECEIPT_TYPE, VOUCHER_TYPE, Receipt, Voucher, serving_domain
from zerog.compute.records import SkipReason

FUNDS = 10**18
#: Order of secp256k1: s and n - s sign the same message.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# ---------------------------------------------------------------- registry


def test_register_service__stores_it_and_emits(serving: Any, provider: Any, signer: Any) -> None:
    receipt = serving.registerService(params(signer), sender=provider, value=STAKE)

    assert serving.isRegistered(provider)
    assert serving.serviceCount() == 1
    service = serving.getService(provider)
    assert service.provider == provider.address
    assert (service.serviceType, service.verifiability, service.signer) == (0, SIGNED_RECEIPTS, signer.address)
    assert (service.inputPrice, service.outputPrice, service.stake) == (INPUT_PRICE, OUTPUT_PRICE, STAKE)
    assert (service.url, service.model, service.updatedAt) == (
        "http://127.0.0.1:8700",
        "zg-bytelm-tiny",
        receipt.timestamp,
    )
    assert serving.balance == STAKE
    [event] = serving.ServiceRegistered.from_receipt(receipt)
    assert event.event_arguments == {
        "provider": provider.address,
        "serviceType": 0,
        "url": "http://127.0.0.1:8700",
        "model": "zg-bytelm-tiny",
        "inputPrice": INPUT_PRICE,
        "outputPrice": OUTPUT_PRICE,
        "signer": signer.address,
        "stake": STAKE,
    }


def test_register_service__twice_reverts(registered: Any, provider: Any, signer: Any) -> None:
    with ape.reverts(registered.InferenceServiceExists, provider=provider.address):
        registered.registerService(params(signer), sender=provider, value=STAKE)


def test_register_service__below_min_stake_reverts(serving: Any, provider: Any, signer: Any) -> None:
    with ape.reverts(serving.InferenceInsufficientStake, stake=MIN_STAKE - 1, minStake=MIN_STAKE):
        serving.registerService(params(signer), sender=provider, value=MIN_STAKE - 1)
    assert not serving.isRegistered(provider)


@pytest.mark.parametrize("bad", ["url", "model", "signer"])
def test_register_service__invalid_fields_revert(serving: Any, provider: Any, signer: Any, bad: str) -> None:
    fields = {"url": "http://127.0.0.1:8700", "model": "m", "signer": signer.address, bad: ""}
    if bad == "signer":
        fields["signer"] = ZERO_ADDRESS
    with ape.reverts(serving.InferenceInvalidService):
        serving.registerService(params(fields["signer"], fields["url"], fields["model"]), sender=provider, value=STAKE)


def test_update_service__changes_fields_and_adds_stake(registered: Any, provider: Any, stranger: Any) -> None:
    receipt = registered.updateService(
        params(stranger, "http://10.0.0.1:9000", "other", (7, 8)), sender=provider, value=MIN_STAKE
    )
    service = registered.getService(provider)
    assert (service.url, service.model, service.signer) == ("http://10.0.0.1:9000", "other", stranger.address)
    assert (service.inputPrice, service.outputPrice, service.stake) == (7, 8, STAKE + MIN_STAKE)
    [event] = registered.ServiceUpdated.from_receipt(receipt)
    assert (event.signer, event.stake, event.inputPrice) == (stranger.address, STAKE + MIN_STAKE, 7)
    assert registered.serviceCount() == 1


def test_update_service__unknown_provider_reverts(serving: Any, stranger: Any) -> None:
    with ape.reverts(serving.InferenceUnknownService, provider=stranger.address):
        serving.updateService(params(stranger), sender=stranger)


def test_remove_service__returns_stake_as_earnings(registered: Any, provider: Any) -> None:
    receipt = registered.removeService(sender=provider)
    assert not registered.isRegistered(provider)
    assert registered.serviceCount() == 0
    assert registered.earnings(provider) == STAKE
    [event] = registered.ServiceRemoved.from_receipt(receipt)
    assert event.event_arguments == {"provider": provider.address, "stake": STAKE}
    with ape.reverts(registered.InferenceUnknownService, provider=provider.address):
        registered.getService(provider)
    before = provider.balance
    withdrawn = registered.withdrawEarnings(sender=provider)
    assert provider.balance == before + STAKE - withdrawn.total_fees_paid
    assert registered.earnings(provider) == 0


def test_remove_service__unknown_provider_reverts(serving: Any, stranger: Any) -> None:
    with ape.reverts(serving.InferenceUnknownService, provider=stranger.address):
        serving.removeService(sender=stranger)


def test_withdraw_earnings__nothing_reverts(serving: Any, provider: Any) -> None:
    with ape.reverts(serving.InferenceNothingToWithdraw, provider=provider.address):
        serving.withdrawEarnings(sender=provider)


def test_get_services__pages_through_the_registry(serving: Any, accounts: Any, signer: Any) -> None:
    providers = [accounts[i] for i in (2, 7, 8)]
    for i, who in enumerate(providers):
        serving.registerService(params(signer, model=f"m{i}"), sender=who, value=STAKE)
    assert [s.model for s in serving.getServices(0, 10)] == ["m0", "m1", "m2"]
    assert [s.model for s in serving.getServices(1, 1)] == ["m1"]
    assert [s.provider for s in serving.getServices(2, 5)] == [providers[2].address]
    assert serving.getServices(3, 5) == []
    assert serving.getServices(99, 5) == []


def test_acknowledge_signer__records_current_signer(registered: Any, user: Any, provider: Any, signer: Any) -> None:
    receipt = registered.acknowledgeSigner(provider, sender=user)
    assert registered.getSubAccount(user, provider).acknowledgedSigner == signer.address
    [event] = registered.SignerAcknowledged.from_receipt(receipt)
    assert event.event_arguments == {"user": user.address, "provider": provider.address, "signer": signer.address}
    # A new signer is not acknowledged by anyone until they do it again.
    registered.updateService(params(user), sender=provider)
    assert registered.getSubAccount(user, provider).acknowledgedSigner == signer.address != user.address


def test_acknowledge_signer__unknown_provider_reverts(serving: Any, user: Any, stranger: Any) -> None:
    with ape.reverts(serving.InferenceUnknownService, provider=stranger.address):
        serving.acknowledgeSigner(stranger, sender=user)


# ---------------------------------------------------------------- EIP-712


def test_hashes__match_the_sdk_and_eth_account(serving: Any, chain: Any, user: Any, provider: Any) -> None:
    domain = serving_domain(chain.chain_id, serving.address)
    voucher = Voucher(user.address, provider.address, 12345, 7, "0x" + request_digest().hex(), "0x" + "ab" * 32)
    assert serving.hashVoucher(voucher.as_tuple()) == voucher.digest(domain)
    standard = encode_typed_data(full_message=typed_data(domain, VOUCHER_TYPE, voucher.message()))
    assert voucher.digest(domain) == keccak(b"\x19" + standard.version + standard.header + standard.body)
    receipt = Receipt(user.address, provider.address, "0x" + request_digest().hex(), 7, 29, 100, 5 * 10**12, 10**15)
    assert serving.hashReceipt(receipt.as_tuple()) == receipt.digest(domain)
    assert serving.eip712Domain()[1:5] == ("0G InferenceServing", "1", chain.chain_id, serving.address)
    assert RECEIPT_TYPE.type_hash == serving.RECEIPT_TYPEHASH()
    assert VOUCHER_TYPE.type_hash == serving.VOUCHER_TYPEHASH()


# ---------------------------------------------------------------- settle


def test_settle__pays_exactly_the_signed_amount(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    voucher, signature = sign(user, provider, 12345, 1)

    receipt = registered.settle(voucher, signature, sender=provider)

    account = registered.getSubAccount(user, provider)
    assert (account.balance, account.settled, account.nonce) == (FUNDS - 12345, 12345, 1)
    assert registered.earnings(provider) == 12345
    [event] = registered.VoucherSettled.from_receipt(receipt)
    assert event.event_arguments == {
        "user": user.address,
        "provider": provider.address,
        "paid": 12345,
        "cumulative": 12345,
        "nonce": 1,
    }


def test_settle__later_voucher_pays_only_the_difference(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    registered.settle(*sign(user, provider, 1000, 3), sender=provider)

    receipt = registered.settle(*sign(user, provider, 1500, 10), sender=provider)

    [event] = registered.VoucherSettled.from_receipt(receipt)
    assert (event.paid, event.cumulative, event.nonce) == (500, 1500, 10)
    assert registered.earnings(provider) == 1500
    assert registered.getSubAccount(user, provider).balance == FUNDS - 1500


def test_settle__same_amount_higher_nonce_pays_nothing(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    registered.settle(*sign(user, provider, 1000, 1), sender=provider)
    receipt = registered.settle(*sign(user, provider, 1000, 2), sender=provider)
    assert registered.VoucherSettled.from_receipt(receipt)[0].paid == 0
    assert registered.earnings(provider) == 1000


def test_settle__replay_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    voucher, signature = sign(user, provider, 1000, 5)
    registered.settle(voucher, signature, sender=provider)
    with ape.reverts(registered.InferenceStaleVoucher, user=user.address, nonce=5, lastNonce=5):
        registered.settle(voucher, signature, sender=provider)
    assert registered.earnings(provider) == 1000


def test_settle__older_voucher_after_newer_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    old = sign(user, provider, 1000, 1)
    registered.settle(*sign(user, provider, 2000, 2), sender=provider)
    with ape.reverts(registered.InferenceStaleVoucher, nonce=1, lastNonce=2):
        registered.settle(*old, sender=provider)


def test_settle__amount_below_settled_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    registered.settle(*sign(user, provider, 2000, 1), sender=provider)
    with ape.reverts(registered.InferenceAmountBelowSettled, user=user.address, amount=1999, settled=2000):
        registered.settle(*sign(user, provider, 1999, 2), sender=provider)


def test_settle__more_than_sub_account_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, 1000)
    with ape.reverts(
        registered.InferenceInsufficientBalance, user=user.address, provider=provider.address, balance=1000, amount=1001
    ):
        registered.settle(*sign(user, provider, 1001, 1), sender=provider)
    assert registered.getSubAccount(user, provider).balance == 1000


def test_settle__signed_by_someone_else_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any, stranger: Any
) -> None:
    fund(user, FUNDS)
    with ape.reverts(registered.InferenceInvalidSignature, user=user.address, signer=stranger.address):
        registered.settle(*sign(user, provider, 1000, 1, by=stranger), sender=provider)


def test_settle__tampered_amount_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    """The provider cannot raise the amount the user signed."""
    fund(user, FUNDS)
    voucher, signature = sign(user, provider, 1000, 1)
    raised = (voucher[0], voucher[1], 10**17, *voucher[3:])
    with ape.reverts(registered.InferenceInvalidSignature, user=user.address):
        registered.settle(raised, signature, sender=provider)
    assert registered.getSubAccount(user, provider).balance == FUNDS


def test_settle__malformed_signature_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    voucher, signature = sign(user, provider, 1000, 1)
    with ape.reverts(registered.InferenceInvalidSignature, user=user.address, signer=ZERO_ADDRESS):
        registered.settle(voucher, signature[:64], sender=provider)


def test_settle__other_chain_or_contract_domain_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any, chain: Any
) -> None:
    fund(user, FUNDS)
    for domain in (
        serving_domain(chain.chain_id + 1, registered.address),
        serving_domain(chain.chain_id, provider.address),
    ):
        with ape.reverts(registered.InferenceInvalidSignature, user=user.address):
            registered.settle(*sign(user, provider, 1000, 1, domain=domain), sender=provider)


def test_settle__by_anyone_but_the_provider_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any, stranger: Any
) -> None:
    fund(user, FUNDS)
    with ape.reverts(registered.InferenceWrongProvider, caller=stranger.address, provider=provider.address):
        registered.settle(*sign(user, provider, 1000, 1), sender=stranger)


def test_settle__nonce_beyond_64_bits_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    with ape.reverts(registered.InferenceValueTooLarge, value=2**64):
        registered.settle(*sign(user, provider, 1000, 2**64), sender=provider)


def test_settle__after_service_removed_still_pays(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    registered.removeService(sender=provider)
    registered.settle(*sign(user, provider, 1000, 1), sender=provider)
    assert registered.earnings(provider) == STAKE + 1000


# ---------------------------------------------------------------- settleBatch


def test_settle_batch__pays_every_user(
    registered: Any,
    fund: Callable[..., None],
    sign: Callable[..., Any],
    user: Any,
    other_user: Any,
    provider: Any,
) -> None:
    fund(user, FUNDS)
    fund(other_user, FUNDS)
    signed = [sign(user, provider, 700, 4), sign(other_user, provider, 300, 9)]

    receipt = registered.settleBatch([v for v, _ in signed], [s for _, s in signed], sender=provider)

    assert registered.earnings(provider) == 1000
    assert registered.getSubAccount(user, provider).balance == FUNDS - 700
    assert registered.getSubAccount(other_user, provider).nonce == 9
    events = registered.VoucherSettled.from_receipt(receipt)
    assert [(e.user, e.paid) for e in events] == [(user.address, 700), (other_user.address, 300)]


def _batch(serving: Any, signed: list[tuple[Any, bytes]], sender: Any) -> Any:
    return serving.settleBatch([v for v, _ in signed], [s for _, s in signed], sender=sender)


def _high_s(signature: bytes) -> bytes:
    """The other valid (r, n - s, v ^ 1) encoding of an ECDSA signature: malleated, refused by OZ ECDSA."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])


def test_settle_batch__skips_bad_voucher_settles_the_rest(
    registered: Any,
    fund: Callable[..., None],
    sign: Callable[..., Any],
    user: Any,
    other_user: Any,
    third_user: Any,
    provider: Any,
) -> None:
    fund(user, FUNDS)
    fund(other_user, 100)
    fund(third_user, FUNDS)
    signed = [sign(user, provider, 700, 1), sign(other_user, provider, 101, 1), sign(third_user, provider, 300, 2)]

    receipt = _batch(registered, signed, provider)

    assert registered.earnings(provider) == 1000
    assert [tuple(registered.getSubAccount(u, provider))[:3] for u in (user, other_user, third_user)] == [
        (FUNDS - 700, 700, 1),
        (100, 0, 0),
        (FUNDS - 300, 300, 2),
    ]
    settled = registered.VoucherSettled.from_receipt(receipt)
    assert [(e.user, e.paid, e.nonce) for e in settled] == [(user.address, 700, 1), (third_user.address, 300, 2)]
    [skipped] = registered.VoucherSkipped.from_receipt(receipt)
    assert skipped.event_arguments == {
        "user": other_user.address,
        "provider": provider.address,
        "nonce": 1,
        "reason": SkipReason.INSUFFICIENT_BALANCE,
    }

    replayed = _batch(registered, signed, provider)

    assert registered.earnings(provider) == 1000
    assert registered.VoucherSettled.from_receipt(replayed) == []
    assert [(e.user, e.reason) for e in registered.VoucherSkipped.from_receipt(replayed)] == [
        (user.address, SkipReason.STALE_VOUCHER),
        (other_user.address, SkipReason.INSUFFICIENT_BALANCE),
        (third_user.address, SkipReason.STALE_VOUCHER),
    ]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other provider", SkipReason.WRONG_PROVIDER),
        ("signed by another", SkipReason.INVALID_SIGNATURE),
        ("64-byte signature", SkipReason.INVALID_SIGNATURE),
        ("high-s signature", SkipReason.INVALID_SIGNATURE),
        ("replayed nonce", SkipReason.STALE_VOUCHER),
        ("amount below settled", SkipReason.AMOUNT_BELOW_SETTLED),
        ("more than the balance", SkipReason.INSUFFICIENT_BALANCE),
        ("nonce beyond 64 bits", SkipReason.VALUE_TOO_LARGE),
    ],
)
def test_settle_batch__skip_reasons(
    registered: Any,
    fund: Callable[..., None],
    sign: Callable[..., Any],
    user: Any,
    other_user: Any,
    provider: Any,
    stranger: Any,
    case: str,
    reason: SkipReason,
) -> None:
    fund(user, FUNDS)
    fund(other_user, FUNDS)
    registered.settle(*sign(other_user, provider, 2000, 5), sender=provider)
    voucher, signature = sign(other_user, provider, 3000, 6)
    bad = {
        "other provider": lambda: sign(other_user, stranger, 3000, 6),
        "signed by another": lambda: sign(other_user, provider, 3000, 6, by=stranger),
        "64-byte signature": lambda: (voucher, signature[:64]),
        "high-s signature": lambda: (voucher, _high_s(signature)),
        "replayed nonce": lambda: sign(other_user, provider, 3000, 5),
        "amount below settled": lambda: sign(other_user, provider, 1999, 6),
        "more than the balance": lambda: sign(other_user, provider, FUNDS + 2001, 6),
        "nonce beyond 64 bits": lambda: sign(other_user, provider, 3000, 2**64),
    }[case]()

    receipt = _batch(registered, [sign(user, provider, 700, 1), bad], provider)

    assert registered.earnings(provider) == 2700
    assert tuple(registered.getSubAccount(other_user, provider))[:3] == (FUNDS - 2000, 2000, 5)
    [skipped] = registered.VoucherSkipped.from_receipt(receipt)
    assert skipped.event_arguments == {
        "user": other_user.address,
        "provider": provider.address,  # the caller, whatever the voucher names
        "nonce": bad[0][3],
        "reason": reason,
    }
    # The good voucher of the other user was not spoiled: it still settles.
    registered.settle(voucher, signature, sender=provider)
    assert registered.earnings(provider) == 3700


def test_settle_batch__by_anyone_but_the_provider_pays_nobody(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any, stranger: Any
) -> None:
    fund(user, FUNDS)
    signed = [sign(user, provider, 700, 1)]

    receipt = _batch(registered, signed, stranger)

    assert (registered.earnings(stranger), registered.earnings(provider)) == (0, 0)
    assert tuple(registered.getSubAccount(user, provider))[:3] == (FUNDS, 0, 0)
    [skipped] = registered.VoucherSkipped.from_receipt(receipt)
    assert (skipped.event_arguments["provider"], skipped.reason) == (stranger.address, SkipReason.WRONG_PROVIDER)
    _batch(registered, signed, provider)  # the nonce was not used up
    assert registered.earnings(provider) == 700


def test_settle_batch__same_voucher_twice_pays_once(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    signed = sign(user, provider, 700, 1)

    receipt = _batch(registered, [signed, signed], provider)

    assert registered.earnings(provider) == 700
    [skipped] = registered.VoucherSkipped.from_receipt(receipt)
    assert skipped.reason == SkipReason.STALE_VOUCHER


def test_settle_batch__length_mismatch_reverts(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    voucher, signature = sign(user, provider, 700, 1)
    with ape.reverts(registered.InferenceLengthMismatch, vouchers=1, signatures=2):
        registered.settleBatch([voucher], [signature, signature], sender=provider)


def test_get_sub_accounts__reads_many(
    registered: Any, fund: Callable[..., None], sign: Callable[..., Any], user: Any, other_user: Any, provider: Any
) -> None:
    fund(user, FUNDS)
    registered.settle(*sign(user, provider, 5, 2), sender=provider)
    accounts = registered.getSubAccounts(provider, [user, other_user])
    assert [(a.balance, a.settled, a.nonce) for a in accounts] == [(FUNDS - 5, 5, 2), (0, 0, 0)]
