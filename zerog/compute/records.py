"""What the InferenceServing contract returns and takes, as Python values: a service, a user's sub-account with a
provider, and the contract's enums."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address


class ServiceType(IntEnum):
    CHATBOT = 0
    FINE_TUNING = 1


class Verifiability(IntEnum):
    NONE = 0
    SIGNED_RECEIPTS = 1
    TEE_ATTESTED = 2


class SkipReason(IntEnum):
    """Why `settleBatch` skipped a voucher (`VoucherSkipped.reason`; IInferenceServing.SkipReason)."""

    NONE = 0
    WRONG_PROVIDER = 1
    INVALID_SIGNATURE = 2
    STALE_VOUCHER = 3
    AMOUNT_BELOW_SETTLED = 4
    INSUFFICIENT_BALANCE = 5
    VALUE_TOO_LARGE = 6


@dataclass(frozen=True)
class ServiceInfo:
    provider: str
    service_type: ServiceType
    verifiability: Verifiability
    signer: str
    input_price: int
    output_price: int
    stake: int
    updated_at: int
    url: str
    model: str

    @classmethod
    def from_tuple(cls, raw: Any) -> ServiceInfo:
        provider, kind, verifiability, signer, input_price, output_price, stake, updated_at, url, model = raw
        return cls(
            to_checksum_address(provider),
            ServiceType(kind),
            Verifiability(verifiability),
            to_checksum_address(signer),
            int(input_price),
            int(output_price),
            int(stake),
            int(updated_at),
            str(url),
            str(model),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "type": self.service_type.name.lower(),
            "verifiability": self.verifiability.name.lower(),
            "signer": self.signer,
            "inputPrice": str(self.input_price),
            "outputPrice": str(self.output_price),
            "stake": str(self.stake),
            "updatedAt": self.updated_at,
            "url": self.url,
            "model": self.model,
        }


@dataclass(frozen=True)
class SubAccountInfo:
    balance: int
    settled: int
    nonce: int
    refund_pending: int
    refund_unlock_at: int
    acknowledged_signer: str

    @classmethod
    def from_tuple(cls, raw: Any) -> SubAccountInfo:
        balance, settled, nonce, pending, unlock_at, signer = raw
        return cls(int(balance), int(settled), int(nonce), int(pending), int(unlock_at), to_checksum_address(signer))

    @property
    def spendable(self) -> int:
        """What can still be promised to the provider: the balance less a pending refund."""
        return max(0, self.balance - self.refund_pending)

    def to_json(self) -> dict[str, Any]:
        return {
            "balance": str(self.balance),
            "settled": str(self.settled),
            "nonce": self.nonce,
            "refundPending": str(self.refund_pending),
            "refundUnlockAt": self.refund_unlock_at,
            "acknowledgedSigner": self.acknowledged_signer,
        }
