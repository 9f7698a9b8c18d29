"""A chain outage is not a reorg: every daemon's event follower (storage node, miner, DA signers, faucet) keeps
what it synced through a frozen chain (SIGSTOP longer than the RPC timeout) and through a chain that is stopped
and restarted from its state file (port closed), then catches up. Real processes, real chain, no mocks."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
from eth_account import Account

from chain_node import ChainNode
from tests.conftest import make_settings
from tests.da.daemons import SignerDaemon
from tests.e2e.test_up_flow import children_of, start_up, stop_up, wait_network, zg
from tests.storage.node_fixtures import Chain, Daemon, File, download, start_node, wait_for, wait_synced
from zerog.deploy import run_deploy
from zerog.process import free_port, wait_until
from zerog.storage.merkle import SEGMENT_SIZE

#: Longer than the daemons' RPC timeout (30 s), as the review asked: every follower sees its calls time out.
FREEZE_SECONDS = 45
#: What a follower logs when it rolls back: must never appear after an outage.
ROLLBACK_MARKERS = ("reorg detected", "rolling back", "resync: dropping")


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


def stored_files(directory: Path) -> list[str]:
    """The data files under `directory` (not SQLite's journal files, which come and go)."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and ".db" not in p.name)


def rollbacks_in(logs: list[Path]) -> list[str]:
    found = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if any(marker in line for marker in ROLLBACK_MARKERS):
                found.append(f"{log.name}: {line}")
    return found


def test_frozen_chain__zg_up_keeps_every_file_blob_and_drip(tmp_path: Path) -> None:
    """The whole network through a 45 s frozen chain: nothing rolled back, no daemon died, the file and the blob
    still download, and every daemon follows the chain again afterwards."""
    settings = make_settings(tmp_path)
    proc = start_up(settings)
    try:
        info = wait_network(proc, settings)
        original = tmp_path / "file.bin"
        original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 999))
        uploaded = zg(settings, "--json", "storage", "upload", str(original))
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        root = json.loads(uploaded.stdout)["root"]
        blob = tmp_path / "blob.bin"
        blob.write_bytes(os.urandom(5000))
        put = zg(settings, "--json", "da", "put", str(blob))
        assert put.returncode == 0, put.stdout + put.stderr
        data_root = json.loads(put.stdout)["dataRoot"]
        wallet = Account.create().address
        assert zg(settings, "faucet", "claim", wallet).returncode == 0
        daemons = children_of(proc.pid)

        chain = anvil_pid(proc.pid)
        os.kill(chain, signal.SIGSTOP)
        try:
            time.sleep(FREEZE_SECONDS)
        finally:
            os.kill(chain, signal.SIGCONT)

        assert proc.poll() is None
        assert daemons <= children_of(proc.pid), "a daemon died during the outage"
        copy = tmp_path / "copy.bin"
        downloaded = zg(settings, "storage", "download", root, str(copy))
        assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
        assert copy.read_bytes() == original.read_bytes()
        nodes = json.loads(zg(settings, "--json", "storage", "info", root).stdout)
        assert [row["info"]["finalized"] for row in nodes] == [True, True]
        blob_copy = tmp_path / "blob-copy.bin"
        fetched = zg(settings, "da", "get", data_root, str(blob_copy))
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        assert blob_copy.read_bytes() == blob.read_bytes()
        # Caught up: a new drip and a new upload go through the same daemons.
        again = zg(settings, "faucet", "claim", Account.create().address)
        assert again.returncode == 0, again.stdout + again.stderr
        second = tmp_path / "second.bin"
        second.write_bytes(os.urandom(SEGMENT_SIZE + 1))
        assert zg(settings, "storage", "upload", str(second)).returncode == 0
        assert httpx.get(f"{info['faucet']}/health", timeout=5).status_code == 200
        assert rollbacks_in(sorted((settings.data_dir / "logs").glob("*.log"))) == []
    finally:
        stop_up(proc)


def test_stopped_chain__daemons_keep_their_data_and_catch_up(tmp_path: Path) -> None:
    """The chain's port closed (stopped, then restarted from its state file): connection refused is an outage too."""
    settings = make_settings(tmp_path, faucet_cooldown=0, faucet_window=0, storage_mining_difficulty=1)
    chain = ChainNode(settings)
    chain.start()
    daemons: list[Daemon | SignerDaemon] = []
    try:
        assert run_deploy(settings).returncode == 0
        net = Chain.of(settings)
        node = start_node(settings, "node", ZG_STORAGE_MINING="true", ZG_STORAGE_MINING_WORKERS="1")
        faucet_port = free_port()
        faucet = Daemon("services.faucet", settings, "faucet", faucet_port, {"ZG_FAUCET_PORT": str(faucet_port)})
        signer = SignerDaemon(settings, 0)
        daemons += [node, faucet.start(), signer.start()]
        file = File.random(2 * SEGMENT_SIZE + 7, seed=3)
        seq = net.submit(file.tree)["submissionIndex"]
        wait_synced(node, file.root)
        node.call("zgs_uploadSegmentsByTxSeq", [file.segment(i) for i in range(file.tree.num_segments)], seq)
        wait_for(lambda: wait_synced(node, file.root)["finalized"], what="the file to finalize")
        claim = httpx.post(f"{faucet.url}/api/claim", json={"address": Account.create().address}, timeout=30)
        assert claim.status_code == 200, claim.text

        chain.stop()
        time.sleep(3)  # every follower polls a closed port a few times
        assert all(d.proc is not None and d.proc.poll() is None for d in daemons), "a daemon died"
        assert download(node, seq, file.tree.size) == file.data  # served from disk meanwhile
        chain.start()

        late = File.random(SEGMENT_SIZE, seed=4)
        late_seq = net.submit(late.tree)["submissionIndex"]
        assert wait_synced(node, late.root)["tx"]["seq"] == late_seq
        assert wait_synced(node, file.root)["finalized"]
        assert download(node, seq, file.tree.size) == file.data
        claim = httpx.post(f"{faucet.url}/api/claim", json={"address": Account.create().address}, timeout=30)
        assert claim.status_code == 200, claim.text
        head = net.w3.eth.block_number
        assert wait_until(lambda: signer.http.get(f"{signer.url}/health").json().get("syncHeight", 0) >= head, 30)
        assert rollbacks_in([node.log_path, faucet.log_path, signer.log_path]) == []
    finally:
        for daemon in daemons:
            daemon.stop()
        chain.stop()


def test_replaced_chain__node_stops_deleting_nothing_and_resyncs_on_request(tmp_path: Path) -> None:
    """A wiped dev chain under a storage node: the node exits (code 4) saying how to resync, its files stay; started
    with ZG_RESYNC=true it drops what came from the old chain and follows the new one."""
    settings = make_settings(tmp_path)
    file = File.random(SEGMENT_SIZE + 5, seed=5)
    with ChainNode(settings):
        assert run_deploy(settings).returncode == 0
        node = start_node(settings, "node")
        Chain.of(settings).submit(file.tree)
        wait_synced(node, file.root)
        node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0), file.segment(1)], 0)
        wait_for(lambda: wait_synced(node, file.root)["finalized"], what="the file to finalize")
        segments = stored_files(settings.data_dir / "node")
    (settings.data_dir / "chain").rename(tmp_path / "old-chain")  # the chain's state is gone: a new genesis
    with ChainNode(settings):
        assert run_deploy(settings).returncode == 0
        assert wait_until(lambda: node.proc is None or node.proc.poll() is not None, 30), "the node did not stop"
        assert node.proc is not None and node.proc.returncode == 4
        assert "ZG_RESYNC=true" in node.log()
        assert stored_files(settings.data_dir / "node") == segments != []
        node.proc = None

        resynced = start_node(settings, "node", ZG_RESYNC="true")
        try:
            assert wait_until(lambda: resynced.call("zgs_getFileInfo", file.root, True) is None, 30)
            other = File.random(300, seed=6)
            Chain.of(settings).submit(other.tree)
            assert wait_synced(resynced, other.root)["tx"]["seq"] == 0
        finally:
            resynced.stop()
