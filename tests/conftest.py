"""Shared fixtures. Contract tests use ape's own fixtures (`accounts`, `project`, `chain`);
Python tests get a real bundled chain (`devnet`) on a free port with a throw-away data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_node import ChainNode
from zerog.chain import Deployment, connect
from zerog.config import Settings, load_settings
from zerog.deploy import child_env, run_deploy
from zerog.process import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]


def tool_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a subprocess (`ape`, `zg`, a daemon) that must use `settings`."""
    return child_env(settings, **extra)


def make_settings(tmp: Path, **overrides: object) -> Settings:
    port, faucet_port = free_port(), free_port()
    values: dict[str, object] = {
        "data_dir": tmp / "data",
        "deployments_dir": tmp / "deployments",
        "chain_port": port,
        "rpc_url": f"http://127.0.0.1:{port}",
        "faucet_port": faucet_port,
        "faucet_url": f"http://127.0.0.1:{faucet_port}",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Settings]:
    """A fresh bundled chain for one test; yields settings that point at it."""
    settings = make_settings(tmp_path)
    with ChainNode(settings):
        yield settings


@pytest.fixture(scope="module")
def deployed_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A bundled chain with every contract deployed, shared by the tests of one module."""
    settings = make_settings(tmp_path_factory.mktemp("deployed"))
    with ChainNode(settings):
        result = run_deploy(settings)
        assert result.returncode == 0, result.stdout + result.stderr
        yield settings


@pytest.fixture
def deployment(deployed_devnet: Settings) -> Deployment:
    return Deployment.for_settings(deployed_devnet, connect(deployed_devnet.rpc_url).eth.chain_id)
