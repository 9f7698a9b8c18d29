"""A chain outage is not a reorg: the daemons' event followers (storage node, miner, DA signer, faucet) keep what
they synced through a chain that is stopped and restarted from its state file (port closed), then catch up; a chain
that was replaced stops a daemon without deleting anything until it is told to resync. (The 45 s frozen chain under
the whole `zg up` is in tests/e2e/test_up_flow.py, which runs that network anyway.) Real processes, no mocks."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from eth_account import Account

from chain_node import ChainNode
from chain_node.process import free_port, wait_until
from tests.conftest import make_settings
from tests.da.daemons import SignerDaemon
from tests.e2e.test_up_flow import rollbacks_in
from tests.storage.node_fixtures import Chain, Daemon, File, download, start_node, wait_for, wait_synced
from zerog.devnet.deploy import run_deploy
from zerog.storage.merkle import SEGMENT_SIZE


def stored_files(directory: Path) -> list[str]:
    """The data files under `directory` (not SQLite's journal files, which come and go)."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and ".db" not in p.name)


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
