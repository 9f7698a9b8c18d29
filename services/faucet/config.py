"""The faucet daemon's settings (``ZG_FAUCET_*``) and the values derived from them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from services.common.settings import DaemonSettings
from zerog.config import LOCAL_CHAIN_ID
from zerog.explorer.settings import ExplorerSettings
from zerog.faucet.settings import DEFAULT_FAUCET_PORT, FaucetSettings

#: Ticker of the native token, as wallets show it on 0G networks.
NATIVE_SYMBOL = "0G"

_KNOWN_NETWORKS = {
    LOCAL_CHAIN_ID: "0G local devnet",
    16600: "0G Newton testnet",
    16602: "0G Galileo testnet",
    16661: "0G mainnet",
}


class FaucetDaemonSettings(FaucetSettings, ExplorerSettings, DaemonSettings):
    faucet_host: str = "127.0.0.1"
    faucet_port: int = DEFAULT_FAUCET_PORT
    # Key of the faucet's dripper account (DRIPPER_ROLE); dev account 1 on the local network.
    faucet_private_key: SecretStr | None = None
    # Service-side limits: one claim per address per window, `faucet_ip_limit` claims per IP per window.
    faucet_window: int = Field(default=3600, ge=0)
    faucet_ip_limit: int = Field(default=5, ge=1)


def db_path(settings: FaucetDaemonSettings) -> Path:
    """The faucet's SQLite store: claims (service limits) and the drips its follower saw on chain."""
    return settings.data_dir / "faucet" / "faucet.db"


def network_name(chain_id: int) -> str:
    return _KNOWN_NETWORKS.get(chain_id, f"EVM chain {chain_id}")
