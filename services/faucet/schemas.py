"""Request and response bodies of the faucet API. JSON keys are camelCase; wei amounts are decimal strings
(they overflow JavaScript numbers)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from web3 import Web3

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS = "0x" + "0" * 40


def parse_address(value: str) -> str:
    """Checksummed form of a 0x-prefixed hex address; all-lower or all-upper hex is accepted as is,
    mixed case must be a valid EIP-55 checksum (a typo then fails instead of sending funds astray)."""
    value = value.strip()
    if not _HEX_ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an address: expected 0x followed by 40 hex digits")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not Web3.is_checksum_address(value):
        raise ValueError(f"{value} has mixed case but a wrong EIP-55 checksum: check it for typos")
    if int(digits, 16) == 0:
        raise ValueError("the zero address cannot receive drips")
    return Web3.to_checksum_address(value)


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


# ---------------------------------------------------------------- claim


class ClaimRequest(ApiModel):
    address: str = Field(description="Recipient: 0x + 40 hex digits, any case (mixed case must be EIP-55)")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return parse_address(value)


class ClaimResponse(ApiModel):
    address: str = Field(description="Checksummed recipient")
    amount: str = Field(description="Wei sent")
    tx_hash: str
    block_number: int
    next_claim_at: int = Field(description="Unix time from which this address may claim again")


# ---------------------------------------------------------------- info and health


class DripRecord(ApiModel):
    recipient: str
    amount: str
    tx_hash: str
    block_number: int
    timestamp: int | None


class InfoResponse(ApiModel):
    network: str
    chain_id: int
    symbol: str
    faucet: str = Field(description="Faucet contract address")
    dripper: str = Field(description="Address of the service's hot key (DRIPPER_ROLE)")
    drip_amount: str = Field(description="Wei per drip")
    cooldown: int = Field(description="On-chain seconds between two drips to one address")
    balance: str = Field(description="Wei the faucet holds")
    block_number: int
    window_seconds: int = Field(description="Service limit window: one claim per address per window")
    ip_limit: int = Field(description="Claims per client IP per window")
    recent_drips: list[DripRecord] = Field(description="Newest drips seen on chain by the event follower")
    explorer_url: str | None = Field(default=None, description="The network's block explorer, if it has one")


class HealthResponse(ApiModel):
    status: Literal["ok", "degraded"]
    chain: Literal["ok", "unreachable"]
    chain_id: int
    faucet: str
    block_number: int | None
    follower_block: int | None = Field(description="Newest block the drip follower has processed")


# ---------------------------------------------------------------- errors


class ErrorDetail(ApiModel):
    code: str = Field(description="Stable machine-readable code, e.g. address_limited, faucet_empty")
    message: str
    retry_after: int | None = Field(
        default=None, description="Seconds to wait (429, and 503 faucet_budget_exhausted; also Retry-After)"
    )


class ErrorResponse(ApiModel):
    error: ErrorDetail
