"""Two storage nodes splitting the flow in two shards (numShard=2): each accepts, stores and serves only
the segments of its shard, and finalizes a file once it holds those. Real chain, real daemons."""

from __future__ import annotations

import base64
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.storage.node_fixtures import Chain, Daemon, File, start_node, wait_synced
from zerog.devnet.settings import NetworkSettings
from zerog.storage.merkle import SEGMENT_SIZE


@pytest.fixture(scope="module")
def net(deployed_devnet: NetworkSettings) -> Chain:
    return Chain.of(deployed_devnet)


@pytest.fixture(scope="module")
def shards(deployed_devnet: NetworkSettings) -> Iterator[list[Daemon]]:
    nodes = [start_node(deployed_devnet, f"shard-{i}", shard_id=i, num_shard=2) for i in range(2)]
    yield nodes
    for node in nodes:
        assert node.stop(signal.SIGTERM) == 0, node.log()


def _submit(net: Chain, shards: list[Daemon], file: File) -> tuple[int, int]:
    """(seq, first global segment) once both nodes synced the submission."""
    event = net.submit(file.tree)
    for node in shards:
        wait_synced(node, file.root)
    return event["submissionIndex"], event["startPos"] // 1024


def test_shard_config__each_node_reports_its_shard(shards: list[Daemon]) -> None:
    assert [node.call("zgs_getShardConfig") for node in shards] == [
        {"shardId": 0, "numShard": 2},
        {"shardId": 1, "numShard": 2},
    ]


def test_shards__each_node_accepts_and_serves_only_its_segments(net: Chain, shards: list[Daemon]) -> None:
    file = File.random(3 * SEGMENT_SIZE - 1000, seed=21)
    seq, first = _submit(net, shards, file)
    mine = {s: [i for i in range(3) if (first + i) % 2 == s] for s in (0, 1)}

    for shard, node in enumerate(shards):
        foreign = mine[1 - shard][0]
        error = node.rpc("zgs_uploadSegmentsByTxSeq", [file.segment(foreign)], seq).error
        assert error["code"] == -32602
        assert f"flow segment {first + foreign}) is not in this node's shard {shard}/2" in error["data"]
        assert node.call("zgs_getFileInfo", file.root, True)["uploadedSegNum"] == 0

    for shard, node in enumerate(shards):
        node.call("zgs_uploadSegmentsByTxSeq", [file.segment(i) for i in mine[shard]], seq)
        info = node.call("zgs_getFileInfo", file.root, True)
        assert (info["finalized"], info["uploadedSegNum"]) == (True, len(mine[shard]))

    assembled = b""
    for index in range(3):
        start, end = index * 1024, min(index * 1024 + 1024, -(-file.tree.size // 256))
        answers = [node.call("zgs_downloadSegmentByTxSeq", seq, start, end) for node in shards]
        owner = (first + index) % 2
        assert answers[1 - owner] is None
        assert shards[1 - owner].call("zgs_downloadSegmentWithProof", file.root, index) is None
        assert shards[owner].call("zgs_downloadSegmentWithProof", file.root, index) == file.segment(index)
        assembled += base64.b64decode(answers[owner])
    assert assembled[: file.tree.size] == file.data


def test_shards__node_without_segments_of_a_file_finalizes_it_on_sync(net: Chain, shards: list[Daemon]) -> None:
    file = File.random(3000, seed=22)  # inside one flow segment
    seq, first = _submit(net, shards, file)
    owner, other = shards[first % 2], shards[1 - first % 2]

    info: dict[str, Any] = other.call("zgs_getFileInfo", file.root, True)
    assert (info["finalized"], info["uploadedSegNum"]) == (True, 0)
    assert owner.call("zgs_getFileInfo", file.root, True)["finalized"] is False
    assert other.call("zgs_downloadSegmentByTxSeq", seq, 0, 12) is None

    owner.call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq)

    assert owner.call("zgs_getFileInfo", file.root, True)["finalized"] is True
    assert base64.b64decode(owner.call("zgs_downloadSegmentByTxSeq", seq, 0, 12))[:3000] == file.data
