"""Marketplace settings of the SDK side: the Marketplace deploy parameters."""

from __future__ import annotations

from pydantic import Field

from zerog.config import Settings

#: The highest platform fee the contract accepts (basis points).
MAX_FEE_BPS = 1000


class MarketSettings(Settings):
    # Deploy time: the platform fee in basis points of each purchase (0: none; the admin may change it within
    # MAX_FEE_BPS) and seconds a lister has to grant a private item's key before the buyer may take the payment back.
    market_fee_bps: int = Field(default=0, ge=0, le=MAX_FEE_BPS)
    market_grant_timeout: int = Field(default=24 * 3600, gt=0)
