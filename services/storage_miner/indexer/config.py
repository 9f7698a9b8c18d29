"""The indexer's settings (``ZG_INDEXER_*``)."""

from __future__ import annotations

from services.common.settings import DaemonSettings
from zerog.storage.settings import DEFAULT_INDEXER_PORT, DEFAULT_STORAGE_PORT, StorageSettings


class IndexerSettings(StorageSettings, DaemonSettings):
    indexer_host: str = "127.0.0.1"
    indexer_port: int = DEFAULT_INDEXER_PORT
    # Comma-separated URLs of the storage nodes the indexer serves.
    indexer_nodes: str = f"http://127.0.0.1:{DEFAULT_STORAGE_PORT}"

    @property
    def indexer_node_urls(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.indexer_nodes.split(",") if url.strip()]
