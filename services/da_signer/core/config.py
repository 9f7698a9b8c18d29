"""The signer uses the stack's one Settings object (``ZG_DA_*`` fields); this adds derived values."""

from __future__ import annotations

from pathlib import Path

from zerog.config import Settings, get_settings

__all__ = ["Settings", "get_settings", "signer_dir"]


def signer_dir(settings: Settings) -> Path:
    """Everything one signer keeps: `<data_dir>/da-signer-<index>/` (SQLite, then `cells/`)."""
    return settings.data_dir / f"da-signer-{settings.da_signer_index}"
