"""The node uses the stack's one Settings object (``ZG_STORAGE_*`` fields); this adds derived values."""

from __future__ import annotations

from pathlib import Path

from services.storage_miner.flow import ShardConfig
from zerog.config import Settings, get_settings

__all__ = ["Settings", "get_settings", "node_dir", "db_path", "segments_dir", "shard_config", "FLOW_CONTRACT"]

#: The manifest entry whose `Submit` logs the node follows.
FLOW_CONTRACT = "Flow"
#: p2p protocol version the official node (v4) reports in `networkIdentity`.
P2P_PROTOCOL_VERSION = {"major": 0, "minor": 4, "build": 0}


def node_dir(settings: Settings) -> Path:
    """Everything one node keeps: `<data_dir>/<storage_name>/`."""
    return settings.data_dir / settings.storage_name


def db_path(settings: Settings) -> Path:
    """SQLite: synced Flow submissions, the segment index, the follower cursor."""
    return node_dir(settings) / "node.db"


def segments_dir(settings: Settings) -> Path:
    """One file per stored segment: `segments/<seq>_<uid>/<index>.seg`."""
    return node_dir(settings) / "segments"


def shard_config(settings: Settings) -> ShardConfig:
    return ShardConfig(settings.storage_shard_id, settings.storage_num_shard)
