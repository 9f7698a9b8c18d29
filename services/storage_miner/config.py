"""A storage node's settings (``ZG_STORAGE_*``, its miner's ``ZG_STORAGE_MINING_*``) and derived values."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from services.common.settings import DaemonSettings
from services.storage_miner.flow import ShardConfig
from zerog.storage.settings import DEFAULT_STORAGE_PORT, StorageSettings

#: p2p protocol version the official node (v4) reports in `networkIdentity`.
P2P_PROTOCOL_VERSION = {"major": 0, "minor": 4, "build": 0}


class StorageNodeSettings(StorageSettings, DaemonSettings):
    storage_host: str = "127.0.0.1"
    storage_port: int = DEFAULT_STORAGE_PORT
    # This node stores segment i of the flow only if i % storage_num_shard == storage_shard_id.
    storage_shard_id: int = Field(default=0, ge=0)
    storage_num_shard: int = Field(default=1, ge=1)
    # This node's JSON-RPC URL as other nodes and the indexer list it (default http://<host>:<port>, public_url): it
    # announces it to the indexer, and replication leaves it out of the peers it fetches from.
    storage_url: str | None = None
    # The indexer this node announces itself to (joins its listing) and learns its peers from; none: it joins none.
    storage_indexer_url: str | None = None
    # Replication (0G's auto-sync): the node fetches the segments of its shard it lacks, of files a peer holds
    # finalized, from that peer, each proof-checked against the synced submission. Peers: the nodes the indexer
    # lists, and these URLs (comma-separated). On when there are any (unless storage_replication is off).
    storage_peers: str = ""
    storage_replication: bool = True
    # Bytes per second replication fetches from peers (0: unlimited), and seconds between looks for new files.
    storage_replication_rate: int = Field(default=64 * 1024 * 1024, ge=0)
    storage_replication_interval: float = Field(default=5.0, gt=0)
    # Subdirectory of the data dir for this node's segments and index.
    storage_name: str = "storage-0"
    # The node mines with its stored data (its shard of the flow) when this is on.
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
    # Seconds between announcements: the indexer forgets a node it could not reach for a while; announcing again
    # brings it back.
    storage_announce_interval: float = Field(default=60.0, gt=0)
    # The node's account: it signs the announcements and the node reports it (`nodeAccount` in zgs_getStatus), so
    # only the node itself can announce its URL. Dev account 10 on the local network; it needs no funds.
    storage_node_private_key: SecretStr | None = None


def peer_urls(settings: StorageNodeSettings) -> list[str]:
    """The static peers (ZG_STORAGE_PEERS)."""
    return [url.strip().rstrip("/") for url in settings.storage_peers.split(",") if url.strip()]


def node_dir(settings: StorageNodeSettings) -> Path:
    """Everything one node keeps: `<data_dir>/<storage_name>/`."""
    return settings.data_dir / settings.storage_name


def db_path(settings: StorageNodeSettings) -> Path:
    """SQLite: synced Flow submissions, the segment index, the follower cursor."""
    return node_dir(settings) / "node.db"


def segments_dir(settings: StorageNodeSettings) -> Path:
    """One file per stored segment: `segments/<seq>_<uid>/<index>.seg`."""
    return node_dir(settings) / "segments"


def public_url(settings: StorageNodeSettings) -> str:
    """Where others reach this node: ZG_STORAGE_URL, else its own address."""
    if settings.storage_url:
        return settings.storage_url.rstrip("/")
    host = f"[{settings.storage_host}]" if ":" in settings.storage_host else settings.storage_host
    return f"http://{host}:{settings.storage_port}"


def shard_config(settings: StorageNodeSettings) -> ShardConfig:
    return ShardConfig(settings.storage_shard_id, settings.storage_num_shard)
