"""The whole local network as users run it (`zg up`), shared by the tests of this package — storage clients,
interop with the official SDK, mining, the demo — since starting one takes ~40 s; torn down after the package's
last test so that no other suite runs beside its miner and steady blocks."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from chain_node.process import wait_until
from tests.conftest import REPO_ROOT, make_settings, tool_env, up_command
from zerog.devnet.settings import NetworkSettings

UP_TIMEOUT_SECONDS = 180


@pytest.fixture(scope="package")
def up_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkSettings]:
    """The whole local network as `zg up` runs it (chain, contracts, faucet, two storage shards, indexer, KV node,
    provider, DA signers, explorer), on free ports; yields settings whose endpoints point at it."""
    settings = make_settings(tmp_path_factory.mktemp("up"))
    log = settings.data_dir.parent / "zg-up.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            up_command(settings), cwd=REPO_ROOT, env=tool_env(settings), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        up = wait_until(lambda: settings.network_file.exists() or proc.poll() is not None, UP_TIMEOUT_SECONDS, 0.2)
        if not up or proc.poll() is not None:
            raise AssertionError(f"zg up did not come up:\n{log.read_text()[-4000:]}")
        yield settings
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
