"""One settings object for the SDK, the CLI and every daemon (env prefix ``ZG_``, ``.env``, CLI flags)."""

from __future__ import annotations

import json
from collections.abc import Collection
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
#: Compute provider (OpenAI-compatible API) of `zg up`.
DEFAULT_COMPUTE_PORT = 8700
#: DA signer daemons (base port; signer i on base + i) and the OP alt-DA server of `zg da server`.
DEFAULT_DA_SIGNER_PORT = 8800
DEFAULT_DA_SERVER_PORT = 3100
#: Anvil's well-known dev mnemonic: public, funded only on the local chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 10
ETHER = 10**18
#: The faucet's drip budget at deploy time: at most ten default drips an hour in total, so a leaked dripper key
#: takes 100 0G an hour (not the whole faucet at once) until the admin revokes it.
DEFAULT_FAUCET_BUDGET_WEI = 100 * ETHER
DEFAULT_FAUCET_BUDGET_WINDOW = 3600


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
    # Every daemon: DNS names (comma-separated) its Host header may carry besides IP addresses and localhost,
    # and the web origins allowed to call it from a browser (CORS, and state-changing requests); none by default.
    allowed_hosts: str = ""
    cors_origins: str = ""
    # Daemons whose event follower finds another chain than the one their data came from (a wiped dev chain)
    # stop and delete nothing; with this on they drop what they synced from the old chain and sync again.
    resync: bool = False
    # Seconds to wait for a transaction receipt.
    tx_timeout: float = Field(default=120, gt=0)

    # Bundled chain (anvil) options.
    chain_host: str = "127.0.0.1"
    chain_port: int = DEFAULT_RPC_PORT
    # Seconds between blocks when no transaction comes, so epochs (and mining) advance on an idle chain;
    # transactions are still mined at once (anvil's mixed mining). 0: a block per transaction only.
    block_time: float = Field(default=1.0, ge=0)
    dev_accounts: int = DEV_ACCOUNTS
    dev_balance_ether: int = 10_000

    # Faucet parameters (deploy) and service (daemon).
    faucet_url: str = f"http://127.0.0.1:{DEFAULT_FAUCET_PORT}"
    faucet_host: str = "127.0.0.1"
    faucet_port: int = DEFAULT_FAUCET_PORT
    faucet_drip_wei: int = Field(default=10 * ETHER, gt=0)
    faucet_cooldown: int = Field(default=3600, ge=0)
    faucet_fund_wei: int = Field(default=1_000 * ETHER, ge=0)
    # Most wei dripped per budget window (at least one drip), whoever the recipients are, and the window's seconds.
    faucet_budget_wei: int = Field(default=DEFAULT_FAUCET_BUDGET_WEI, gt=0)
    faucet_budget_window: int = Field(default=DEFAULT_FAUCET_BUDGET_WINDOW, gt=0)
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

    # ---- Compute (Ledger, InferenceServing, the provider daemon, the client) ----
    # Deploy time: seconds a sub-account refund waits (must exceed every provider's settle interval) and the
    # least stake a service locks.
    compute_refund_lock: int = Field(default=2 * 3600, gt=0)
    compute_min_stake_wei: int = Field(default=ETHER // 10, ge=0)
    # Provider daemon: where it listens, and the URL it registers on chain (what users connect to).
    compute_host: str = "127.0.0.1"
    compute_port: int = DEFAULT_COMPUTE_PORT
    compute_url: str | None = None
    # The model served: its name in /v1/models, and a checkpoint path. Without a path the provider serves
    # <compute_model_dir>/<name>.pt, training it there on first use (`zg compute model train`).
    compute_model_name: str = "zg-bytelm-tiny"
    compute_model_path: Path | None = None
    compute_model_dir: Path = Path.home() / ".cache" / "zerog" / "models"
    # Prices registered on chain, in wei per token (byte-level model: one token per UTF-8 byte).
    compute_input_price_wei: int = Field(default=10**12, ge=0)
    compute_output_price_wei: int = Field(default=2 * 10**12, ge=0)
    # Default and largest max_tokens of a request (its cost is reserved before the model runs).
    compute_max_tokens: int = Field(default=256, gt=0)
    # Stake the provider locks when it registers (at least compute_min_stake_wei).
    compute_stake_wei: int = Field(default=ETHER, ge=0)
    # Seconds between settlement rounds, and vouchers per settlement transaction.
    compute_settle_interval: float = Field(default=60, gt=0)
    compute_settle_batch: int = Field(default=100, ge=1, le=500)
    # Provider's key (registers, settles) and the key signing receipts (default: the provider's key); dev
    # account 2 on the local network.
    compute_provider_private_key: SecretStr | None = None
    compute_signer_private_key: SecretStr | None = None

    # ---- Storage mining (PoraMine contract at deploy time; the miner inside a storage node) ----
    # Deploy time: the initial difficulty (target = (2^256 - 1) / difficulty), the answers per epoch the
    # difficulty steers toward (also the most an epoch accepts), and the most sectors of its shard one miner
    # covers (0G: 8 TiB).
    storage_mining_difficulty: int = Field(default=2**16, ge=1)
    storage_mining_target_answers: int = Field(default=4, ge=1, le=2**32 - 1)
    storage_mining_max_length: int = Field(default=2**35, ge=1024)
    # The storage node mines with its stored data (its shard of the flow) when this is on.
    storage_mining: bool = False
    # The miner's key (registers the miner id, submits answers, makes epoch contexts); dev account 8 on the
    # local network. Rewards go to the beneficiary (default: the miner's own address).
    storage_mining_private_key: SecretStr | None = None
    storage_mining_beneficiary: str | None = None
    # The miner id is keccak256(abi.encode(owner, keccak256(salt text))); default salt text: the storage_name.
    storage_mining_salt: str | None = None
    # Nonce-search processes (0: one per CPU); they run at the lowest CPU priority.
    storage_mining_workers: int = Field(default=0, ge=0)
    # Withdraw the beneficiary's credited rewards once they reach this many wei (0: never; `zg storage miner
    # claim` withdraws by hand). Only when the beneficiary is the miner's own account.
    storage_mining_claim_wei: int = Field(default=0, ge=0)

    # ---- DA (DASigners, DAEntrance, the signer daemons, the DA client, the OP alt-DA server) ----
    # Deploy time: blocks per signer epoch, least stake of a signer, epochs a leaving signer waits before it
    # withdraws, the fee per data root (one payload of up to da_max_blob_size bytes), and the blocks at the
    # start of an epoch during which attestations of the previous one still count (fewer than an epoch).
    da_epoch_blocks: int = Field(default=1000, gt=0)
    da_min_stake_wei: int = Field(default=10 * ETHER, gt=0)
    da_withdraw_delay_epochs: int = Field(default=2, ge=0)
    da_blob_fee_wei: int = Field(default=10**15, ge=0)
    da_grace_blocks: int = Field(default=20, ge=0)
    # Signer daemons `zg up` starts (signer i on port da_signer_base_port + i, dev account 3 + i). On the
    # local network the deploy makes them the genesis signers (members from epoch 0, stakes paid by the
    # deployer), so the DA works as soon as `zg up` is.
    da_signers: int = Field(default=4, ge=0, le=32)
    da_signer_base_port: int = DEFAULT_DA_SIGNER_PORT
    # One signer daemon: its index (data dir <data_dir>/da-signer-<index>), where it listens, the URL it
    # registers on chain (default http://host:port), the stake it registers with, and its account key (dev
    # account 3 + index on the local network). Its BLS key is derived from the account key and a domain tag
    # (zerog.da.bls.derive_secret_key), so there is no second secret to keep.
    da_signer_index: int = Field(default=0, ge=0, le=31)
    da_signer_host: str = "127.0.0.1"
    da_signer_port: int = DEFAULT_DA_SIGNER_PORT
    da_signer_url: str | None = None
    da_signer_stake_wei: int = Field(default=100 * ETHER, gt=0)
    da_signer_private_key: SecretStr | None = None
    # Largest payload one data root covers (signers refuse bigger bundles; 0G's DA limit is ~32 MB), and
    # seconds the client waits for the signers (a signer first has to see the DataUpload event).
    da_max_blob_size: int = Field(default=32 * 2**20, gt=0)
    da_timeout: float = Field(default=120, gt=0)
    # OP Stack alt-DA server (`zg da server`).
    da_server_host: str = "127.0.0.1"
    da_server_port: int = DEFAULT_DA_SERVER_PORT
    # Bearer token the alt-DA server requires on puts (they spend its key's blob fees); needed to listen beyond
    # loopback.
    da_server_token: SecretStr | None = None

    @property
    def storage_port_list(self) -> list[int]:
        ports = [int(p) for p in self.storage_ports.split(",") if p.strip()]
        if len(ports) not in (1, 2, 4):
            raise ValueError(f"storage_ports must list 1, 2 or 4 ports (one shard each), not {len(ports)}")
        return ports

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

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


def settings_env(settings: Settings, secrets: Collection[str] | None = None) -> dict[str, str]:
    """`settings` as ZG_* variables, for a child process (daemon, `ape run deploy`) that must share them. With
    `secrets`, of the secret settings (keys, passwords, tokens) only those named there are passed on."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            if secrets is not None and name not in secrets:
                continue
            value = value.get_secret_value()
        env[f"ZG_{name.upper()}"] = str(value)
    return env
