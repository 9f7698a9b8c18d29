"""Replication: a storage node that starts after an upload fetches the segments of its shard from its peers (the
indexer's nodes or a static list), proof-checked, and ends up holding and serving the file; a peer serving bad data
gives it nothing; a restart resumes where it stopped. Each node on its own loopback address, as on its own machine;
real chain, real daemons, real indexer."""

from __future__ import annotations

import base64
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from services.storage_miner.flow import ShardConfig
from services.storage_miner.replication import TokenBucket
from tests.conftest import tool_env
from tests.rpc_relay import RpcRelay
from tests.storage.node_fixtures import (
    Chain,
    Daemon,
    File,
    node_daemon,
    node_dir,
    start_indexer,
    start_node,
    wait_for,
)
from zerog.accounts import dev_account
from zerog.cli import cli
from zerog.devnet.settings import NetworkSettings
from zerog.storage.client import connect_nodes, download, nodes_from_indexer, upload
from zerog.storage.merkle import SEGMENT_SIZE

#: Seconds between a node's looks for files to fetch (the default is 5).
INTERVAL = {"ZG_STORAGE_REPLICATION_INTERVAL": "0.2"}
SEGMENT_METHODS = ("zgs_downloadSegmentWithProof", "zgs_downloadSegmentWithProofByTxSeq")


class PeerProxy(RpcRelay):
    """A storage node's JSON-RPC as another machine serves it: forwards every call to `target`, records the
    segments asked for; while `corrupt` it flips a byte of every segment it serves, while `down` it answers 503."""

    def __init__(self, target: str, host: str) -> None:
        self.corrupt = False
        self.down = False
        self.asked: list[tuple[Any, int]] = []  # (root or tx seq, index) of each segment asked for
        super().__init__(target, host)

    def relay(self, body: bytes) -> bytes | None:
        if self.down:
            return None
        reply = json.loads(super().relay(body) or b"null")
        calls, answers = json.loads(body), reply if isinstance(reply, list) else [reply]
        by_id = {answer.get("id"): answer for answer in answers}
        for call in calls if isinstance(calls, list) else [calls]:
            if call.get("method") not in SEGMENT_METHODS:
                continue
            self.asked.append(tuple(call["params"]))
            result = by_id[call["id"]].get("result")
            if self.corrupt and isinstance(result, dict):
                data = bytearray(base64.b64decode(result["data"]))
                data[100] ^= 1
                result["data"] = base64.b64encode(data).decode()
        return json.dumps(reply).encode()


@pytest.fixture(scope="module")
def net(deployed_devnet: NetworkSettings) -> Chain:
    return Chain.of(deployed_devnet)


@pytest.fixture(scope="module")
def node_a(deployed_devnet: NetworkSettings) -> Iterator[Daemon]:
    """The node that gets the uploads: the whole flow, on 127.0.0.2."""
    node = start_node(deployed_devnet, "repl-a", host="127.0.0.2")
    yield node
    assert node.stop(signal.SIGTERM) == 0, node.log()


@pytest.fixture
def proxy(node_a: Daemon) -> Iterator[PeerProxy]:
    proxy = PeerProxy(node_a.url, "127.0.0.4")
    yield proxy
    proxy.close()


@pytest.fixture
def honest(node_a: Daemon) -> Iterator[PeerProxy]:
    proxy = PeerProxy(node_a.url, "127.0.0.7")
    yield proxy
    proxy.close()


def stopped_after(node: Daemon) -> None:
    assert node.stop(signal.SIGTERM) == 0, node.log()


def upload_to(net: Chain, nodes: list[Any], file: File, tmp_path: Path) -> int:
    path = tmp_path / f"{file.root}.bin"
    path.write_bytes(file.data)
    return upload(path, nodes, net.w3, dev_account(3), net.deployment).tx_seq


def finalized(node: Daemon, root: str) -> dict[str, Any] | None:
    info = node.call("zgs_getFileInfo", root, True)
    return info if info and info["finalized"] else None


def test_shard_overlaps__when_some_segment_is_in_both() -> None:
    assert ShardConfig(0, 1).overlaps(ShardConfig(3, 4))
    assert ShardConfig(0, 2).overlaps(ShardConfig(2, 4))
    assert not ShardConfig(0, 2).overlaps(ShardConfig(1, 4))
    assert not ShardConfig(1, 4).overlaps(ShardConfig(3, 4))


def test_token_bucket__keeps_to_the_rate_and_stops_waiting_when_stopped() -> None:
    stop = threading.Event()
    bucket = TokenBucket(10 * SEGMENT_SIZE, stop)
    start = time.monotonic()
    assert all(bucket.take(SEGMENT_SIZE) for _ in range(3))
    assert 0.25 <= time.monotonic() - start < 1.5
    stop.set()
    start = time.monotonic()
    assert not bucket.take(100 * SEGMENT_SIZE)
    assert time.monotonic() - start < 0.5
    assert TokenBucket(0, threading.Event()).take(2**40)  # 0: unlimited


def test_replication__late_node_fetches_its_shard_from_the_indexers_nodes(
    deployed_devnet: NetworkSettings, net: Chain, node_a: Daemon, tmp_path: Path
) -> None:
    late = node_daemon(deployed_devnet, "repl-late", host="127.0.0.3", **INTERVAL)
    indexer = start_indexer(deployed_devnet, [node_a.url, late.url])
    try:
        late.env["ZG_STORAGE_INDEXER_URL"] = indexer.url
        file = File.random(3 * SEGMENT_SIZE + 5000, seed=31)
        covering = nodes_from_indexer(indexer.url)  # the late node is down: the covering set is node A alone
        assert [node.url for node in covering] == [node_a.url]
        upload_to(net, covering, file, tmp_path)

        late.start()
        info = wait_for(lambda: finalized(late, file.root), what="the late node to replicate the file")
        assert info["uploadedSegNum"] == 4
        out = tmp_path / "out.bin"
        download(file.root, out, connect_nodes([late.url]))  # every proof checked, the late node alone
        assert out.read_bytes() == file.data
        replication = late.health()["replication"]
        assert (replication["segments"], replication["rejected"], replication["peers"]) == (4, 0, 1)

        listed = lambda: len(indexer.call("indexer_getShardedNodes")["trusted"]) == 2  # noqa: E731
        wait_for(listed, what="the indexer to list the late node (it caches its listing)")
        env = tool_env(deployed_devnet, ZG_INDEXER_URL=indexer.url)
        shown = CliRunner().invoke(cli, ["storage", "info", file.root], env=env)
        assert shown.exit_code == 0, shown.output
        assert "replicas: 2-2 finalized copies of each of its 4 segments" in shown.output
        rows = json.loads(CliRunner().invoke(cli, ["--json", "storage", "info", file.root], env=env).output)
        assert [(r["node"], r["shard"], r["info"]["finalized"], r["segments"]) for r in rows] == [
            (node_a.url, "0/1", True, [0, 1, 2, 3]),
            (late.url, "0/1", True, [0, 1, 2, 3]),
        ]
    finally:
        stopped_after(late)
        indexer.stop()


def test_replication__bad_peer_gives_nothing_and_an_honest_peer_serves(
    deployed_devnet: NetworkSettings, net: Chain, node_a: Daemon, proxy: PeerProxy, honest: PeerProxy, tmp_path: Path
) -> None:
    file = File.random(2 * SEGMENT_SIZE, seed=32)
    upload_to(net, connect_nodes([node_a.url]), file, tmp_path)
    proxy.corrupt, honest.down = True, True
    peers = f"{proxy.url},{honest.url}"  # the bad one first: it is asked first
    node = start_node(deployed_devnet, "repl-fooled", host="127.0.0.5", ZG_STORAGE_PEERS=peers, **INTERVAL)
    try:
        wait_for(lambda: node.health()["replication"]["rejected"], what="the bad segment to be rejected")
        assert node.call("zgs_getFileInfo", file.root, True)["uploadedSegNum"] == 0
        assert node.health()["status"] == "ok"
        assert "served a bad segment 0 of tx" in node.log(20_000)

        honest.down = False
        wait_for(lambda: finalized(node, file.root), what="the honest peer's segments")
        assert node.health()["replication"]["rejected"] == 1  # the bad peer is left alone meanwhile
        assert {i for _, i in honest.asked} >= {0, 1}
        out = tmp_path / "out.bin"
        download(file.root, out, connect_nodes([node.url]))
        assert out.read_bytes() == file.data
    finally:
        stopped_after(node)


def test_replication__restart_resumes_without_fetching_stored_segments_again(
    deployed_devnet: NetworkSettings, net: Chain, node_a: Daemon, proxy: PeerProxy, tmp_path: Path
) -> None:
    file = File.random(8 * SEGMENT_SIZE, seed=33)
    seq = upload_to(net, connect_nodes([node_a.url]), file, tmp_path)
    start = node_a.call("zgs_getFileInfo", file.root, True)["tx"]["startEntryIndex"] // 1024
    shard = [i for i in range(8) if (start + i) % 2 == 1]  # the node keeps shard 1/2: 4 segments
    # Two segments a second: it is stopped half way.
    slow = {"ZG_STORAGE_PEERS": proxy.url, "ZG_STORAGE_REPLICATION_RATE": str(2 * SEGMENT_SIZE), **INTERVAL}
    node = start_node(deployed_devnet, "repl-resume", 1, 2, host="127.0.0.6", **slow)
    try:
        wait_for(lambda: node.call("zgs_getFileInfo", file.root, True)["uploadedSegNum"] >= 2, what="2 segments")
    finally:
        stopped_after(node)
    db = sqlite3.connect(node_dir(deployed_devnet, "repl-resume") / "node.db")
    query = "SELECT s.seg_index FROM segments s JOIN txs t USING (uid) WHERE t.seq = ?"
    stored = {i for (i,) in db.execute(query, (seq,))}
    db.close()
    assert 2 <= len(stored) < 4 and stored < set(shard)
    assert {i for q, i in proxy.asked if q == seq} <= set(shard)

    proxy.asked.clear()
    node = start_node(deployed_devnet, "repl-resume", 1, 2, host="127.0.0.6", ZG_STORAGE_PEERS=proxy.url, **INTERVAL)
    try:
        info = wait_for(lambda: finalized(node, file.root), what="the rest of the shard")
        assert info["uploadedSegNum"] == 4
        # Each missing segment asked for once, none stored before the restart.
        assert sorted(i for q, i in proxy.asked if q == seq) == sorted(set(shard) - stored)
        for index in shard:
            assert node.call("zgs_downloadSegmentWithProof", file.root, index) == file.segment(index)
    finally:
        stopped_after(node)
