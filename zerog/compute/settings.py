"""Compute settings of the SDK side: the Ledger, InferenceServing and FineTuningServing deploy parameters."""

from __future__ import annotations

from pydantic import Field

from zerog.config import ETHER, Settings

#: Basis points of a whole amount: the most a fine-tuning share or slash can be.
BPS = 10_000


class ComputeSettings(Settings):
    # Deploy time: seconds a sub-account refund waits (must exceed every provider's settle interval) and the
    # least stake a service locks (inference and fine-tuning alike).
    compute_refund_lock: int = Field(default=2 * 3600, gt=0)
    compute_min_stake_wei: int = Field(default=ETHER // 10, ge=0)
    # Deploy time, fine-tuning: seconds a user has to acknowledge a delivery, the share of the fee (basis points)
    # a delivery left unacknowledged that long pays, and the share of its stake a provider loses per missed deadline.
    compute_finetune_ack_timeout: int = Field(default=24 * 3600, gt=0)
    compute_finetune_unacknowledged_share_bps: int = Field(default=5000, ge=0, le=BPS)
    compute_finetune_timeout_slash_bps: int = Field(default=1000, ge=0, le=BPS)
