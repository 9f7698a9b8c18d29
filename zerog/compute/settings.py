"""Compute settings of the SDK side: the Ledger and InferenceServing deploy parameters."""

from __future__ import annotations

from pydantic import Field

from zerog.config import ETHER, Settings


class ComputeSettings(Settings):
    # Deploy time: seconds a sub-account refund waits (must exceed every provider's settle interval) and the
    # least stake a service locks.
    compute_refund_lock: int = Field(default=2 * 3600, gt=0)
    compute_min_stake_wei: int = Field(default=ETHER // 10, ge=0)
