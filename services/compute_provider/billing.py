"""Metering and payment: admits a request only on a valid voucher that covers everything owed, from a
sub-account that covers the request's maximum cost; signs the receipt when it is done.

Rules (docs/architecture.md §6, IInferenceServing.sol):
- the voucher is signed by its user, for this provider, on this chain and contract (EIP-712 domain), and for
  this very request body (request hash);
- its nonce is above every nonce seen from that user (here or settled on chain): a replay is refused;
- its amount covers every receipt given so far (what the user owes); one request per user runs at a time, so
  the client always knew every earlier receipt when it signed;
- the user accepted our signer on chain, and the sub-account's spendable balance (less a pending refund)
  covers the unsettled amount plus this request's maximum cost (prompt + max_tokens at the prices).
Everything that refuses a request does so before the model runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from services.compute_provider.errors import OpenAIError, payment_required, unauthorized
from services.compute_provider.store import AccountRow, ProviderStore
from zerog.auth import SignatureError
from zerog.compute.client import Compute
from zerog.compute.protocol import Receipt, Voucher, VoucherError, fee_for, request_hash
from zerog.compute.records import SubAccountInfo

#: Seconds a sub-account read from the chain is trusted for admission (re-read at once before refusing).
ACCOUNT_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Prices:
    input: int
    output: int

    def fee(self, input_tokens: int, output_tokens: int) -> int:
        return fee_for(input_tokens, output_tokens, self.input, self.output)


@dataclass(frozen=True)
class Ticket:
    """An admitted request: what it may cost and which voucher paid its way in."""

    voucher: Voucher
    input_tokens: int
    max_cost: int
    admitted_at: float


class Billing:
    def __init__(self, compute: Compute, store: ProviderStore, signer: LocalAccount, prices: Prices) -> None:
        self.compute = compute
        self.store = store
        self.signer = signer
        self.prices = prices
        self.provider = compute.address
        self.domain = compute.domain
        self._accounts: dict[str, tuple[SubAccountInfo, float]] = {}
        self._user_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _user_lock(self, user: str) -> threading.Lock:
        with self._guard:
            return self._user_locks.setdefault(user, threading.Lock())

    # ------------------------------------------------------------ chain view

    def sub_account(self, user: str, fresh: bool = False) -> SubAccountInfo:
        cached = self._accounts.get(user)
        if not fresh and cached is not None and time.monotonic() - cached[1] < ACCOUNT_CACHE_SECONDS:
            return cached[0]
        account = self.compute.sub_account(self.provider, user)
        self._accounts[user] = (account, time.monotonic())
        return account

    def forget(self, user: str) -> None:
        self._accounts.pop(user, None)

    # ------------------------------------------------------------ admission

    def verify(self, headers: Mapping[str, str], body: bytes) -> tuple[Voucher, str]:
        """The voucher of a request, checked for form, provider, body and signature (no state)."""
        try:
            parsed = Voucher.from_headers(headers)
        except VoucherError as exc:
            raise unauthorized("invalid_voucher", str(exc)) from exc
        if parsed is None:
            raise unauthorized(
                "missing_voucher",
                "this provider is paid with vouchers: send the X-0G-* headers "
                "(zerog.compute.Compute(...).openai_client(provider) does it for you)",
            )
        voucher, signature = parsed
        if voucher.provider != self.provider:
            raise unauthorized(
                "wrong_provider", f"the voucher is for provider {voucher.provider}, this is {self.provider}"
            )
        actual = request_hash(body)
        if voucher.request_hash != actual:
            raise unauthorized(
                "request_hash_mismatch",
                f"the voucher was signed for request {voucher.request_hash}, this body is {actual}",
            )
        try:
            signer = voucher.signer(self.domain, signature)
        except SignatureError as exc:
            raise unauthorized("invalid_signature", f"voucher signature: {exc}") from exc
        if signer != voucher.user:
            raise unauthorized(
                "invalid_signature",
                f"the voucher names {voucher.user} but was signed by {signer} "
                f"(EIP-712 domain: chain {self.domain.chain_id}, contract {self.domain.verifying_contract})",
            )
        return voucher, signature

    def precheck(self, headers: Mapping[str, str], body: bytes) -> tuple[Voucher, str]:
        """The cheap refusals, before the request is parsed or tokenised: a voucher signed for this body by its
        user, a nonce not used yet, and a sub-account that can still pay what the voucher promises so far. Returns
        the verified voucher and signature for `admit`, which checks the state again once the cost is known."""
        voucher, signature = self.verify(headers, body)
        chain = self.sub_account(voucher.user)
        row = self.store.account(voucher.user)
        if row.inflight_nonce is None:  # else `admit` answers 409 request_in_flight, as it always did
            self._check_nonce(voucher, row, chain)
        self._check_funds(voucher, chain, 0)
        return voucher, signature

    def admit(self, voucher: Voucher, signature: str, input_tokens: int, max_tokens: int) -> Ticket:
        """Admits the request of a voucher `precheck` verified, now that its cost is bounded."""
        max_cost = self.prices.fee(input_tokens, max_tokens)
        with self._user_lock(voucher.user):
            row = self.store.account(voucher.user)
            if row.inflight_nonce is not None:
                raise OpenAIError(
                    409,
                    "request_in_flight",
                    f"request {row.inflight_nonce} of {voucher.user} is still running; one request per user at a "
                    "time (each voucher must cover the previous request's receipt)",
                )
            chain = self.sub_account(voucher.user)
            self._check_nonce(voucher, row, chain)
            owed = max(row.owed, chain.settled)
            if voucher.amount < owed:
                raise payment_required(
                    "voucher_below_owed",
                    f"the voucher promises {voucher.amount} wei in total but {voucher.user} owes {owed} "
                    f"(see GET /v1/account/{voucher.user})",
                )
            chain = self._check_funds(voucher, chain, max_cost)
            self.store.admit(voucher, signature, max(owed, voucher.amount))
        return Ticket(voucher, input_tokens, max_cost, time.monotonic())

    def _check_nonce(self, voucher: Voucher, row: AccountRow, chain: SubAccountInfo) -> None:
        last = max(row.voucher_nonce, chain.nonce)
        if voucher.nonce <= last:
            raise unauthorized(
                "voucher_replayed", f"voucher nonce {voucher.nonce} was already used: the last one is {last}"
            )

    def _check_funds(self, voucher: Voucher, chain: SubAccountInfo, max_cost: int) -> SubAccountInfo:
        for fresh in (False, True):  # a refusal is always re-checked against the chain first
            if fresh:
                chain = self.sub_account(voucher.user, fresh=True)
            signer_ok = chain.acknowledged_signer == self.signer.address
            needed = voucher.amount - chain.settled + max_cost
            if signer_ok and needed <= chain.spendable:
                return chain
        if not signer_ok:
            raise unauthorized(
                "signer_not_acknowledged",
                f"{voucher.user} has not acknowledged this provider's signer {self.signer.address} on chain "
                f"(InferenceServing.acknowledgeSigner({self.provider}); `zg compute transfer` does it)",
            )
        raise payment_required(
            "insufficient_balance",
            f"the sub-account of {voucher.user} with {self.provider} can pay {chain.spendable} wei "
            f"(balance {chain.balance}, refund pending {chain.refund_pending}); this request needs up to {needed} "
            f"({voucher.amount - chain.settled} unsettled + at most {max_cost} for this request): "
            f"top it up with `zg compute transfer {self.provider} AMOUNT`",
        )

    # ------------------------------------------------------------ completion

    def complete(self, ticket: Ticket, output_tokens: int) -> tuple[Receipt, str]:
        """Charges the request for what it used and signs its receipt."""
        voucher = ticket.voucher
        fee = self.prices.fee(ticket.input_tokens, output_tokens)
        with self._user_lock(voucher.user):
            row = self.store.account(voucher.user)
            receipt = Receipt(
                voucher.user,
                self.provider,
                voucher.request_hash,
                voucher.nonce,
                ticket.input_tokens,
                output_tokens,
                fee,
                row.owed + fee,
            )
            signature = receipt.sign(self.signer, self.domain)
            self.store.complete(receipt, signature)
        return receipt, signature

    def release(self, ticket: Ticket) -> None:
        """The request failed before the model produced anything: no charge."""
        self.store.release(ticket.voucher.user, ticket.voucher.nonce)

    def account_view(self, user: str) -> dict[str, object]:
        """What GET /v1/account/{user} shows: the user's last voucher and the receipts it does not cover yet."""
        row = self.store.account(user)
        view: dict[str, object] = {
            "user": user,
            "provider": self.provider,
            "owed": str(row.owed),
            "nonce": row.voucher_nonce,
            "inflight": row.inflight_nonce is not None,
            "settled": {"amount": str(row.settled_amount), "nonce": row.settled_nonce},
            "voucher": None,
            "receipts": [],
        }
        if row.voucher is not None and row.signature is not None:
            view["voucher"] = {**row.voucher.to_json(), "signature": row.signature}
            view["receipts"] = [
                {"receipt": r.receipt.to_json(), "signature": r.signature}
                for r in self.store.receipts_since(user, row.voucher.nonce)
            ]
        return view
