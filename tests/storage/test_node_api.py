"""The storage node as the SDKs meet it: `python -m services.storage_miner` over real HTTP JSON-RPC, on a
real chain with the storage contracts deployed, files submitted to the real Flow. No mocks.

The tests share one chain and one node (`node`, shard 0/1); tests that stop, kill or lag a node start
their own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chain_node.process import free_port
from services.storage_miner.main import MAX_BODY_BYTES as NODE_MAX_BODY_BYTES
from tests.guards import assert_guarded, jsonrpc_code
from tests.storage.node_fixtures import (
    Chain,
    Daemon,
    File,
    download,
    node_dir,
    start_node,
    wait_for,
    wait_synced,
)
from zerog.devnet.settings import NetworkSettings
from zerog.storage.merkle import SEGMENT_SIZE, Proof, segment_root

FINALIZED = "already uploaded and finalized"


@pytest.fixture(scope="module")
def net(deployed_devnet: NetworkSettings) -> Chain:
    return Chain.of(deployed_devnet)


@pytest.fixture(scope="module")
def node(deployed_devnet: NetworkSettings) -> Iterator[Daemon]:
    daemon = start_node(deployed_devnet, "node-main")
    yield daemon
    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()


@pytest.fixture(scope="module")
def pending(net: Chain, node: Daemon) -> dict[str, Any]:
    """A 3-segment file, submitted and synced, of which nothing is uploaded: the target of bad uploads."""
    file = File.random(2 * SEGMENT_SIZE + 1000, seed=11)
    event = net.submit(file.tree)
    info = wait_synced(node, file.root)
    return {"file": file, "seq": info["tx"]["seq"], "event": event}


def assert_invalid(reply: Any, *needles: str) -> dict[str, Any]:
    error = reply.error
    assert error["code"] == -32602, error
    assert error["message"].startswith("Invalid params"), error
    for needle in needles:
        assert needle in error["message"] and needle in error["data"], error
    return error


def uploaded(node: Daemon, root: str) -> int:
    return node.call("zgs_getFileInfo", root, True)["uploadedSegNum"]


# ---------------------------------------------------------------- status and sync


def test_status__reports_flow_chain_and_sync(node: Daemon, net: Chain) -> None:
    status = node.call("zgs_getStatus")

    assert status["networkIdentity"]["flowAddress"] == net.deployment.address("Flow")
    assert status["networkIdentity"]["chainId"] == net.deployment.chain_id
    assert status["networkIdentity"]["p2pProtocolVersion"] == {"major": 0, "minor": 4, "build": 0}
    assert status["logSyncHeight"] >= net.deployment.record("Flow")["deployBlock"]
    assert status["logSyncBlock"].startswith("0x") and len(status["logSyncBlock"]) == 66
    assert isinstance(status["nextTxSeq"], int)
    assert status["connectedPeers"] == 0
    assert node.call("zgs_getShardConfig") == {"shardId": 0, "numShard": 1}


def test_status__params_key_may_be_absent_or_empty(node: Daemon) -> None:
    for body in (
        {"jsonrpc": "2.0", "method": "zgs_getShardConfig", "id": 1},
        {"jsonrpc": "2.0", "method": "zgs_getShardConfig", "params": [], "id": 1},
        {"jsonrpc": "2.0", "method": "zgs_getShardConfig", "params": {}, "id": 1},
    ):
        assert node.post(body).json()["result"] == {"shardId": 0, "numShard": 1}


def test_file_info__synced_submission(node: Daemon, pending: dict[str, Any]) -> None:
    file, event = pending["file"], pending["event"]

    info = node.call("zgs_getFileInfo", file.root, True)

    tx = info["tx"]
    assert tx["dataMerkleRoot"] == file.root
    assert tx["seq"] == event["submissionIndex"] == pending["seq"]
    assert tx["startEntryIndex"] == event["startPos"]
    assert tx["size"] == file.tree.size
    assert tx["merkleNodes"] == [[h + 1, "0x" + r.hex()] for r, h in file.tree.submission_nodes()]
    assert tx["streamIds"] == [] and tx["data"] == []
    assert (info["finalized"], info["isCached"], info["uploadedSegNum"], info["pruned"]) == (False, False, 0, False)
    assert node.call("zgs_getFileInfoByTxSeq", pending["seq"]) == info
    assert node.call("zgs_getFileInfo", file.root, False) == info
    assert node.call("zgs_getFileInfo", file.root) == info  # needAvailable may be left out
    assert node.call("zgs_checkFileFinalized", pending["seq"]) is False
    assert node.call("zgs_getStatus")["nextTxSeq"] > pending["seq"]


def test_file_info__unknown_is_null(node: Daemon) -> None:
    assert node.call("zgs_getFileInfo", "0x" + "ab" * 32, True) is None
    assert node.call("zgs_getFileInfoByTxSeq", 10**9) is None
    assert node.call("zgs_checkFileFinalized", "0x" + "ab" * 32) is None
    assert node.call("zgs_downloadSegmentByTxSeq", 10**9, 0, 1) is None
    assert node.call("zgs_downloadSegment", "0x" + "ab" * 32, 0, 1) is None
    assert node.call("zgs_downloadSegmentWithProof", "0x" + "ab" * 32, 0) is None
    assert node.call("zgs_downloadSegmentWithProofByTxSeq", 10**9, 0) is None


# ---------------------------------------------------------------- upload, finalize, download


def test_upload__every_method_then_finalized_and_downloadable(node: Daemon, net: Chain) -> None:
    file = File.random(4 * SEGMENT_SIZE - 300, seed=1)  # 4 segments, the last one short
    net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]

    assert node.call("zgs_uploadSegment", file.segment(0)) is None
    assert uploaded(node, file.root) == 1
    assert node.call("zgs_uploadSegmentByTxSeq", file.segment(1), seq) is None
    assert node.call("zgs_uploadSegments", [file.segment(2)]) is None
    assert node.call("zgs_getFileInfo", file.root, True)["finalized"] is False
    assert node.call("zgs_uploadSegmentsByTxSeq", [file.segment(3)], seq) is None

    info = node.call("zgs_getFileInfo", file.root, True)
    assert info["finalized"] is True and info["uploadedSegNum"] == 4
    assert node.call("zgs_checkFileFinalized", file.root) is True
    assert download(node, seq, file.tree.size) == file.data


def test_download__chunk_ranges_by_root_and_seq(node: Daemon, net: Chain) -> None:
    file = File.random(SEGMENT_SIZE + 1000, seed=2)  # 1028 chunks: 2 segments, the last chunk partial
    net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]
    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0), file.segment(1)], seq)

    def chunks(start: int, end: int) -> bytes:
        by_root = base64.b64decode(node.call("zgs_downloadSegment", file.root, start, end))
        assert base64.b64decode(node.call("zgs_downloadSegmentByTxSeq", seq, start, end)) == by_root
        return by_root

    padded = file.data + bytes(1028 * 256 - file.tree.size)
    assert chunks(0, 1) == padded[:256]
    assert chunks(1000, 1028) == padded[1000 * 256 :]  # crosses into segment 1
    assert chunks(1024, 1028) == padded[1024 * 256 :]  # whole chunks, the last one zero-padded
    assert len(chunks(4, 1028)) == 1024 * 256


@pytest.mark.parametrize(
    ("start", "end", "needle"),
    [(5, 5, "invalid chunk index"), (6, 5, "invalid chunk index"), (0, 1025, "exceeds maximum chunks 1024")],
)
def test_download__bad_chunk_range_is_32602(
    node: Daemon, pending: dict[str, Any], start: int, end: int, needle: str
) -> None:
    assert_invalid(node.rpc("zgs_downloadSegmentByTxSeq", pending["seq"], start, end), needle)


def test_download__range_beyond_the_file_is_32602(node: Daemon, pending: dict[str, Any]) -> None:
    chunks = -(-pending["file"].tree.size // 256)

    assert_invalid(node.rpc("zgs_downloadSegmentByTxSeq", pending["seq"], chunks - 1, chunks + 1), "beyond")


def test_download__not_uploaded_yet_is_null(node: Daemon, pending: dict[str, Any]) -> None:
    assert node.call("zgs_downloadSegmentByTxSeq", pending["seq"], 0, 1024) is None
    assert node.call("zgs_downloadSegmentWithProofByTxSeq", pending["seq"], 0) is None


def test_download_with_proof__serves_a_verifiable_segment(node: Daemon, net: Chain) -> None:
    file = File.random(3 * SEGMENT_SIZE, seed=3)
    net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]
    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(i) for i in range(3)], seq)

    for index in range(3):
        segment = node.call("zgs_downloadSegmentWithProof", file.root, index)
        assert segment == node.call("zgs_downloadSegmentWithProofByTxSeq", seq, index)
        assert segment == file.segment(index)
        data = base64.b64decode(segment["data"])
        leaf = segment_root(data, file.tree.segment_padded_chunks(index))
        assert Proof.from_json(segment["proof"]).verify(file.tree.root, leaf, index, file.tree.num_segments_padded)
    assert_invalid(node.rpc("zgs_downloadSegmentWithProof", file.root, 3), "out of bound")


@pytest.mark.parametrize("size", [1, 300, 256 * 1024 - 1])
def test_upload__files_inside_one_segment(node: Daemon, net: Chain, size: int) -> None:
    file = File.random(size, seed=size)
    event = net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]

    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq)

    assert node.call("zgs_getFileInfoByTxSeq", seq)["finalized"] is True
    assert download(node, seq, size) == file.data
    assert event["startPos"] // 1024 == (event["startPos"] + event["length"] - 1) // 1024


def test_upload__same_segment_twice_is_idempotent(node: Daemon, net: Chain) -> None:
    file = File.random(2 * SEGMENT_SIZE, seed=4)
    net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]

    for _ in range(2):
        assert node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0), file.segment(0)], seq) is None

    assert uploaded(node, file.root) == 1
    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(1)], seq)
    assert uploaded(node, file.root) == 2


def test_upload__finalized_file_answers_already_finalized(node: Daemon, net: Chain) -> None:
    file = File.random(1000, seed=5)
    net.submit(file.tree)
    seq = wait_synced(node, file.root)["tx"]["seq"]
    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq)

    for reply in (
        node.rpc("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq),
        node.rpc("zgs_uploadSegment", file.segment(0)),
    ):
        assert_invalid(reply, FINALIZED)  # the SDK looks for this text in `data` and counts it a success


# ---------------------------------------------------------------- bad uploads: error, nothing stored


def _tamper(segment: dict[str, Any]) -> str:
    data = bytearray(base64.b64decode(segment["data"]))
    data[100] ^= 1
    return base64.b64encode(bytes(data)).decode()


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("proof_of_other_segment", "validation failed"),
        ("tampered_data", "validation failed"),
        ("data_of_other_segment", "validation failed"),
        ("wrong_index", "validation failed"),
        ("index_out_of_bound", "out of bound"),
        ("short_data", "invalid data length"),
        ("long_last_segment", "invalid data length"),
        ("wrong_file_size", "file size"),
        ("not_base64", "not valid base64"),
        ("lemma_not_hash", "malformed proof"),
        ("proof_not_object", "lemma"),
        ("missing_field", "missing field 'fileSize'"),
        ("root_not_hex", "32-byte hex"),
        ("negative_index", "non-negative integer"),
    ],
)
def test_upload__bad_segment_is_rejected_and_nothing_stored(
    node: Daemon, pending: dict[str, Any], case: str, needle: str
) -> None:
    file, seq = pending["file"], pending["seq"]
    seg0 = file.segment(0)
    segment = {
        "proof_of_other_segment": lambda: file.segment(0, proof=file.segment(1)["proof"]),
        "tampered_data": lambda: file.segment(0, data=_tamper(seg0)),
        "data_of_other_segment": lambda: file.segment(0, data=file.segment(1)["data"]),
        "wrong_index": lambda: file.segment(1, index=0),
        "index_out_of_bound": lambda: file.segment(2, index=3),
        "short_data": lambda: file.segment(0, data=base64.b64encode(base64.b64decode(seg0["data"])[:-256]).decode()),
        "long_last_segment": lambda: file.segment(2, data=base64.b64encode(bytes(8 * 256)).decode()),
        "wrong_file_size": lambda: file.segment(0, fileSize=file.tree.size + 1),
        "not_base64": lambda: file.segment(0, data="%%%not base64%%%"),
        "lemma_not_hash": lambda: file.segment(0, proof={"lemma": ["0x1234"], "path": []}),
        "proof_not_object": lambda: file.segment(0, proof=[1, 2]),
        "missing_field": lambda: {k: v for k, v in seg0.items() if k != "fileSize"},
        "root_not_hex": lambda: file.segment(0, root="0xnothex"),
        "negative_index": lambda: file.segment(0, index=-1),
    }[case]()

    assert_invalid(node.rpc("zgs_uploadSegmentsByTxSeq", [segment], seq), needle)
    assert uploaded(node, file.root) == 0
    assert node.call("zgs_downloadSegmentByTxSeq", seq, 0, 1) is None


def test_upload__batch_with_one_bad_segment_stores_none(node: Daemon, pending: dict[str, Any]) -> None:
    file, seq = pending["file"], pending["seq"]
    segments = [file.segment(0), file.segment(1, data=_tamper(file.segment(1)))]

    assert_invalid(node.rpc("zgs_uploadSegmentsByTxSeq", segments, seq), "validation failed")
    assert uploaded(node, file.root) == 0


def test_upload__root_of_another_tx_is_rejected(node: Daemon, pending: dict[str, Any]) -> None:
    other = File.random(500, seed=99)

    assert_invalid(node.rpc("zgs_uploadSegmentByTxSeq", other.segment(0), pending["seq"]), "is not the root")


def test_upload__unknown_root_says_not_synced(node: Daemon) -> None:
    file = File.random(500, seed=98)  # never submitted
    height = node.call("zgs_getStatus")["logSyncHeight"]

    error = node.rpc("zgs_uploadSegment", file.segment(0)).error

    assert error["code"] == -32602
    assert f"file root {file.root} not found" in error["message"]
    assert "not synced yet (log sync height" in error["data"]
    assert int(error["data"].split("log sync height ")[1].split(")")[0]) >= height


def test_upload__unknown_seq_says_not_synced(node: Daemon) -> None:
    file = File.random(500, seed=97)

    assert_invalid(node.rpc("zgs_uploadSegmentsByTxSeq", [file.segment(0)], 10**9), "tx seq 1000000000 not found")


def test_upload__submission_not_synced_yet(deployed_devnet: NetworkSettings, net: Chain) -> None:
    """A node that waits for 1000 confirmations has not synced a fresh Submit: uploads say so."""
    lagging = start_node(deployed_devnet, "node-lagging", ZG_CONFIRMATIONS="1000")
    try:
        file = File.random(700, seed=96)
        event = net.submit(file.tree)
        seq = event["submissionIndex"]

        error = assert_invalid(lagging.rpc("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq), "not synced yet")
        assert int(error["data"].split("log sync height ")[1].split(",")[0]) < event["blockNumber"]
        assert "not synced yet" in lagging.rpc("zgs_uploadSegment", file.segment(0)).error["data"]
        assert lagging.call("zgs_getFileInfo", file.root, True) is None
    finally:
        lagging.stop()


# ---------------------------------------------------------------- several submissions of one root


def test_same_root__first_answers_and_other_submissions_are_copied(node: Daemon, net: Chain) -> None:
    file = File.random(SEGMENT_SIZE + 10, seed=6)
    first = net.submit(file.tree)["submissionIndex"]
    second = net.submit(file.tree)["submissionIndex"]
    wait_for(lambda: node.call("zgs_getFileInfoByTxSeq", second), what="second submission")

    assert node.call("zgs_getFileInfo", file.root, True)["tx"]["seq"] == first  # the first, though open
    node.call("zgs_uploadSegmentsByTxSeq", [file.segment(0), file.segment(1)], second)
    info = node.call("zgs_getFileInfo", file.root, True)
    assert (info["tx"]["seq"], info["finalized"]) == (first, True)  # given the segments of the second
    third = net.submit(file.tree)["submissionIndex"]
    synced = wait_for(lambda: node.call("zgs_getFileInfoByTxSeq", third), what="third submission")

    assert (synced["finalized"], synced["uploadedSegNum"]) == (True, 2)  # copied on sync, no upload
    assert base64.b64decode(node.call("zgs_downloadSegmentByTxSeq", third, 0, 2)) == file.data[:512]
    assert_invalid(node.rpc("zgs_uploadSegment", file.segment(0)), FINALIZED)


# ---------------------------------------------------------------- JSON-RPC protocol


def test_rpc__unknown_method_is_32601(node: Daemon) -> None:
    error = node.rpc("zgs_noSuchMethod").error

    assert error["code"] == -32601
    assert "zgs_noSuchMethod" in error["message"]


def test_rpc__sector_proof_is_not_supported(node: Daemon) -> None:
    error = node.rpc("zgs_getSectorProof", 0, None).error

    assert error["code"] == -32601
    assert error["message"].startswith("Not supported")


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("zgs_getFileInfo", ["0x1234", True], "32-byte hex"),
        ("zgs_getFileInfo", [], "missing value"),
        ("zgs_getFileInfo", ["0x" + "00" * 32, "yes"], "true or false"),
        ("zgs_getFileInfoByTxSeq", ["0"], "non-negative integer"),
        ("zgs_getFileInfoByTxSeq", [-1], "non-negative integer"),
        ("zgs_getFileInfoByTxSeq", [0, 1], "at most 1 params"),
        ("zgs_uploadSegmentsByTxSeq", [{"root": "0x"}, 0], "expected an array"),
        ("zgs_uploadSegmentsByTxSeq", [["nope"], 0], "SegmentWithProof"),
        ("zgs_downloadSegmentByTxSeq", [0, 0], "missing value"),
    ],
)
def test_rpc__malformed_params_are_32602(node: Daemon, method: str, params: list[Any], needle: str) -> None:
    assert_invalid(node.rpc(method, *params), needle)


def test_rpc__named_params(node: Daemon, pending: dict[str, Any]) -> None:
    body = {"jsonrpc": "2.0", "method": "zgs_getFileInfoByTxSeq", "params": {"tx_seq": pending["seq"]}, "id": 3}

    assert node.post(body).json()["result"]["tx"]["seq"] == pending["seq"]


def test_rpc__parse_error_and_invalid_request(node: Daemon) -> None:
    broken = httpx.post(node.url, content=b'{"jsonrpc": "2.0", "method"', headers={"Content-Type": "application/json"})
    assert broken.json()["error"]["code"] == -32700
    assert node.post({"method": "zgs_getStatus", "id": 1}).json()["error"]["code"] == -32600
    assert node.post([]).json()["error"]["code"] == -32600


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 100_000, -32700),  # deeper than Python's recursion limit
        (b'{"a":' * 5000, -32700),
        (b'{"jsonrpc": "2.0", "method": "zgs_getStatus", "id": NaN}', -32700),  # not JSON, though Python reads it
        (b'{"jsonrpc": "2.0", "method": "zgs_getStatus", "id": -Infinity}', -32700),
        (b'[{"jsonrpc": "2.0", "method": "zgs_getStatus", "id": 1e999}]', -32600),  # JSON, but no answer can echo it
    ],
)
def test_rpc__unparseable_or_unechoable_input_is_an_error_not_500(node: Daemon, body: bytes, code: int) -> None:
    """Found by fuzzing (tests/faults/test_fuzz.py): these were HTTP 500s that also dropped the connection."""
    response = httpx.post(node.url, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    answer = response.json()
    answer = answer[0] if isinstance(answer, list) else answer
    assert answer["id"] is None and answer["error"]["code"] == code
    assert node.call("zgs_getShardConfig")  # still serving


def test_rpc__batch(node: Daemon) -> None:
    answers = node.post(
        [
            {"jsonrpc": "2.0", "method": "zgs_getShardConfig", "id": 1},
            {"jsonrpc": "2.0", "method": "zgs_nope", "id": 2},
            {"jsonrpc": "2.0", "method": "zgs_getStatus"},  # a notification: no answer
            {"jsonrpc": "2.0", "method": "zgs_getFileInfoByTxSeq", "params": ["x"], "id": 3},
        ]
    ).json()

    assert [a["id"] for a in answers] == [1, 2, 3]
    assert answers[0]["result"] == {"shardId": 0, "numShard": 1}
    assert answers[1]["error"]["code"] == -32601
    assert answers[2]["error"]["code"] == -32602


def test_rpc__notification_gets_no_body(node: Daemon) -> None:
    response = node.post({"jsonrpc": "2.0", "method": "zgs_getStatus"})

    assert response.status_code == 204 and response.content == b""


def test_rpc__oversized_body_is_refused(node: Daemon) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "zgs_uploadSegment", "params": ["x" * (65 * 2**20)], "id": 1})

    response = httpx.post(node.url, content=body.encode(), headers={"Content-Type": "application/json"}, timeout=30)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == -32600 and error["data"] == "payload_too_large"
    assert f"limit of {64 * 2**20} bytes" in error["message"]
    assert node.call("zgs_getShardConfig")  # still serving


# ---------------------------------------------------------------- restarts, crashes, reorgs


def test_restart__keeps_files_and_resumes_sync(deployed_devnet: NetworkSettings, net: Chain) -> None:
    daemon = start_node(deployed_devnet, "node-restart")
    file = File.random(2 * SEGMENT_SIZE + 5, seed=7)
    net.submit(file.tree)
    seq = wait_synced(daemon, file.root)["tx"]["seq"]
    daemon.call("zgs_uploadSegmentsByTxSeq", [file.segment(i) for i in range(3)], seq)
    height = daemon.call("zgs_getStatus")["logSyncHeight"]

    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()
    later = File.random(600, seed=8)
    net.submit(later.tree)  # while the node is down
    daemon.start()

    assert daemon.call("zgs_getFileInfo", file.root, True)["finalized"] is True
    assert download(daemon, seq, file.tree.size) == file.data
    assert wait_synced(daemon, later.root)["tx"]["seq"] == seq + 1
    assert daemon.call("zgs_getStatus")["logSyncHeight"] > height
    assert daemon.log(tail=10**6).count(f"synced tx {seq}:") == 1  # resumed from the cursor, not re-read
    assert daemon.stop() == 0


def test_kill9__stored_segments_survive_and_upload_resumes(deployed_devnet: NetworkSettings, net: Chain) -> None:
    daemon = start_node(deployed_devnet, "node-crash")
    file = File.random(6 * SEGMENT_SIZE, seed=9)
    net.submit(file.tree)
    seq = wait_synced(daemon, file.root)["tx"]["seq"]
    daemon.call("zgs_uploadSegmentsByTxSeq", [file.segment(0), file.segment(1)], seq)

    # kill -9 while a batch upload is in flight.
    batch = [file.segment(i) for i in range(2, 6)]
    uploader = threading.Thread(target=_post_quietly, args=(daemon, _request(batch, seq)))
    uploader.start()
    time.sleep(0.02)
    daemon.kill()
    uploader.join()
    # What a crash between write and rename leaves: a temp file, and maybe a partial file no row points to.
    tx_dir = next((node_dir(deployed_devnet, "node-crash") / "segments").iterdir())
    (tx_dir / ".5.deadbeef.tmp").write_bytes(b"partial")
    planted = not (tx_dir / "5.seg").exists()
    if planted:
        (tx_dir / "5.seg").write_bytes(b"partial")
    daemon.start()

    def served(index: int) -> bytes | None:
        encoded = daemon.call("zgs_downloadSegmentByTxSeq", seq, index * 1024, index * 1024 + 1024)
        return None if encoded is None else base64.b64decode(encoded)

    stored = daemon.call("zgs_getFileInfo", file.root, True)["uploadedSegNum"]
    assert 2 <= stored <= 6
    held = {i: served(i) for i in range(6)}
    assert sum(data is not None for data in held.values()) == stored
    for index, data in held.items():
        assert data is None or data == file.data[index * SEGMENT_SIZE : (index + 1) * SEGMENT_SIZE]
    assert held[5] is None or not planted
    assert not list(tx_dir.glob("*.tmp"))
    daemon.call("zgs_uploadSegmentsByTxSeq", [file.segment(i) for i, data in held.items() if data is None], seq)

    assert daemon.call("zgs_getFileInfo", file.root, True)["finalized"] is True
    assert download(daemon, seq, file.tree.size) == file.data
    assert daemon.stop() == 0


def _request(segments: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "zgs_uploadSegmentsByTxSeq", "params": [segments, seq], "id": 1}


def _post_quietly(daemon: Daemon, body: dict[str, Any]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # killed mid-request
        daemon.post(body)


def test_reorg__dropped_submission_is_forgotten(deployed_devnet: NetworkSettings, net: Chain) -> None:
    daemon = start_node(deployed_devnet, "node-reorg")
    try:
        snapshot = net.snapshot()
        file = File.random(2 * SEGMENT_SIZE, seed=10)
        seq = net.submit(file.tree)["submissionIndex"]
        wait_synced(daemon, file.root)
        daemon.call("zgs_uploadSegmentsByTxSeq", [file.segment(0)], seq)
        segments = node_dir(deployed_devnet, "node-reorg") / "segments"
        assert any(p.name.startswith(f"{seq}_") for p in segments.iterdir())

        net.revert(snapshot)  # the Submit's block is gone; a longer fork replaces it
        net.mine(3)

        wait_for(lambda: daemon.call("zgs_getFileInfo", file.root, True) is None, what="the node to forget the file")
        assert daemon.call("zgs_getFileInfoByTxSeq", seq) is None
        assert daemon.call("zgs_getStatus")["nextTxSeq"] == seq
        wait_for(lambda: not any(p.name.startswith(f"{seq}_") for p in segments.iterdir()), what="segment files gone")
        assert "reorg" in daemon.log(tail=100_000)

        # The seq is taken again by the next submission on the new fork, which uploads normally.
        other = File.random(900, seed=12)
        assert net.submit(other.tree)["submissionIndex"] == seq
        assert wait_synced(daemon, other.root)["tx"]["seq"] == seq
        daemon.call("zgs_uploadSegmentsByTxSeq", [other.segment(0)], seq)
        assert download(daemon, seq, other.tree.size) == other.data
    finally:
        daemon.stop()


# ---------------------------------------------------------------- configuration errors


def test_config__bad_shard_exits_1(deployed_devnet: NetworkSettings) -> None:
    env = {"ZG_STORAGE_PORT": str(free_port()), "ZG_STORAGE_NUM_SHARD": "3"}
    daemon = Daemon("services.storage_miner", deployed_devnet, "node-badshard", 1, env)
    with pytest.raises(pytest.fail.Exception, match="exited with 1"):
        daemon.start()
    assert "numShard must be a power of two" in daemon.log()


def test_config__data_dir_of_another_shard_exits_1(deployed_devnet: NetworkSettings, node: Daemon) -> None:
    env = {"ZG_STORAGE_NAME": "node-main", "ZG_STORAGE_SHARD_ID": "1", "ZG_STORAGE_NUM_SHARD": "2"}
    env["ZG_STORAGE_PORT"] = str(free_port())
    daemon = Daemon("services.storage_miner", deployed_devnet, "node-othershard", 1, env)
    with pytest.raises(pytest.fail.Exception, match="exited with 1"):
        daemon.start()
    assert "holds shard 0/1" in daemon.log()


def test_config__no_flow_in_manifest_exits_1(deployed_devnet: NetworkSettings, tmp_path: Any) -> None:
    manifest = json.loads(next(deployed_devnet.deployments_dir.glob("*.json")).read_text())
    del manifest["contracts"]["Flow"]
    (tmp_path / f"{manifest['chainId']}.json").write_text(json.dumps(manifest))
    env = {"ZG_DEPLOYMENTS_DIR": str(tmp_path), "ZG_STORAGE_NAME": "node-noflow", "ZG_STORAGE_PORT": str(free_port())}
    daemon = Daemon("services.storage_miner", deployed_devnet, "node-noflow", 1, env)
    with pytest.raises(pytest.fail.Exception, match="exited with 1"):
        daemon.start()
    assert "has no Flow contract" in daemon.log()


def test_guard__oversized_foreign_host_and_cross_site_calls_are_refused(node: Daemon) -> None:
    body = b'{"jsonrpc": "2.0", "method": "zgs_getStatus", "id": 1}'
    assert_guarded(node.url, "/", NODE_MAX_BODY_BYTES, jsonrpc_code, body=body)
