"""Explorer settings of the SDK side: where the explorer is (network.json's `explorer`), if there is one."""

from __future__ import annotations

from typing import ClassVar

from zerog.config import Settings

DEFAULT_EXPLORER_PORT = 8900


class ExplorerSettings(Settings):
    network_keys: ClassVar[dict[str, str]] = {"explorer": "explorer_url"}

    # Empty: no explorer known, so commands print no links.
    explorer_url: str = ""
