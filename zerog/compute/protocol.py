"""The compute payment protocol, shared by the SDK and the provider: vouchers (user → provider, with every
request), receipts (provider → user, with every response), their EIP-712 types and domain, and the HTTP
headers and SSE line that carry them. docs/architecture.md §6 has the design; IInferenceServing.sol the contract.

Request headers:  X-0G-User, X-0G-Provider, X-0G-Amount, X-0G-Nonce, X-0G-Request-Hash, X-0G-Ack, X-0G-Signature
Response headers: X-0G-Request-Hash, X-0G-Receipt (JSON), X-0G-Receipt-Signature
Streams carry the receipt in an SSE comment line just before ``data: [DONE]`` (headers leave before usage is
known; SSE clients ignore comment lines): ``: x-0g-receipt {"receipt": {...}, "signature": "0x..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from zerog.auth import Domain, SignatureError, StructType, recover_digest, sign_digest

DOMAIN_NAME = "0G InferenceServing"
DOMAIN_VERSION = "1"
ZERO_HASH = "0x" + "00" * 32

VOUCHER_TYPE = StructType(
    "Voucher",
    (
        ("user", "address"),
        ("provider", "address"),
        ("amount", "uint256"),
        ("nonce", "uint256"),
        ("requestHash", "bytes32"),
        ("ack", "bytes32"),
    ),
)
RECEIPT_TYPE = StructType(
    "Receipt",
    (
        ("user", "address"),
        ("provider", "address"),
        ("requestHash", "bytes32"),
        ("nonce", "uint256"),
        ("inputTokens", "uint256"),
        ("outputTokens", "uint256"),
        ("fee", "uint256"),
        ("cumulative", "uint256"),
    ),
)

HEADER_USER = "X-0G-User"
HEADER_PROVIDER = "X-0G-Provider"
HEADER_AMOUNT = "X-0G-Amount"
HEADER_NONCE = "X-0G-Nonce"
HEADER_REQUEST_HASH = "X-0G-Request-Hash"
HEADER_ACK = "X-0G-Ack"
HEADER_SIGNATURE = "X-0G-Signature"
HEADER_RECEIPT = "X-0G-Receipt"
HEADER_RECEIPT_SIGNATURE = "X-0G-Receipt-Signature"
VOUCHER_HEADERS = (
    HEADER_USER,
    HEADER_PROVIDER,
    HEADER_AMOUNT,
    HEADER_NONCE,
    HEADER_REQUEST_HASH,
    HEADER_ACK,
    HEADER_SIGNATURE,
)
SSE_RECEIPT_PREFIX = ": x-0g-receipt "


class VoucherError(SignatureError):
    """Voucher headers are missing or malformed."""


def serving_domain(chain_id: int, serving_address: str) -> Domain:
    """The InferenceServing contract's EIP-712 domain: vouchers and receipts are valid on one chain, for one
    contract only."""
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, to_checksum_address(serving_address))


def request_hash(body: bytes) -> str:
    """What vouchers and receipts bind a request by: keccak256 of its exact body bytes."""
    return "0x" + keccak(body).hex()


def fee_for(input_tokens: int, output_tokens: int, input_price: int, output_price: int) -> int:
    return input_tokens * input_price + output_tokens * output_price


def _hash32(value: str | bytes) -> str:
    raw = bytes(HexBytes(value))
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return "0x" + raw.hex()


@dataclass(frozen=True)
class Voucher:
    """The user's promise: `amount` wei in total to `provider`, at `nonce`, sent with request `request_hash`."""

    user: str
    provider: str
    amount: int
    nonce: int
    request_hash: str
    ack: str = ZERO_HASH

    def message(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "provider": self.provider,
            "amount": self.amount,
            "nonce": self.nonce,
            "requestHash": self.request_hash,
            "ack": self.ack,
        }

    def as_tuple(self) -> tuple[str, str, int, int, bytes, bytes]:
        """The Solidity struct, for contract calls."""
        return (
            self.user,
            self.provider,
            self.amount,
            self.nonce,
            bytes(HexBytes(self.request_hash)),
            bytes(HexBytes(self.ack)),
        )

    def digest(self, domain: Domain) -> bytes:
        return VOUCHER_TYPE.digest(domain, self.message())

    def sign(self, account: LocalAccount, domain: Domain) -> str:
        return "0x" + sign_digest(account, self.digest(domain)).hex()

    def signer(self, domain: Domain, signature: str) -> str:
        return recover_digest(self.digest(domain), signature)

    def headers(self, signature: str) -> dict[str, str]:
        return {
            HEADER_USER: self.user,
            HEADER_PROVIDER: self.provider,
            HEADER_AMOUNT: str(self.amount),
            HEADER_NONCE: str(self.nonce),
            HEADER_REQUEST_HASH: self.request_hash,
            HEADER_ACK: self.ack,
            HEADER_SIGNATURE: signature,
        }

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> tuple[Voucher, str] | None:
        """(voucher, signature) from request headers; None if no voucher header at all; VoucherError if only
        some are there or one is malformed."""
        values = {name: headers.get(name) for name in VOUCHER_HEADERS}
        if all(v is None for v in values.values()):
            return None
        missing = [name for name, v in values.items() if not v]
        if missing:
            raise VoucherError(f"voucher headers missing: {', '.join(missing)}")
        try:
            voucher = cls(
                user=to_checksum_address(values[HEADER_USER]),
                provider=to_checksum_address(values[HEADER_PROVIDER]),
                amount=int(str(values[HEADER_AMOUNT])),
                nonce=int(str(values[HEADER_NONCE])),
                request_hash=_hash32(str(values[HEADER_REQUEST_HASH])),
                ack=_hash32(str(values[HEADER_ACK])),
            )
        except (ValueError, TypeError) as exc:
            raise VoucherError(f"malformed voucher header: {exc}") from exc
        if voucher.amount < 0 or voucher.nonce <= 0 or max(voucher.amount, voucher.nonce) >= 1 << 256:
            raise VoucherError("voucher amount must be ≥ 0 and nonce > 0 (uint256)")
        signature = str(values[HEADER_SIGNATURE])
        return voucher, signature

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "provider": self.provider,
            "amount": str(self.amount),
            "nonce": self.nonce,
            "requestHash": self.request_hash,
            "ack": self.ack,
        }


@dataclass(frozen=True)
class Receipt:
    """The provider's statement: request `request_hash` (voucher `nonce`) used these tokens, costs `fee`, and
    the user now owes `cumulative` in total."""

    user: str
    provider: str
    request_hash: str
    nonce: int
    input_tokens: int
    output_tokens: int
    fee: int
    cumulative: int

    def message(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "provider": self.provider,
            "requestHash": self.request_hash,
            "nonce": self.nonce,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "fee": self.fee,
            "cumulative": self.cumulative,
        }

    def as_tuple(self) -> tuple[str, str, bytes, int, int, int, int, int]:
        return (
            self.user,
            self.provider,
            bytes(HexBytes(self.request_hash)),
            self.nonce,
            self.input_tokens,
            self.output_tokens,
            self.fee,
            self.cumulative,
        )

    def digest(self, domain: Domain) -> bytes:
        return RECEIPT_TYPE.digest(domain, self.message())

    def sign(self, account: LocalAccount, domain: Domain) -> str:
        return "0x" + sign_digest(account, self.digest(domain)).hex()

    def signer(self, domain: Domain, signature: str) -> str:
        return recover_digest(self.digest(domain), signature)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe: wei amounts as decimal strings (they exceed 2^53)."""
        return {
            "user": self.user,
            "provider": self.provider,
            "requestHash": self.request_hash,
            "nonce": self.nonce,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "fee": str(self.fee),
            "cumulative": str(self.cumulative),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Receipt:
        try:
            return cls(
                user=to_checksum_address(data["user"]),
                provider=to_checksum_address(data["provider"]),
                request_hash=_hash32(data["requestHash"]),
                nonce=int(data["nonce"]),
                input_tokens=int(data["inputTokens"]),
                output_tokens=int(data["outputTokens"]),
                fee=int(data["fee"]),
                cumulative=int(data["cumulative"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise SignatureError(f"malformed receipt: {exc}") from exc

    def header_value(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    def sse_line(self, signature: str) -> str:
        body = json.dumps({"receipt": self.to_json(), "signature": signature}, separators=(",", ":"))
        return f"{SSE_RECEIPT_PREFIX}{body}\n\n"


def parse_sse_receipt(line: str) -> tuple[Receipt, str] | None:
    """(receipt, signature) from one SSE line if it is the receipt comment, else None."""
    if not line.startswith(SSE_RECEIPT_PREFIX):
        return None
    try:
        data = json.loads(line[len(SSE_RECEIPT_PREFIX) :])
        return Receipt.from_json(data["receipt"]), str(data["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"malformed receipt line: {exc}") from exc
