"""The provider uses the stack's one Settings object (``ZG_COMPUTE_*`` fields); this adds derived values."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from zerog.accounts import account_from_key, role_account
from zerog.config import Settings, get_settings

__all__ = ["Settings", "get_settings", "db_path", "provider_url", "model_path", "load_provider", "load_signer"]

#: Dev account holding the provider's key on the local network (0: users and the deployer, 1: the faucet).
DEV_PROVIDER_INDEX = 2


def db_path(settings: Settings, chain_id: int, serving: str, provider: str) -> Path:
    """The provider's SQLite store: vouchers, receipts, settlements. One per (chain, contract, provider key), so
    a restart on another port still finds the vouchers it must settle, and a fresh chain never sees vouchers
    signed for another one. Losing it loses the unsettled vouchers."""
    return settings.data_dir / "compute" / f"provider-{chain_id}-{serving.lower()}-{provider.lower()}.db"


def provider_url(settings: Settings) -> str:
    """The URL registered on chain: ZG_COMPUTE_URL, else where the daemon listens."""
    return (settings.compute_url or f"http://{settings.compute_host}:{settings.compute_port}").rstrip("/")


def model_path(settings: Settings) -> Path:
    """The checkpoint to serve: ZG_COMPUTE_MODEL_PATH, else the cached `<model dir>/<name>.pt`."""
    if settings.compute_model_path is not None:
        return settings.compute_model_path
    return settings.compute_model_dir / f"{settings.compute_model_name}.pt"


def load_provider(settings: Settings) -> LocalAccount:
    """The provider's key (registers, settles, is paid): ZG_COMPUTE_PROVIDER_PRIVATE_KEY, or dev account 2 on
    the local network only."""
    return role_account(settings, "compute_provider_private_key", DEV_PROVIDER_INDEX, "compute provider")


def load_signer(settings: Settings) -> LocalAccount:
    """The key signing receipts: ZG_COMPUTE_SIGNER_PRIVATE_KEY, else the provider's own key."""
    if settings.compute_signer_private_key is not None:
        return account_from_key(settings.compute_signer_private_key.get_secret_value())
    return load_provider(settings)
