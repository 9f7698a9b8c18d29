"""Faucet settings of the SDK side: where the faucet is, and the Faucet contract's deploy parameters."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from zerog.config import ETHER, Settings

DEFAULT_FAUCET_PORT = 8600
#: The faucet's drip budget at deploy time: at most ten default drips an hour in total, so a leaked dripper key
#: takes 100 0G an hour (not the whole faucet at once) until the admin revokes it.
DEFAULT_FAUCET_BUDGET_WEI = 100 * ETHER
DEFAULT_FAUCET_BUDGET_WINDOW = 3600


class FaucetSettings(Settings):
    network_keys: ClassVar[dict[str, str]] = {"faucet": "faucet_url"}

    faucet_url: str = f"http://127.0.0.1:{DEFAULT_FAUCET_PORT}"
    # Deploy time: wei per drip, seconds between two drips to one address, wei the faucet is funded with, and the
    # most wei dripped per budget window (at least one drip), whoever the recipients are, and the window's seconds.
    faucet_drip_wei: int = Field(default=10 * ETHER, gt=0)
    faucet_cooldown: int = Field(default=3600, ge=0)
    faucet_fund_wei: int = Field(default=1_000 * ETHER, ge=0)
    faucet_budget_wei: int = Field(default=DEFAULT_FAUCET_BUDGET_WEI, gt=0)
    faucet_budget_window: int = Field(default=DEFAULT_FAUCET_BUDGET_WINDOW, gt=0)
