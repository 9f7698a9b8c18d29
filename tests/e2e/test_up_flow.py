"""`zg up` end to end: network.json, a working faucet, the default-settings CLI, clean Ctrl-C, restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account

from chain_node.process import port_in_use, wait_until
from tests.conftest import REPO_ROOT, make_settings, tool_env, up_command
from zerog.chain import connect
from zerog.devnet.settings import NetworkSettings

ZG = str(Path(sys.executable).parent / "zg")
UP_TIMEOUT_SECONDS = 180
#: A user who uploads a file on the default `zg up` sees the miner earn within this long.
MINER_EARNS_SECONDS = 120
#: Longer than the daemons' RPC timeout (30 s), as the review asked: every follower sees its calls time out.
FREEZE_SECONDS = 45
#: What a follower logs when it rolls back: must never appear after an outage.
ROLLBACK_MARKERS = ("reorg detected", "rolling back", "resync: dropping")


def children_of(pid: int) -> set[int]:
    """Every descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def anvil_pid(up_pid: int) -> int:
    """The chain process among `zg up`'s descendants."""
    for pid in children_of(up_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"anvil"):
            return pid
    raise AssertionError("no anvil process under zg up")


def rollbacks_in(logs: list[Path]) -> list[str]:
    """Lines of daemon logs that say a follower rolled something back."""
    found = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if any(marker in line for marker in ROLLBACK_MARKERS):
                found.append(f"{log.name}: {line}")
    return found


def start_up(settings: NetworkSettings) -> subprocess.Popen[str]:
    # Only the data dir and ports: every other setting comes from defaults.
    cmd = up_command(settings)
    env = tool_env(settings)
    env = {k: v for k, v in env.items() if not k.startswith("ZG_") or k == "ZG_DEPLOYMENTS_DIR"}
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_network(proc: subprocess.Popen[str], settings: NetworkSettings) -> dict:
    ready = wait_until(lambda: settings.network_file.exists() or proc.poll() is not None, UP_TIMEOUT_SECONDS, 0.2)
    if not ready or proc.poll() is not None:
        proc.kill()
        raise AssertionError(f"zg up did not come up:\n{proc.communicate()[0]}")
    return json.loads(settings.network_file.read_text())


def stop_up(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    return output


def zg(settings: NetworkSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """`zg` with no settings but the data dir: it must find the network on its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZG_")}
    env["ZG_DATA_DIR"] = str(settings.data_dir)
    return subprocess.run([ZG, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_up__network_file_faucet_and_clean_stop(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    proc = start_up(settings)
    try:
        info = wait_network(proc, settings)
        assert info["rpc"] == settings.rpc_url
        assert info["chainId"] == settings.chain_id
        assert info["faucet"] == settings.faucet_url
        assert info["indexer"] == settings.indexer_url
        assert info["kv"] == settings.kv_url
        assert info["explorer"] == settings.explorer_url
        assert [info["storage-0"], info["storage-1"]] == settings.indexer_node_urls
        assert info["da-disperser"] == f"{settings.da_disperser_host}:{settings.da_disperser_port}"  # gRPC
        assert Path(info["manifest"]).is_file()
        assert httpx.get(f"{info['faucet']}/health", timeout=5).status_code == 200

        wallet = Account.create().address  # a fresh MetaMask-style address
        claimed = zg(settings, "--json", "faucet", "claim", wallet)
        assert claimed.returncode == 0, claimed.stdout + claimed.stderr
        tx_hash = json.loads(claimed.stdout)["txHash"]
        w3 = connect(info["rpc"])
        assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
        assert w3.eth.get_balance(wallet) == settings.faucet_drip_wei

        # Storage through the two-shard network, with nothing configured but the data dir.
        original = tmp_path / "model.bin"
        original.write_bytes(os.urandom(3 * 256 * 1024 + 999))
        uploaded = zg(settings, "--json", "storage", "upload", str(original))
        uploaded_at = time.monotonic()
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        root = json.loads(uploaded.stdout)["root"]
        assert root == zg(settings, "storage", "root", str(original)).stdout.strip()
        # The upload links to the file's explorer page, which the explorer serves once it indexed the submission.
        assert json.loads(uploaded.stdout)["explorer"] == [f"{info['explorer']}/storage/{root}"]
        found = lambda: httpx.get(f"{info['explorer']}/api/search", params={"q": root}, timeout=5)  # noqa: E731
        assert wait_until(lambda: found().status_code == 200, 10, 0.2), found().text
        assert found().json()["path"] == f"/storage/{root}"
        copy = tmp_path / "copy.bin"
        downloaded = zg(settings, "storage", "download", root, str(copy))
        assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
        assert copy.read_bytes() == original.read_bytes()

        # With nothing else happening on the chain, the mining node earns from that upload within two minutes:
        # the chain's block rhythm moves the epochs on.
        def earned() -> bool:
            report = zg(settings, "--json", "storage", "miner", "status")
            mined = json.loads(report.stdout) if report.returncode == 0 else {}
            return mined.get("answers", {}).get("accepted", 0) > 0 and int(mined.get("rewardsWei", 0)) > 0

        assert wait_until(earned, MINER_EARNS_SECONDS - (time.monotonic() - uploaded_at), 2), "the miner earned nothing"

        # An outage is not a reorg: the whole network through a chain frozen longer than the RPC timeout keeps
        # every file, blob and drip, no daemon dies, and every daemon follows the chain again afterwards.
        blob = tmp_path / "blob.bin"
        blob.write_bytes(os.urandom(5000))
        put = zg(settings, "--json", "da", "put", str(blob))
        assert put.returncode == 0, put.stdout + put.stderr
        data_root = json.loads(put.stdout)["dataRoot"]
        assert json.loads(put.stdout)["explorer"] == f"{info['explorer']}/da/{data_root}"
        running = children_of(proc.pid)
        chain = anvil_pid(proc.pid)
        os.kill(chain, signal.SIGSTOP)
        try:
            time.sleep(FREEZE_SECONDS)
        finally:
            os.kill(chain, signal.SIGCONT)
        assert proc.poll() is None and running <= children_of(proc.pid), "a daemon died during the outage"
        again = tmp_path / "again.bin"
        assert zg(settings, "storage", "download", root, str(again)).returncode == 0
        assert again.read_bytes() == original.read_bytes()
        nodes = json.loads(zg(settings, "--json", "storage", "info", root).stdout)
        # Both shards and, by replication, the full replica.
        assert [row["info"]["finalized"] for row in nodes] == [True, True, True]
        blob_copy = tmp_path / "blob-copy.bin"
        fetched = zg(settings, "da", "get", data_root, str(blob_copy))
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        assert blob_copy.read_bytes() == blob.read_bytes()
        after = zg(settings, "faucet", "claim", Account.create().address)  # caught up: the same daemons serve
        assert after.returncode == 0, after.stdout + after.stderr
        assert rollbacks_in(sorted((settings.data_dir / "logs").glob("*.log"))) == []

        status = zg(settings, "--json", "chain", "status")
        assert json.loads(status.stdout)["chainId"] == settings.chain_id
        descendants = children_of(proc.pid)
        assert len(descendants) >= 5  # chain, faucet, two storage nodes, indexer
    finally:
        output = stop_up(proc)
    assert proc.returncode == 0, output
    assert "MetaMask" in output and settings.rpc_url in output
    assert wait_until(lambda: not any(alive(pid) for pid in descendants), 10), "processes left behind"
    assert not settings.network_file.exists()
    assert not port_in_use("127.0.0.1", settings.chain_port)
    for port in (settings.faucet_port, settings.indexer_port, *settings.storage_port_list):
        assert not port_in_use("127.0.0.1", port)

    # Same data dir again: chain state and deployment are kept, limits too.
    proc = start_up(settings)
    try:
        again = wait_network(proc, settings)
        assert again["manifest"] == info["manifest"]
        assert connect(again["rpc"]).eth.get_balance(wallet) == settings.faucet_drip_wei
        limited = zg(settings, "faucet", "claim", wallet)
        assert limited.returncode == 1
        assert "retry" in (limited.stdout + limited.stderr).lower()
    finally:
        stop_up(proc)
    assert proc.returncode == 0


def test_up__busy_port_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    # Something else (another `zg up`, any program) listens on the chain's port: nothing starts, nothing is written.
    settings = make_settings(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", settings.chain_port))
        busy.listen()
        second = subprocess.run(
            [ZG, "up", "--data-dir", str(tmp_path / "other"), "--port", str(settings.chain_port)],
            cwd=REPO_ROOT,
            env=tool_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert second.returncode == 1
    assert f"port {settings.chain_port}" in second.stdout + second.stderr
    assert not (tmp_path / "other" / "network.json").exists()
