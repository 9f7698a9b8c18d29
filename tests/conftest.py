"""Shared fixtures. Contract tests use ape's own fixtures (`accounts`, `project`, `chain`);
Python tests get a real bundled chain (`devnet`) on a free port with a throw-away data dir; web pages' tests a
real headless browser (`browser`, `page`, `page_errors`: tests/browser.py)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from chain_node import ChainNode
from chain_node.process import free_port, free_port_block
from tests.browser import PageErrors, launch_chromium, open_page
from zerog.chain import Deployment, connect
from zerog.config import load_settings
from zerog.devnet.deploy import child_env, run_deploy
from zerog.devnet.settings import NetworkSettings

REPO_ROOT = Path(__file__).resolve().parents[1]


def tool_env(settings: NetworkSettings, **extra: str) -> dict[str, str]:
    """Environment for a subprocess (`ape`, `zg`, a daemon) that must use `settings`."""
    return child_env(settings, **extra)


def make_settings(tmp: Path, **overrides: object) -> NetworkSettings:
    port, faucet_port, indexer_port = free_port(), free_port(), free_port()
    storage_ports, storage_full_port = [free_port(), free_port()], free_port()
    compute_port, da_signer_base, kv_port = free_port(), free_port_block(4), free_port()
    explorer_port, da_disperser_port, da_disperser_http_port = free_port(), free_port(), free_port()
    values: dict[str, object] = {
        "data_dir": tmp / "data",
        "deployments_dir": tmp / "deployments",
        "chain_port": port,
        "rpc_url": f"http://127.0.0.1:{port}",
        "faucet_port": faucet_port,
        "faucet_url": f"http://127.0.0.1:{faucet_port}",
        "storage_port": storage_ports[0],
        "storage_ports": ",".join(map(str, storage_ports)),
        "storage_full_port": storage_full_port,
        "indexer_port": indexer_port,
        "indexer_url": f"http://127.0.0.1:{indexer_port}",
        "indexer_nodes": ",".join(f"http://127.0.0.1:{p}" for p in storage_ports),
        "compute_port": compute_port,
        "kv_port": kv_port,
        "kv_url": f"http://127.0.0.1:{kv_port}",
        # A KV transaction whose data never comes is skipped after this long (tests/network/test_storage_interop.py).
        "kv_fetch_timeout": 6,
        # Larger KV blobs are recorded without a fetch (tests/network/test_storage_interop.py); the tests use less.
        "kv_max_blob_bytes": 64 * 1024,
        "da_signer_base_port": da_signer_base,
        "explorer_port": explorer_port,
        "explorer_url": f"http://127.0.0.1:{explorer_port}",
        "da_signer_port": da_signer_base,
        "da_disperser_port": da_disperser_port,
        "da_disperser_http_port": da_disperser_http_port,
        # A block per transaction: tests drive the chain themselves (the `zg up` tests keep the default rhythm).
        "block_time": 0,
    }
    values.update(overrides)
    return load_settings(NetworkSettings, **values)


def up_command(settings: NetworkSettings) -> list[str]:
    """`zg up` on the data dir and every port of `settings` (nothing else: the rest comes from the environment)."""
    cmd = [str(Path(sys.executable).parent / "zg"), "up", "--data-dir", str(settings.data_dir)]
    cmd += ["--port", str(settings.chain_port), "--faucet-port", str(settings.faucet_port)]
    cmd += ["--storage-ports", settings.storage_ports, "--storage-full-port", str(settings.storage_full_port)]
    cmd += ["--indexer-port", str(settings.indexer_port)]
    cmd += ["--kv-port", str(settings.kv_port), "--compute-port", str(settings.compute_port)]
    cmd += ["--da-signer-base-port", str(settings.da_signer_base_port), "--explorer-port", str(settings.explorer_port)]
    cmd += ["--da-disperser-port", str(settings.da_disperser_port)]
    cmd += ["--da-disperser-http-port", str(settings.da_disperser_http_port)]
    return cmd


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[NetworkSettings]:
    """A fresh bundled chain for one test; yields settings that point at it."""
    settings = make_settings(tmp_path)
    with ChainNode(settings):
        yield settings


#: Settings that say where a network runs, not what the deploy puts on chain. (The DA genesis signers' sockets,
#: which name their ports, are the template's: tests that run DA signers deploy their own chain.)
_PLACE_FIELDS = re.compile(r".*(_port|_ports|_url|_dir|_nodes)$")
#: Chains with every contract deployed, stopped: (state file, deployments dir) by deploy parameters.
_deploy_templates: dict[str, tuple[Path, Path]] = {}


def deployed_state(settings: NetworkSettings, tmp_path_factory: pytest.TempPathFactory) -> NetworkSettings:
    """Gives `settings` (a chain not started yet) a chain state with every contract deployed and its manifest,
    copied from a chain deployed once per session with the same deploy parameters: `ape run deploy` takes ~9 s,
    a copy of its result none. Start the chain (ChainNode) afterwards."""
    values = settings.model_dump(mode="json")
    key = json.dumps({k: v for k, v in values.items() if not _PLACE_FIELDS.match(k)}, sort_keys=True)
    if key not in _deploy_templates:
        base = tmp_path_factory.mktemp("deploy-template")
        port = free_port()
        template = settings.model_copy(
            update={"data_dir": base / "data", "deployments_dir": base / "deployments", "chain_port": port,
                    "rpc_url": f"http://127.0.0.1:{port}"}
        )  # fmt: skip
        with ChainNode(template) as node:
            result = run_deploy(template)
            assert result.returncode == 0, result.stdout + result.stderr
            state = node.state_file
        _deploy_templates[key] = (state, template.deployments_dir)
    state, deployments = _deploy_templates[key]
    (settings.data_dir / "chain").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state, settings.data_dir / "chain" / state.name)
    shutil.copytree(deployments, settings.deployments_dir, dirs_exist_ok=True)
    return settings


@pytest.fixture(scope="module")
def deployed_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkSettings]:
    """A bundled chain with every contract deployed, shared by the tests of one module."""
    settings = deployed_state(make_settings(tmp_path_factory.mktemp("deployed")), tmp_path_factory)
    with ChainNode(settings):
        yield settings


@pytest.fixture
def deployment(deployed_devnet: NetworkSettings) -> Deployment:
    return Deployment.for_settings(deployed_devnet, connect(deployed_devnet.rpc_url).eth.chain_id)


# Per module, not per session: while it is started, Playwright's sync API keeps an event loop running on this
# thread, and asyncio.run() in other modules' tests would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system's headless chromium, shared by the tests of one module."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def page_errors() -> PageErrors:
    """What went wrong in the test's browser; declare the expected with `expect_status` / `expect`."""
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    """A fresh light-mode desktop page; at teardown, fails on any problem `page_errors` did not expect."""
    with open_page(browser, page_errors) as page:
        yield page
