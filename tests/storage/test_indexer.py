"""The indexer (`python -m services.storage_miner.indexer`) over real storage nodes on a real chain: node
listing with shard configs, node locations, and which nodes hold a file. No mocks."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chain_node.process import free_port
from services.storage_miner.indexer.main import MAX_BODY_BYTES as INDEXER_MAX_BODY_BYTES
from tests.guards import assert_guarded, jsonrpc_code
from tests.storage.node_fixtures import Chain, Daemon, File, start_indexer, start_node, wait_for, wait_synced
from zerog.devnet.settings import NetworkSettings
from zerog.storage.merkle import SEGMENT_SIZE


@pytest.fixture(scope="module")
def net(deployed_devnet: NetworkSettings) -> Chain:
    return Chain.of(deployed_devnet)


@pytest.fixture(scope="module")
def shards(deployed_devnet: NetworkSettings) -> Iterator[list[Daemon]]:
    nodes = [start_node(deployed_devnet, f"ix-shard-{i}", shard_id=i, num_shard=2) for i in range(2)]
    yield nodes
    for node in nodes:
        node.stop()


@pytest.fixture(scope="module")
def dead_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def indexer(deployed_devnet: NetworkSettings, shards: list[Daemon], dead_port: int) -> Iterator[Daemon]:
    daemon = start_indexer(deployed_devnet, [node.url for node in shards] + [f"http://127.0.0.1:{dead_port}"])
    yield daemon
    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()


def test_sharded_nodes__lists_live_nodes_with_their_shards(indexer: Daemon, shards: list[Daemon]) -> None:
    before = int(time.time())

    listing = indexer.call("indexer_getShardedNodes")

    assert listing["discovered"] == []
    trusted = listing["trusted"]
    assert [(n["url"], n["config"]) for n in trusted] == [
        (shards[0].url, {"shardId": 0, "numShard": 2}),
        (shards[1].url, {"shardId": 1, "numShard": 2}),
    ]
    for node in trusted:
        assert isinstance(node["latency"], int) and 0 <= node["latency"] < 5000
        assert isinstance(node["since"], int) and abs(node["since"] - before) < 60
    assert "left out" in indexer.log()


def test_sharded_nodes__a_node_that_comes_up_is_listed(
    indexer: Daemon, deployed_devnet: NetworkSettings, dead_port: int
) -> None:
    late = start_node(deployed_devnet, "ix-late", ZG_STORAGE_PORT=str(dead_port))
    try:
        listed = wait_for(
            lambda: [n for n in indexer.call("indexer_getShardedNodes")["trusted"] if n["url"] == late.url],
            timeout=10,
            what="the late node to be listed",
        )
        assert listed[0]["config"] == {"shardId": 0, "numShard": 1}
    finally:
        late.stop()
    wait_for(
        lambda: all(n["url"] != late.url for n in indexer.call("indexer_getShardedNodes")["trusted"]),
        timeout=10,
        what="the stopped node to be left out",
    )


def test_node_locations__local_entries(indexer: Daemon) -> None:
    locations = indexer.call("indexer_getNodeLocations")

    assert locations == {
        "127.0.0.1": {"city": "local", "region": "local", "country": "local", "loc": "", "timezone": ""}
    }


def test_file_locations__unknown_file_is_null(indexer: Daemon) -> None:
    assert indexer.call("indexer_getFileLocations", "0x" + "cd" * 32) is None


def test_file_locations__only_once_every_shard_holds_the_file(
    indexer: Daemon, shards: list[Daemon], net: Chain
) -> None:
    file = File.random(2 * SEGMENT_SIZE, seed=31)
    event = net.submit(file.tree)
    seq, first = event["submissionIndex"], event["startPos"] // 1024
    for node in shards:
        wait_synced(node, file.root)
    assert indexer.call("indexer_getFileLocations", file.root) is None  # nothing uploaded

    owner_of = {i: shards[(first + i) % 2] for i in range(2)}
    owner_of[0].call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq)
    assert indexer.call("indexer_getFileLocations", file.root) is None  # one shard only

    owner_of[1].call("zgs_uploadSegmentsByTxSeq", [file.segment(1)], seq)
    locations: list[dict[str, Any]] = indexer.call("indexer_getFileLocations", file.root)

    assert sorted((n["config"]["shardId"], n["config"]["numShard"], n["url"]) for n in locations) == [
        (0, 2, shards[0].url),
        (1, 2, shards[1].url),
    ]
    assert all(isinstance(n["latency"], int) and isinstance(n["since"], int) for n in locations)


def test_file_locations__small_file_held_by_one_shard(indexer: Daemon, shards: list[Daemon], net: Chain) -> None:
    file = File.random(2000, seed=32)
    event = net.submit(file.tree)
    owner = shards[(event["startPos"] // 1024) % 2]
    for node in shards:
        wait_synced(node, file.root)

    owner.call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], event["submissionIndex"])

    # The other node holds no segment of the file, so it counts as finalized too.
    assert len(indexer.call("indexer_getFileLocations", file.root)) == 2


def test_rpc__errors(indexer: Daemon) -> None:
    bad_root = indexer.rpc("indexer_getFileLocations", "0x12").error
    assert bad_root["code"] == -32602 and "32-byte hex" in bad_root["message"]
    assert indexer.rpc("indexer_nope").error["code"] == -32601
    assert indexer.rpc("indexer_getFileLocations").error["code"] == -32602


def test_health__lists_node_reachability(indexer: Daemon, shards: list[Daemon], dead_port: int) -> None:
    health = httpx.get(f"{indexer.url}/health").json()

    assert health["status"] == "ok"
    assert {n["url"]: n["reachable"] for n in health["nodes"]} == {
        shards[0].url: True,
        shards[1].url: True,
        f"http://127.0.0.1:{dead_port}": False,
    }


def test_config__no_nodes_and_no_joining_exits_1(deployed_devnet: NetworkSettings) -> None:
    env = {"ZG_INDEXER_PORT": str(free_port()), "ZG_INDEXER_NODES": "", "ZG_INDEXER_JOIN": "false"}
    daemon = Daemon("services.storage_miner.indexer", deployed_devnet, "indexer-empty", 1, env)

    with pytest.raises(pytest.fail.Exception, match="exited with 1"):
        daemon.start()
    assert "ZG_INDEXER_NODES" in daemon.log()


def test_guard__oversized_foreign_host_and_cross_site_calls_are_refused(indexer: Daemon) -> None:
    body = b'{"jsonrpc": "2.0", "method": "indexer_getShardedNodes", "id": 1}'
    assert_guarded(indexer.url, "/", INDEXER_MAX_BODY_BYTES, jsonrpc_code, body=body)
