"""Every daemon starts alone with `zg … start` against a chain it did not come with, each on its own loopback address
and data dir, and refuses to start, saying what is wrong, when the chain does not answer or does not hold the
deployment's contracts. Real chain, real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_utils import to_checksum_address

from chain_node.process import free_port, spawn, stop, wait_until
from tests.conftest import REPO_ROOT, tool_env
from zerog.chain import Deployment, connect
from zerog.devnet.settings import NetworkSettings
from zerog.errors import DeploymentMismatchError
from zerog.storage.contracts import FLOW, MARKET

ZG = str(Path(sys.executable).parent / "zg")
START_TIMEOUT_SECONDS = 60


@dataclass
class Started:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path


def zg_start(
    settings: NetworkSettings, tmp: Path, name: str, command: list[str], host: str, port: int = 0, **env: str
) -> Started:
    port, log = port or free_port(host), tmp / f"{name}.log"
    args = [ZG, *command, "--host", host, "--port", str(port), "--data-dir", str(tmp / name)]
    proc = spawn(args, log, env=tool_env(settings, **env), cwd=REPO_ROOT)
    return Started(name, f"http://{host}:{port}", proc, log)


def healthy(daemon: Started) -> bool:
    try:
        return httpx.get(f"{daemon.url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def started() -> Iterator[list[Started]]:
    daemons: list[Started] = []
    yield daemons
    for daemon in daemons:
        stop(daemon.proc)


def test_each_daemon_starts_alone_on_its_own_address(
    deployed_devnet: NetworkSettings, tmp_path: Path, started: list[Started]
) -> None:
    """Storage node, indexer, KV node, DA signer, faucet and explorer, each from its `zg` command on its own loopback
    address with its own data dir; nothing shared but the chain's RPC and the manifest (and the indexer's URL)."""
    s = deployed_devnet
    indexer_port = free_port("127.0.0.3")
    indexer_url = f"http://127.0.0.3:{indexer_port}"
    node = zg_start(s, tmp_path, "node", ["storage", "node", "start", "--indexer", indexer_url], "127.0.0.2")
    no_nodes = ["storage", "indexer", "start", "--nodes", ""]
    indexer = zg_start(s, tmp_path, "indexer", no_nodes, "127.0.0.3", indexer_port)
    env = {"ZG_INDEXER_URL": indexer.url}
    started += [
        node,
        indexer,
        zg_start(s, tmp_path, "kv", ["storage", "kv", "start"], "127.0.0.4", **env),
        zg_start(s, tmp_path, "signer", ["da", "signer", "start"], "127.0.0.5", ZG_DA_SIGNER_PRIVATE_KEY=""),
        zg_start(s, tmp_path, "faucet", ["faucet", "start"], "127.0.0.6"),
        zg_start(s, tmp_path, "explorer", ["explorer", "start"], "127.0.0.7", **env),
    ]
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    waiting = list(started)
    while waiting and time.monotonic() < deadline:
        for daemon in list(waiting):
            assert daemon.proc.poll() is None, f"{daemon.name} exited:\n{daemon.log.read_text()[-3000:]}"
            if healthy(daemon):
                waiting.remove(daemon)
        time.sleep(0.2)
    assert not waiting, f"not healthy: {[d.name for d in waiting]}"
    for daemon in started:
        assert (tmp_path / daemon.name).is_dir(), f"{daemon.name} kept no state in its own data dir"

    # The indexer knew no node: the one started alone on its address joined it (a signed announcement).
    def listed() -> list[str]:
        reply = httpx.post(indexer.url, json={"jsonrpc": "2.0", "id": 1, "method": "indexer_getShardedNodes"}).json()
        return [n["url"] for n in reply["result"]["trusted"]]

    assert wait_until(lambda: listed() == [node.url], 30, 0.2), listed()


def start_fails(settings: NetworkSettings, tmp: Path, *env_pairs: tuple[str, str]) -> str:
    """Run `zg storage node start` to its end (it must fail): its output."""
    result = subprocess.run(
        [ZG, "storage", "node", "start", "--port", str(free_port()), "--data-dir", str(tmp / "node")],
        env=tool_env(settings, **dict(env_pairs)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_a_chain_that_does_not_answer_stops_the_start_with_the_reason(
    deployed_devnet: NetworkSettings, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    out = start_fails(deployed_devnet, tmp_path, ("ZG_RPC_URL", dead), ("ZG_CHAIN_WAIT", "1"))
    assert f"the chain node at {dead} does not answer" in out


def test_a_manifest_whose_contract_is_not_on_chain_stops_the_start(
    deployed_devnet: NetworkSettings, tmp_path: Path
) -> None:
    manifest_path = deployed_devnet.manifest_path(deployed_devnet.chain_id)
    data = json.loads(manifest_path.read_text())
    data["contracts"][FLOW]["address"] = missing = to_checksum_address("0x" + "ab" * 20)
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / manifest_path.name).write_text(json.dumps(data))
    out = start_fails(deployed_devnet, tmp_path, ("ZG_DEPLOYMENTS_DIR", str(tmp_path / "deployments")))
    assert f"no contract at {missing}" in out
    assert "run `zg deploy`" in out


def test_the_chain_check_names_what_differs(deployed_devnet: NetworkSettings, tmp_path: Path) -> None:
    """Other code at the address, another chain id, a replaced chain (the deploy block differs)."""
    w3 = connect(deployed_devnet.rpc_url)
    deployment = Deployment.for_settings(deployed_devnet)
    deployment.check_on_chain(w3, [FLOW, MARKET])  # the real one passes

    def altered(change: dict) -> Deployment:
        data = json.loads(json.dumps(deployment.data))
        for key, value in change.items():
            data["contracts"][FLOW][key] = value
        return Deployment(deployment.path, data)

    with pytest.raises(DeploymentMismatchError, match=r"is not the Flow of .*\(runtime code hash"):
        altered({"address": deployment.address(MARKET)}).check_on_chain(w3, [FLOW])
    with pytest.raises(DeploymentMismatchError, match="the chain was replaced since"):
        altered({"deployBlockHash": "0x" + "11" * 32}).check_on_chain(w3, [FLOW])
    with pytest.raises(DeploymentMismatchError, match="the chain was replaced since"):
        altered({"deployBlock": 10**9}).check_on_chain(w3, [FLOW])
    other_chain = Deployment(deployment.path, {**deployment.data, "chainId": 1})
    with pytest.raises(DeploymentMismatchError, match=f"has chain id {deployed_devnet.chain_id}, but"):
        other_chain.check_on_chain(w3, [FLOW])
