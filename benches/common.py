"""What the benches share: settings of a fresh bundled chain of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chain_node.process import free_port
from zerog.config import load_settings
from zerog.devnet.settings import NetworkSettings


def local_settings(tmp: Path, **overrides: Any) -> NetworkSettings:
    """Settings of a bundled chain on a free port, its data and deployment manifests under `tmp`."""
    port = free_port()
    values: dict[str, Any] = {
        "data_dir": tmp / "data",
        "deployments_dir": tmp / "deployments",
        "chain_port": port,
        "rpc_url": f"http://127.0.0.1:{port}",
    }
    return load_settings(NetworkSettings, **{**values, **overrides})
