"""One settings object for the SDK, the CLI and every daemon (env prefix ``ZG_``, ``.env``, CLI flags)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The local network's chain id: 0G-style (Galileo is 16602, mainnet 16661) but distinct, so a wallet
#: that also knows the public testnet never mixes the two up.
LOCAL_CHAIN_ID = 16688
#: 0G's public networks (Newton and Galileo testnets, mainnet): dev keys are never used there.
PUBLIC_CHAIN_IDS = frozenset({16600, 16601, 16602, 16661})
DEFAULT_RPC_PORT = 8545
DEFAULT_FAUCET_PORT = 8600
#: 0G's own defaults: zgs node JSON-RPC on 5678, indexer on 12345.
DEFAULT_STORAGE_PORT = 5678
DEFAULT_INDEXER_PORT = 12345
#: Anvil's well-known dev mnemonic: public, funded only on the local chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 10
ETHER = 10**18


class Settings(BaseSettings):
    """Configuration shared by `zg`, the SDK and the services. Every field is ``ZG_<FIELD>`` in the env."""

    model_config = SettingsConfigDict(env_prefix="ZG_", env_file=".env", extra="ignore")

    # Where the chain is; the local network `zg up` starts by default.
    rpc_url: str = f"http://127.0.0.1:{DEFAULT_RPC_PORT}"
    # Chain id the bundled node runs with (and that marks a network as the local dev network).
    chain_id: int = LOCAL_CHAIN_ID
    # Hex private key of the account that signs; never printed or logged.
    private_key: SecretStr | None = None
    # An eth-account / ape keystore file (JSON) and its password, used when no private key is set.
    keystore: Path | None = None
    keystore_password: SecretStr | None = None
    # Working state of the node and daemons: chain state, SQLite stores, network.json.
    data_dir: Path = Path.home() / ".zerog"
    # Where deployment manifests `<chainId>.json` live.
    deployments_dir: Path = Path("deployments")
    # Blocks a log must be buried under before daemons act on it.
    confirmations: int = Field(default=0, ge=0)
    # Seconds between block polls of the event follower.
    poll_interval: float = Field(default=0.5, gt=0)
    # Seconds to wait for a transaction receipt.
    tx_timeout: float = Field(default=120, gt=0)

    # Bundled chain (anvil) options.
    chain_host: str = "127.0.0.1"
    chain_port: int = DEFAULT_RPC_PORT
    # Seconds between blocks; None mines one block per transaction.
    block_time: float | None = None
    dev_accounts: int = DEV_ACCOUNTS
    dev_balance_ether: int = 10_000

    # Faucet parameters (deploy) and service (daemon).
    faucet_url: str = f"http://127.0.0.1:{DEFAULT_FAUCET_PORT}"
    faucet_host: str = "127.0.0.1"
    faucet_port: int = DEFAULT_FAUCET_PORT
    faucet_drip_wei: int = Field(default=10 * ETHER, gt=0)
    faucet_cooldown: int = Field(default=3600, ge=0)
    faucet_fund_wei: int = Field(default=1_000 * ETHER, ge=0)
    # Key of the faucet's dripper account (DRIPPER_ROLE); dev account 1 on the local network.
    faucet_private_key: SecretStr | None = None
    # Service-side limits: one claim per address per window, `faucet_ip_limit` claims per IP per window.
    faucet_window: int = Field(default=3600, ge=0)
    faucet_ip_limit: int = Field(default=5, ge=1)

    # Storage contracts (deploy time): wei per 256-byte sector, blocks per mining epoch, sectors per
    # pricing chunk of the reward pool (0G: 8 GiB), seconds over which a chunk's fees are released.
    storage_price_per_sector: int = Field(default=10**9, ge=0)
    storage_blocks_per_epoch: int = Field(default=20, gt=0)
    storage_sectors_per_pricing_chunk: int = Field(default=2**25, gt=0)
    storage_release_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    # Storage node (one process per node; `zg up` runs two, one per shard).
    storage_host: str = "127.0.0.1"
    storage_port: int = DEFAULT_STORAGE_PORT
    # This node stores segment i of the flow only if i % storage_num_shard == storage_shard_id.
    storage_shard_id: int = Field(default=0, ge=0)
    storage_num_shard: int = Field(default=1, ge=1)
    # Subdirectory of the data dir for this node's segments and index.
    storage_name: str = "storage-0"
    # Storage indexer: knows the nodes and which files they hold.
    indexer_host: str = "127.0.0.1"
    indexer_port: int = DEFAULT_INDEXER_PORT
    indexer_url: str = f"http://127.0.0.1:{DEFAULT_INDEXER_PORT}"
    # Comma-separated URLs of the storage nodes the indexer serves.
    indexer_nodes: str = f"http://127.0.0.1:{DEFAULT_STORAGE_PORT}"

    # Ports of the storage nodes `zg up` starts, one shard each (1, 2 or 4 nodes).
    storage_ports: str = f"{DEFAULT_STORAGE_PORT},{DEFAULT_STORAGE_PORT + 1}"

    @property
    def storage_port_list(self) -> list[int]:
        ports = [int(p) for p in self.storage_ports.split(",") if p.strip()]
        if len(ports) not in (1, 2, 4):
            raise ValueError(f"storage_ports must list 1, 2 or 4 ports (one shard each), not {len(ports)}")
        return ports

    @property
    def indexer_node_urls(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.indexer_nodes.split(",") if url.strip()]

    @property
    def network_file(self) -> Path:
        return self.data_dir / "network.json"

    @property
    def is_local(self) -> bool:
        """True for a dev chain on this machine, where the public dev keys may be used: a loopback RPC
        whose chain id is not one of 0G's public networks (a tunnel to a real node is not a dev chain)."""
        host = urlparse(self.rpc_url).hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"} and self.chain_id not in PUBLIC_CHAIN_IDS

    def manifest_path(self, chain_id: int) -> Path:
        return self.deployments_dir / f"{chain_id}.json"


def _network_defaults(data_dir: Path) -> dict[str, Any]:
    """Endpoints from a running `zg up` (its network.json), used where nothing else was configured."""
    try:
        network = json.loads((data_dir / "network.json").read_text())
    except (OSError, ValueError):
        return {}
    defaults = {"rpc_url": network.get("rpc"), "chain_id": network.get("chainId")}
    if faucet := network.get("faucet"):
        defaults["faucet_url"] = faucet
    if indexer := network.get("indexer"):
        defaults["indexer_url"] = indexer
    if manifest := network.get("manifest"):
        defaults["deployments_dir"] = Path(manifest).parent
    return {k: v for k, v in defaults.items() if v is not None}


def load_settings(**overrides: Any) -> Settings:
    """Settings from env/.env, then a running network's endpoints, then explicit overrides (CLI flags)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    base = Settings(**overrides)
    explicit = base.model_fields_set | set(overrides)
    defaults = {k: v for k, v in _network_defaults(base.data_dir).items() if k not in explicit}
    return base.model_copy(update=defaults) if defaults else base


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; tests call ``get_settings.cache_clear()`` after changing the env."""
    return load_settings()


def settings_env(settings: Settings) -> dict[str, str]:
    """`settings` as ZG_* variables, for a child process (daemon, `ape run deploy`) that must share them."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"ZG_{name.upper()}"] = str(value)
    return env
