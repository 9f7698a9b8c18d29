"""The explorer daemon's settings (``ZG_EXPLORER_*``) and the values derived from them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import DaemonSettings
from zerog.explorer.settings import DEFAULT_EXPLORER_PORT, ExplorerSettings
from zerog.storage.settings import StorageSettings


class ExplorerDaemonSettings(ExplorerSettings, StorageSettings, DaemonSettings):
    explorer_host: str = "127.0.0.1"
    explorer_port: int = DEFAULT_EXPLORER_PORT
    # Blocks fetched per JSON-RPC batch (each with its receipts): bigger catches up faster, within the node's limits.
    explorer_batch_blocks: int = Field(default=100, ge=1, le=2_000)
    # First block to index (a long public chain: start near the deployment).
    explorer_start_block: int = Field(default=0, ge=0)
    # Seconds a page waits for live data (a balance, which nodes hold a file) before showing it as unavailable.
    explorer_live_timeout: float = Field(default=2.0, gt=0)


def db_path(settings: ExplorerDaemonSettings) -> Path:
    return settings.data_dir / "explorer" / "explorer.db"
