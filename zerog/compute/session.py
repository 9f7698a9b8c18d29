"""A user's payment session with one provider: builds the voucher of every request and checks the receipt of
every response, through httpx event hooks, so an unmodified `openai.OpenAI` client pays as it goes.

State: `owed` (the sum of the fees of every receipt accepted), the last nonce used, and the digest of the last
receipt (the next voucher's `ack`). A new session (a new process) starts from the provider's account view
(`GET /v1/account/{user}`), trusting only what it can check: its own signature on the last voucher, the
provider signer's signature on the receipt of that voucher's request, and the chain's sub-account.
A request that ended without a receipt (connection lost, stream abandoned) leaves the session dirty; the next
request re-syncs first, so it never underpays (402) nor pays for anything it did not ask for.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from eth_account.signers.local import LocalAccount

from zerog.auth import Domain, SignatureError
from zerog.compute.protocol import (
    HEADER_NONCE,
    HEADER_RECEIPT,
    HEADER_RECEIPT_SIGNATURE,
    HEADER_REQUEST_HASH,
    HEADER_SIGNATURE,
    SSE_RECEIPT_PREFIX,
    ZERO_HASH,
    Receipt,
    Voucher,
    fee_for,
    parse_sse_receipt,
    request_hash,
)
from zerog.compute.records import ServiceInfo, SubAccountInfo
from zerog.errors import ZeroGError

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

SYNC_TIMEOUT_SECONDS = 30
#: Default timeout of the openai client built here: a CPU model streams slowly.
CLIENT_TIMEOUT_SECONDS = 300


class ReceiptError(ZeroGError):
    """A provider's receipt is missing, malformed, signed by the wrong key, or charges the wrong fee."""


class SubAccounts(Protocol):
    """Where a session reads the user's sub-account with the provider on chain (`Compute` is one)."""

    def sub_account(self, provider: str, user: str | None = None) -> SubAccountInfo: ...


class PaymentSession:
    """Vouchers and receipts with one provider; thread-safe."""

    def __init__(
        self, account: LocalAccount, service: ServiceInfo, domain: Domain, *, chain: SubAccounts | None = None
    ) -> None:
        self.account = account
        self.service = service
        self.domain = domain
        self.chain = chain
        self.owed = 0
        self.nonce = 0
        self.ack = ZERO_HASH
        #: Receipts accepted by this session, newest last.
        self.receipts: list[Receipt] = []
        # nonce -> request hash of requests sent whose receipt has not arrived.
        self._pending: dict[int, str] = {}
        # nonce -> digest of receipts accepted (a receipt can reach us twice: stream and re-sync).
        self._accepted: dict[int, str] = {}
        self._dirty = False
        self._lock = threading.RLock()

    @property
    def user(self) -> str:
        return str(self.account.address)

    @property
    def provider(self) -> str:
        return self.service.provider

    @property
    def base_url(self) -> str:
        return self.service.url.rstrip("/") + "/v1"

    # ------------------------------------------------------------ vouchers

    def voucher_headers(self, body: bytes) -> dict[str, str]:
        """Headers for a request with `body`: a fresh voucher for everything owed so far."""
        with self._lock:
            if self._dirty:
                self.sync()
            self.nonce += 1
            voucher = Voucher(self.user, self.provider, self.owed, self.nonce, request_hash(body), self.ack)
            self._pending[voucher.nonce] = voucher.request_hash
            return voucher.headers(voucher.sign(self.account, self.domain))

    # ------------------------------------------------------------ receipts

    def accept(self, receipt: Receipt, signature: str) -> Receipt:
        """Checks a receipt of one of our pending requests and adds its fee to what we owe."""
        with self._lock:
            try:
                signer = receipt.signer(self.domain, signature)
            except SignatureError as exc:
                raise ReceiptError(f"receipt signature is malformed: {exc}") from exc
            if signer != self.service.signer:
                raise ReceiptError(f"receipt signed by {signer}, not by the service's signer {self.service.signer}")
            if (receipt.user, receipt.provider) != (self.user, self.provider):
                raise ReceiptError(f"receipt is for {receipt.user} at {receipt.provider}, not for this session")
            digest = "0x" + receipt.digest(self.domain).hex()
            if self._accepted.get(receipt.nonce) == digest:
                return receipt  # already taken from the provider's account view by a re-sync
            expected_hash = self._pending.get(receipt.nonce)
            if expected_hash is None:
                raise ReceiptError(f"receipt for nonce {receipt.nonce}, which no pending request of ours carries")
            if receipt.request_hash != expected_hash:
                raise ReceiptError(f"receipt is for request {receipt.request_hash}, we sent {expected_hash}")
            self._check_fee(receipt)
            del self._pending[receipt.nonce]
            self.owed += receipt.fee
            self.ack = digest
            self._accepted[receipt.nonce] = digest
            self.receipts.append(receipt)
            return receipt

    def _check_fee(self, receipt: Receipt) -> None:
        expected = fee_for(
            receipt.input_tokens, receipt.output_tokens, self.service.input_price, self.service.output_price
        )
        if receipt.fee != expected:
            raise ReceiptError(
                f"receipt charges {receipt.fee} wei for {receipt.input_tokens}+{receipt.output_tokens} tokens; "
                f"the registered prices make it {expected}"
            )

    def abandon(self, nonce: int) -> None:
        """Request `nonce` ended without a receipt: the provider may have charged it, so re-sync before the
        next voucher."""
        with self._lock:
            if nonce in self._pending:
                self._dirty = True

    def reject(self, nonce: int, resync: bool = False) -> None:
        """Request `nonce` was refused before the model ran: nothing is owed for it. With `resync` (the
        provider disagreed about our nonce or what we owe), the next voucher starts from a re-sync."""
        with self._lock:
            self._pending.pop(nonce, None)
            self._dirty = self._dirty or resync

    # ------------------------------------------------------------ sync

    def sync(self, http: httpx.Client | None = None) -> None:
        """Start from the provider's view of our account, checking everything it says."""
        with self._lock:
            url = f"{self.base_url}/account/{self.user}"
            try:
                response = (http or httpx).get(url, timeout=SYNC_TIMEOUT_SECONDS)  # type: ignore[attr-defined]
            except httpx.HTTPError as exc:
                raise ZeroGError(f"provider {self.provider} at {self.service.url} does not answer: {exc}") from exc
            if response.status_code != 200:
                raise ZeroGError(f"provider account view failed ({response.status_code}): {response.text[:300]}")
            self._apply_view(response.json())

    def _apply_view(self, view: dict[str, Any]) -> None:
        owed, nonce, ack = 0, 0, ZERO_HASH
        accepted: list[Receipt] = []
        if (raw := view.get("voucher")) is not None:
            try:
                voucher = Voucher(
                    self.user,
                    self.provider,
                    int(raw["amount"]),
                    int(raw["nonce"]),
                    str(raw["requestHash"]),
                    str(raw["ack"]),
                )
                signer = voucher.signer(self.domain, str(raw["signature"]))
            except (KeyError, ValueError, TypeError, SignatureError) as exc:
                raise ReceiptError(f"provider's account view has a malformed voucher: {exc}") from exc
            if signer != self.user:
                raise ReceiptError("provider's account view shows a voucher we did not sign")
            owed, nonce, ack = voucher.amount, voucher.nonce, voucher.ack
            for item in view.get("receipts") or []:
                try:
                    receipt = Receipt.from_json(item["receipt"])
                    signature = str(item["signature"])
                except (KeyError, TypeError) as exc:
                    raise ReceiptError(f"provider's account view has a malformed receipt: {exc}") from exc
                # Only the receipt of the request the last voucher paid for can be outstanding.
                if receipt.nonce != voucher.nonce or receipt.request_hash != voucher.request_hash:
                    raise ReceiptError(f"receipt for nonce {receipt.nonce} does not answer our last voucher")
                if receipt.signer(self.domain, signature) != self.service.signer:
                    raise ReceiptError("receipt in the provider's account view is not signed by its signer")
                self._check_fee(receipt)
                owed += receipt.fee
                ack = "0x" + receipt.digest(self.domain).hex()
                accepted.append(receipt)
        if self.chain is not None:
            # What was settled on chain was signed by us at some point; vouchers below it cannot settle.
            account = self.chain.sub_account(self.provider, self.user)
            owed, nonce = max(owed, account.settled), max(nonce, account.nonce)
        self.owed, self.nonce, self.ack = owed, max(nonce, self.nonce), ack
        self.receipts += accepted
        for receipt in accepted:
            self._accepted[receipt.nonce] = "0x" + receipt.digest(self.domain).hex()
        # Requests older than the provider's last voucher never reached it (or were refused); the one that
        # voucher paid for is settled by the view if its receipt was there, else still running.
        answered = {r.nonce for r in accepted}
        self._pending = {n: h for n, h in self._pending.items() if n >= nonce and n not in answered}
        self._dirty = False

    # ------------------------------------------------------------ httpx hooks

    def on_request(self, request: httpx.Request) -> None:
        """httpx request hook: every POST gets a voucher (GETs, like /v1/models, are free)."""
        if request.method != "POST":
            return
        request.headers.update(self.voucher_headers(request.read()))

    def on_response(self, response: httpx.Response) -> None:
        """httpx response hook: checks the receipt (headers; for streams, the SSE receipt line on the way)."""
        raw_nonce = response.request.headers.get(HEADER_NONCE)
        if raw_nonce is None or HEADER_SIGNATURE not in response.request.headers:
            return
        nonce = int(raw_nonce)
        if response.status_code != 200:
            # Refused before the model ran (4xx), or failed without charging (5xx).
            self.reject(nonce, resync=response.status_code in (401, 402))
            return
        if response.headers.get(HEADER_REQUEST_HASH) != response.request.headers.get(HEADER_REQUEST_HASH):
            self.abandon(nonce)
            raise ReceiptError("the provider answered for a different request body")
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            response.stream = _ReceiptTee(response.stream, self, nonce)  # type: ignore[arg-type]
            return
        receipt_json, signature = response.headers.get(HEADER_RECEIPT), response.headers.get(HEADER_RECEIPT_SIGNATURE)
        if not receipt_json or not signature:
            self.abandon(nonce)
            raise ReceiptError("the provider's response carries no receipt")
        try:
            receipt = Receipt.from_json(json.loads(receipt_json))
        except ValueError as exc:
            self.abandon(nonce)
            raise ReceiptError(f"malformed receipt header: {exc}") from exc
        try:
            self.accept(receipt, signature)
        except ReceiptError:
            self.abandon(nonce)
            raise

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with this session's hooks (extra hooks in `event_hooks` run after ours)."""
        hooks = kwargs.pop("event_hooks", {}) or {}
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_SECONDS)
        return httpx.Client(
            event_hooks={
                "request": [self.on_request, *hooks.get("request", [])],
                "response": [self.on_response, *hooks.get("response", [])],
            },
            **kwargs,
        )

    def openai_client(self, **kwargs: Any) -> openai.OpenAI:
        """`openai.OpenAI(base_url=<service url>/v1, http_client=<hooked httpx client>)`; kwargs go to OpenAI.
        No API key is needed: the vouchers are the credentials."""
        import openai

        kwargs.setdefault("api_key", "voucher")
        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("http_client", self.http_client())
        return openai.OpenAI(**kwargs)


class _ReceiptTee(httpx.SyncByteStream):
    """Passes a response's SSE bytes through unchanged, picking out the receipt line on the way."""

    def __init__(self, inner: httpx.SyncByteStream, session: PaymentSession, nonce: int) -> None:
        self._inner = inner
        self._session = session
        self._nonce = nonce
        self._buffer = b""
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._scan(chunk)
            yield chunk

    def _scan(self, chunk: bytes) -> None:
        if self._done:
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        prefix = SSE_RECEIPT_PREFIX.encode()
        for line in lines:
            if line.startswith(prefix):
                self._done = True
                try:
                    parsed = parse_sse_receipt(line.decode())
                    if parsed is not None:
                        self._session.accept(*parsed)
                except (SignatureError, ReceiptError, UnicodeDecodeError) as exc:
                    self._session.abandon(self._nonce)
                    raise ReceiptError(f"bad receipt in the stream: {exc}") from exc
                return

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._session.abandon(self._nonce)
        self._inner.close()
