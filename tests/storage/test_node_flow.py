"""The node's pure pieces, no chain: the file root from submission nodes, shard arithmetic, the padding
check on proofs, and the JSON-RPC dispatcher's parameter and protocol handling."""

from __future__ import annotations

import random
from typing import Any

import pytest

from services.common.jsonrpc import Dispatcher, Param, parse_bool, parse_hash, parse_uint
from services.storage_miner.flow import ShardConfig, Submission, root_from_submission_nodes, shard_segments
from services.storage_miner.segments import _padding_siblings_empty
from zerog.storage.merkle import SEGMENT_SIZE, FileLayout, FileTree, zero_hash

KIB, MIB = 1024, 1024 * 1024


def _boundary_sizes() -> list[int]:
    """Every size class of the flow padding up to 5 MiB: chunk and segment boundaries, the 1-4 node
    submissions, and random sizes."""
    sizes = {1, 2, 255, 256, 257, 511, 512, 513, 1920 * 256 - 100, 1_300_000, 4 * MIB + 1, 5 * MIB}
    for segments in range(0, 21):
        for delta in (-257, -1, 0, 1, 256, 257):
            sizes.add(segments * SEGMENT_SIZE + delta)
    for chunks in (3, 17, 33, 100, 640, 1023, 1025, 1152, 1153, 2047, 2049, 4095, 4097):
        sizes.add(chunks * 256)
    rng = random.Random(7)
    sizes.update(rng.randint(1, 5 * MIB) for _ in range(40))
    return sorted(s for s in sizes if 0 < s <= 5 * MIB)


@pytest.fixture(scope="module")
def blob() -> bytes:
    return random.Random(1).randbytes(5 * MIB)


def test_root_from_submission_nodes__equals_file_root_on_every_size_class(blob: bytes) -> None:
    mismatches = []
    for size in _boundary_sizes():
        tree = FileTree.from_bytes(blob[:size])
        if root_from_submission_nodes(tree.submission_nodes()) != tree.root:
            mismatches.append(size)

    assert mismatches == []


def test_root_from_submission_nodes__sdk_example_257_bytes() -> None:
    # docs/storage-wire.md: 262145 B has nodes (10: seg0, 7: seg1) and root keccak(seg0 ‖ seg1).
    data = bytes(i % 251 for i in range(262145))
    tree = FileTree.from_bytes(data)

    assert [h for _, h in tree.submission_nodes()] == [10, 7]
    assert "0x" + root_from_submission_nodes(tree.submission_nodes()).hex() == (
        "0x1458412a6ece9f4f9dc83ade0c68037378ef3e10fe484cea5d451cc10c9212d0"
    )


def test_root_from_submission_nodes__needs_a_node() -> None:
    with pytest.raises(ValueError):
        root_from_submission_nodes([])


def _submission(size: int, nodes: list[tuple[bytes, int]]) -> Submission:
    return Submission(0, b"", 0, size, b"", tuple(nodes), "0x", 1, "0x", "0x", 0)


def test_submission_problem__nodes_must_cover_the_padded_size() -> None:
    tree = FileTree.from_bytes(bytes(300_000))

    assert _submission(300_000, tree.submission_nodes()).problem() is None
    assert "pad to" in (_submission(3_000_000, tree.submission_nodes()).problem() or "")
    assert "0 bytes" in (_submission(0, tree.submission_nodes()).problem() or "")


@pytest.mark.parametrize(
    ("shard_id", "num_shard", "ok"),
    [(0, 1, True), (1, 2, True), (3, 4, True), (0, 3, False), (2, 2, False), (0, 0, False)],
)
def test_shard_config__validity(shard_id: int, num_shard: int, ok: bool) -> None:
    assert (ShardConfig(shard_id, num_shard).problem() is None) is ok


def test_shard_segments__uses_global_segment_index() -> None:
    layout = FileLayout(5 * SEGMENT_SIZE)  # segments 0..4

    # A file starting at flow segment 3: local i is global 3+i.
    assert shard_segments(layout, 3 * 1024, ShardConfig(0, 2)) == [1, 3]
    assert shard_segments(layout, 3 * 1024, ShardConfig(1, 2)) == [0, 2, 4]
    # A small file inside flow segment 5 (not aligned): one segment, global 5.
    assert shard_segments(FileLayout(100), 5 * 1024 + 64, ShardConfig(1, 2)) == [0]
    assert shard_segments(FileLayout(100), 5 * 1024 + 64, ShardConfig(0, 2)) == []


def test_padding_siblings__empty_padding_passes_nonzero_padding_fails() -> None:
    # 4 MiB + 1 B: 17 data segments, 18 leaves; leaf 17 is all padding.
    size = 4 * MIB + 1
    honest = FileTree.from_bytes(bytes(size))
    assert honest.num_segments == 17 and honest.num_segments_padded == 18
    assert honest.segment_roots[17] == zero_hash(10)
    forged = FileTree(size, [*honest.segment_roots[:17], b"\x01" * 32])

    for tree, expected in ((honest, True), (forged, False)):
        proof = tree.proof(16)
        assert proof.verify(tree.root, tree.segment_roots[16], 16, 18)
        assert _padding_siblings_empty(proof, 18, 17) is expected
    # Segments whose siblings hold data are unaffected.
    assert _padding_siblings_empty(forged.proof(3), 18, 17)


# ---------------------------------------------------------------- JSON-RPC dispatcher


@pytest.fixture
def dispatcher() -> Dispatcher:
    d = Dispatcher()
    d.add("add", lambda a, b: a + b, Param("a", parse_uint), Param("b", parse_uint, optional=True, default=1))
    d.add("flag", lambda f: f, Param("flag", parse_bool))
    d.add("hash", lambda h: h.hex(), Param("root", parse_hash))
    d.add("boom", lambda: 1 / 0)
    return d


def _call(d: Dispatcher, method: str, params: Any = None, **extra: Any) -> Any:
    body = {"jsonrpc": "2.0", "method": method, "id": 7, **extra}
    if params is not None:
        body["params"] = params
    return d.handle(body)


def test_dispatcher__positional_named_and_default_params(dispatcher: Dispatcher) -> None:
    assert _call(dispatcher, "add", [2, 3])["result"] == 5
    assert _call(dispatcher, "add", {"a": 2, "b": 5})["result"] == 7
    assert _call(dispatcher, "add", [2])["result"] == 3
    assert _call(dispatcher, "add", {"a": 2})["result"] == 3


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("add", [], "missing value"),
        ("add", ["1"], "non-negative integer"),
        ("add", [-1], "non-negative integer"),
        ("add", [True], "non-negative integer"),
        ("add", [1.5], "non-negative integer"),
        ("add", [2**64], "non-negative integer"),
        ("add", [1, 2, 3], "at most 2 params"),
        ("add", {"c": 1}, "unknown param"),
        ("add", "1", "array or an object"),
        ("flag", [1], "true or false"),
        ("hash", ["0x1234"], "32-byte hex"),
        ("hash", ["ab" * 32], "32-byte hex"),
    ],
)
def test_dispatcher__bad_params_are_32602(dispatcher: Dispatcher, method: str, params: Any, needle: str) -> None:
    error = _call(dispatcher, method, params)["error"]

    assert error["code"] == -32602
    assert error["message"].startswith("Invalid params")
    assert needle in error["message"] and needle in error["data"]


def test_dispatcher__protocol_errors(dispatcher: Dispatcher) -> None:
    assert _call(dispatcher, "nope")["error"]["code"] == -32601
    assert _call(dispatcher, "add", [1], jsonrpc="1.0")["error"]["code"] == -32600
    assert dispatcher.handle({"jsonrpc": "2.0", "id": 1})["error"]["code"] == -32600
    assert dispatcher.handle("hello")["error"]["code"] == -32600
    assert dispatcher.handle([])["error"]["code"] == -32600
    boom = _call(dispatcher, "boom")["error"]
    assert boom["code"] == -32603 and "ZeroDivision" not in str(boom)


def test_dispatcher__batch_answers_in_order_and_skips_notifications(dispatcher: Dispatcher) -> None:
    answers = dispatcher.handle(
        [
            {"jsonrpc": "2.0", "method": "add", "params": [1, 1], "id": "a"},
            {"jsonrpc": "2.0", "method": "add", "params": [1, 1]},  # notification
            {"jsonrpc": "2.0", "method": "nope", "id": "b"},
            5,
        ]
    )

    assert [a.get("id") for a in answers] == ["a", "b", None]
    assert answers[0]["result"] == 2
    assert answers[1]["error"]["code"] == -32601
    assert answers[2]["error"]["code"] == -32600
    assert dispatcher.handle({"jsonrpc": "2.0", "method": "add", "params": [1]}) is None
