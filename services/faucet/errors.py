"""Errors the API answers with: each carries its HTTP status, a stable code and a message for people."""

from __future__ import annotations

from services.common.errors import ApiError

__all__ = ["ApiError", "chain_unavailable", "faucet_empty"]


def chain_unavailable() -> ApiError:
    # The RPC URL may embed a provider API key: it stays in the log, not in answers to the public.
    return ApiError(503, "chain_unavailable", "the faucet cannot reach its chain node right now; try again later")


def faucet_empty(balance: int, drip_amount: int) -> ApiError:
    return ApiError(
        503,
        "faucet_empty",
        f"the faucet is empty: it holds {balance} wei, less than one drip of {drip_amount} wei",
    )
