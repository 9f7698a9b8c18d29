"""The faucet uses the stack's one Settings object (``ZG_FAUCET_*`` fields); this adds derived values."""

from __future__ import annotations

from pathlib import Path

from zerog.config import LOCAL_CHAIN_ID, Settings, get_settings

__all__ = ["Settings", "get_settings", "db_path", "network_name", "NATIVE_SYMBOL"]

#: Ticker of the native token, as wallets show it on 0G networks.
NATIVE_SYMBOL = "0G"

_KNOWN_NETWORKS = {
    LOCAL_CHAIN_ID: "0G local devnet",
    16600: "0G Newton testnet",
    16602: "0G Galileo testnet",
    16661: "0G mainnet",
}


def db_path(settings: Settings) -> Path:
    """The faucet's SQLite store: claims (service limits) and the drips its follower saw on chain."""
    return settings.data_dir / "faucet" / "faucet.db"


def network_name(chain_id: int) -> str:
    return _KNOWN_NETWORKS.get(chain_id, f"EVM chain {chain_id}")
