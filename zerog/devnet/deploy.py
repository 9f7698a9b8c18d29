"""Runs `ape run deploy` (scripts/deploy.py) against the configured chain and loads the manifest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

from zerog.chain import Deployment, connect
from zerog.config import Settings, settings_env
from zerog.errors import ZeroGError
from zerog.extras import DEVNET, require

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_TIMEOUT_SECONDS = 600


class DeployError(ZeroGError):
    """`ape run deploy` failed."""


def tool_path() -> str:
    """PATH with the project's node tools (anvil, cast) and this Python's scripts (ape) first."""
    return os.pathsep.join(
        [str(Path(sys.executable).parent), str(REPO_ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")]
    )


def child_env(settings: Settings, secrets: Collection[str] | None = None, **extra: str) -> dict[str, str]:
    """Environment for a child process (ape, a daemon) that must use exactly `settings`; with `secrets`, it gets
    only the secret settings named there (a daemon its own key, never the others')."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZG_")}
    env.update(settings_env(settings, secrets), PATH=tool_path(), **extra)
    return env


def find_ape() -> str:
    """The `ape` of this environment (the devnet extra); MissingExtraError if it is not installed."""
    require(DEVNET)
    ape = shutil.which("ape", path=tool_path())
    if ape is None:
        raise DeployError("ape not found: run `make install` first")
    return ape


def run_deploy(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`ape run deploy` against `settings.rpc_url`, from the project root, output captured."""
    ape = find_ape()
    if not (REPO_ROOT / "ape-config.yaml").exists():
        raise DeployError(f"{REPO_ROOT} is not the project checkout; deploy needs its contracts")
    return subprocess.run(
        [ape, "run", "deploy", "--network", settings.rpc_url],
        cwd=REPO_ROOT,
        env=child_env(settings),
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT_SECONDS,
        check=False,
    )


def deploy(settings: Settings) -> tuple[Deployment, str]:
    """Deploy (or confirm the current deployment); returns the manifest and ape's output."""
    result = run_deploy(settings)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise DeployError(f"`ape run deploy` failed (exit {result.returncode}):\n{output.strip()[-4000:]}")
    chain_id = connect(settings.rpc_url).eth.chain_id
    return Deployment.for_settings(settings, chain_id), output
