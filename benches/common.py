"""What the benches share: settings of a fresh bundled chain of their own, daemons started on it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx

from chain_node.process import free_port, spawn, wait_until
from zerog.config import load_settings
from zerog.devnet.deploy import REPO_ROOT, child_env
from zerog.devnet.network import Daemon
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


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_daemon(settings: NetworkSettings, daemon: Daemon, log: Path) -> None:
    """Spawns `daemon` with `settings` and its own env; exits the bench with its log if it does not start."""
    daemon.proc = spawn(
        [sys.executable, "-m", daemon.module], log, env=child_env(settings, (), **daemon.env), cwd=REPO_ROOT
    )
    if not wait_until(lambda: healthy(daemon.health_url), 60, 0.1):
        raise SystemExit(f"{daemon.name} did not start:\n{log.read_text()[-3000:]}")
