"""The indexer's settings (``ZG_INDEXER_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import DaemonSettings
from zerog.storage.settings import DEFAULT_INDEXER_PORT, DEFAULT_STORAGE_PORT, StorageSettings


class IndexerSettings(StorageSettings, DaemonSettings):
    indexer_host: str = "127.0.0.1"
    indexer_port: int = DEFAULT_INDEXER_PORT
    # Comma-separated URLs of the storage nodes the indexer always serves (static; none when nodes only join).
    indexer_nodes: str = f"http://127.0.0.1:{DEFAULT_STORAGE_PORT}"
    # Subdirectory of the data dir for the indexer's state (the nodes that joined it).
    indexer_name: str = "indexer"
    # Storage nodes may join by announcing themselves (`indexer_announce`). Needs the deployment manifest (the chain
    # id and Flow address announcements and nodes are checked against); without one only the static nodes serve.
    indexer_join: bool = True
    # Host names (comma-separated shell patterns: `*.example.org`, `10.0.0.*`) an announced URL may have; the
    # indexer calls announced URLs back, so restrict them to where storage nodes may be. Link-local addresses
    # (cloud metadata) are always refused.
    indexer_join_hosts: str = "*"
    # An announcement is accepted only if its timestamp is within this many seconds of the indexer's clock.
    indexer_join_window_seconds: int = Field(default=60, gt=0)
    # A joined node that does not answer for this long is forgotten (until it announces itself again).
    indexer_join_grace_seconds: float = Field(default=300.0, ge=0)

    @property
    def indexer_node_urls(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.indexer_nodes.split(",") if url.strip()]

    @property
    def indexer_join_host_patterns(self) -> list[str]:
        return [p.strip().lower() for p in self.indexer_join_hosts.split(",") if p.strip()]


def indexer_db_path(settings: IndexerSettings) -> Path:
    """SQLite: the nodes that joined (`<data_dir>/<indexer_name>/indexer.db`)."""
    return settings.data_dir / settings.indexer_name / "indexer.db"
