"""The miner's data path without a chain: a real node store (SQLite + segment files) holding real files at their
flow positions, the flow tree rebuilt from the submissions, proofs built from stored segments and their upload
proofs (checked against whole-file proofs and a naive flow root), sealing into sealed.bin, and the nonce search
(its answers checked one by one; it never recalls data the node lacks)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from services.storage_miner.flow import ShardConfig, Submission, root_from_submission_nodes
from services.storage_miner.mining.data import (
    DataMissingError,
    NodeData,
    Prover,
    best_range_start,
    flow_index,
    plan_spans,
)
from services.storage_miner.mining.sealed import SealedFile
from services.storage_miner.mining.search import EMPTY, HELD, MISSING, Plan, search
from services.storage_miner.mining.state import MinerState, SealedSegment
from services.storage_miner.store import NodeStore
from tests.storage.memory_flow import MemoryFlow
from zerog.storage.flow_tree import root_of_path
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, SEGMENT_SIZE, FileTree, keccak256, zero_hash
from zerog.storage.pora import (
    MAX_UINT256,
    MineRange,
    MiningContext,
    quality_of,
    seal_bytes,
    seal_sector,
    seed_of,
    seed_prefix,
    unseal_sector,
)

CHAIN_ID = 16688
FLOW = "0x00000000000000000000000000000000000000F1@0xaa"
MINER_ID = bytes(range(32))
#: Sizes covering every node kind: a small file in a shared segment, 4 MiB + 1 byte (a node of height 11 holding
#: one data segment and one all-padding segment), a 3-segment file, a one-sector file.
SIZES = (5000, 4 * 2**20 + 1, 3 * SEGMENT_SIZE + 999, 300)
MAX_MINING_LENGTH = 1 << 30


def place(length: int, nodes: list[tuple[bytes, int]]) -> int:
    """The Flow's placement rule (IFlow): aligned to the first node, then to a segment if it would cross one."""
    sectors = sum(1 << h for _, h in nodes)
    mask = (1 << nodes[0][1]) - 1
    start = (length + mask) & ~mask
    if start % SEGMENT_CHUNKS and start // SEGMENT_CHUNKS != (start + sectors - 1) // SEGMENT_CHUNKS:
        start = -(-start // SEGMENT_CHUNKS) * SEGMENT_CHUNKS
    return start


class Node:
    """A node store with files submitted at their flow positions; `shard` decides which segments it keeps."""

    def __init__(self, path: Path, shard: ShardConfig) -> None:
        self.store = NodeStore.open(path / "node.db", path / "segments", shard, FLOW, CHAIN_ID)
        self.shard = shard
        self.memory = MemoryFlow()
        self.length = 1
        self.files: list[tuple[int, bytes, FileTree, int]] = []  # (seq, data, tree, start)

    def add(self, data: bytes, upload: bool = True) -> int:
        tree = FileTree.from_bytes(data)
        nodes = tree.submission_nodes()
        start = place(self.length, nodes)
        self.length = start + sum(1 << h for _, h in nodes)
        seq = len(self.files)
        sub = Submission(
            seq, root_from_submission_nodes(nodes), start, len(data), b"", tuple(nodes), "0xsender", 1, "0xb",
            f"0xtx{seq}", 0,
        )  # fmt: skip
        with self.store.lock:
            self.store.conn.execute("BEGIN IMMEDIATE")
            self.store.add_submission(self.store.conn, sub)
            self.store.conn.execute("COMMIT")
        self.memory.add(start, data, nodes)
        self.files.append((seq, data, tree, start))
        if upload:
            tx = self.store.tx_by_seq(seq)
            assert tx is not None
            for index in range(tree.num_segments):
                if self.shard.holds(start // SEGMENT_CHUNKS + index):
                    raw = data[index * SEGMENT_SIZE : index * SEGMENT_SIZE + tree.segment_chunks(index) * CHUNK_SIZE]
                    raw += bytes(tree.segment_chunks(index) * CHUNK_SIZE - len(raw))
                    proof = tree.proof(index).to_json()
                    self.store.write_segment(tx, index, raw, tree.segment_roots[index], proof)
        return start

    def prover(self) -> Prover:
        data = NodeData(self.store)
        txs = data.submissions()
        return Prover(data, txs, flow_index(txs).at(self.length))


def naive_root(memory: MemoryFlow, length: int) -> bytes:
    """The flow root by hashing every sector up to the next power of two, then empty subtrees up to height 64."""
    width = 1 << max(length - 1, 1).bit_length()
    level = [keccak256(memory.sector(p)) if p < length else zero_hash(0) for p in range(width)]
    height = width.bit_length() - 1
    while len(level) > 1:
        level = [keccak256(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    root = level[0]
    for h in range(height, 64):
        root = keccak256(root + zero_hash(h))
    return root


@pytest.fixture
def node(tmp_path: Path) -> Node:
    node = Node(tmp_path, ShardConfig(0, 1))
    rng = random.Random(1)
    for size in SIZES:
        node.add(rng.randbytes(size))
    return node


def _kind(prover: Prover, position: int) -> str:
    node = prover.view.node_at(position)
    if node is None:
        return "empty"
    tx = prover.tx_at(position)
    assert tx is not None
    if (position - tx.start) // SEGMENT_CHUNKS >= tx.layout.num_segments:
        return "padding segment"
    return "above segment" if node.height > 10 else "within segment"


def test_prover__paths_match_whole_files_and_the_flow_root(node: Node) -> None:
    prover = node.prover()
    root = prover.view.root()
    assert root == naive_root(node.memory, node.length)
    positions = set(random.Random(2).sample(range(node.length), 300))
    positions |= {0, 1, node.length - 1}
    seen = set()
    for position in sorted(positions):
        sector, inner = prover.sector(position)
        assert sector == node.memory.sector(position), position
        assert inner == node.memory.inner(prover.view, position), position
        assert root_of_path(keccak256(sector), position, prover.view.path(position, inner)) == root
        seen.add(_kind(prover, position))
    assert seen == {"empty", "padding segment", "above segment", "within segment"}


def test_prover__answer_proves_the_recalled_sector(node: Node) -> None:
    prover = node.prover()
    context = MiningContext(3, 0, prover.view.root(), node.length, bytes(32), keccak256(b"context"))
    mine_range = MineRange.of(0, 0, 1, node.length, MAX_MINING_LENGTH, SEGMENT_CHUNKS)

    for nonce in range(20):
        answer = prover.answer(context, MINER_ID, nonce, mine_range)
        expected = node.memory.answer(prover.view, context, MINER_ID, nonce, mine_range)
        assert answer == expected
        assert unseal_sector(answer.sealed_data, MINER_ID, answer.recall_position) == node.memory.sector(
            answer.recall_position
        )


def test_prover__lost_segment_cannot_be_proven_others_still_can(node: Node) -> None:
    seq, _, tree, start = node.files[2]  # the 3-segment file
    tx = node.store.tx_by_seq(seq)
    assert tx is not None
    node.store.segment_path(tx, 1).unlink()
    prover = node.prover()

    with pytest.raises(DataMissingError, match="segment 1 of tx 2"):
        prover.sector(start + SEGMENT_CHUNKS + 5)
    for index in (0, 2):
        sector, _ = prover.sector(start + index * SEGMENT_CHUNKS + 5)
        assert sector == node.memory.sector(start + index * SEGMENT_CHUNKS + 5)


def test_prover__padding_segment_needs_its_data_sibling(tmp_path: Path) -> None:
    """4 MiB + 1 byte: segment 17 is all padding; its level-10 sibling is segment 16, which shard 1/2 lacks."""
    node = Node(tmp_path, ShardConfig(1, 2))
    start = node.add(random.Random(3).randbytes(4 * 2**20 + 1))
    prover = node.prover()
    padding = start + 17 * SEGMENT_CHUNKS + 3

    with pytest.raises(DataMissingError, match="padding segment"):
        prover.sector(padding)
    sector, inner = prover.sector(start + 15 * SEGMENT_CHUNKS)  # a data segment of shard 1
    assert root_of_path(keccak256(sector), start + 15 * SEGMENT_CHUNKS, prover.view.path(start + 15 * 1024, inner))


def test_sealed_file__slots_hold_sealed_segments(tmp_path: Path) -> None:
    state = MinerState.open(tmp_path / "miner.db")
    sealed = SealedFile(tmp_path / "sealed.bin", MINER_ID)
    first = os.urandom(SEGMENT_SIZE)
    short = os.urandom(128 * CHUNK_SIZE)

    a = sealed.seal(state, uid=1, seg_index=0, position=1024, data=first)
    b = sealed.seal(state, uid=1, seg_index=1, position=2048, data=short)

    assert (a.slot, b.slot) == (0, 1)
    assert sealed.read(a) == seal_bytes(first, MINER_ID, 1024)
    assert sealed.read(b)[:CHUNK_SIZE] == seal_sector(short[:CHUNK_SIZE], MINER_ID, 2048)
    assert sealed.rows == 2 * SEGMENT_CHUNKS
    state.drop_sealed([(1, 0)])
    c = sealed.seal(state, uid=2, seg_index=0, position=4096, data=first)
    assert c.slot == 0  # the freed slot is reused
    assert set(state.sealed()) == {(1, 1), (2, 0)}
    with pytest.raises(ValueError, match="whole sectors"):
        sealed.seal(state, uid=3, seg_index=0, position=0, data=b"x" * 100)
    sealed.close()
    state.close()


def _plan(node: Node, tmp_path: Path, target: int, shard: ShardConfig) -> tuple[Plan, Prover, MiningContext]:
    prover = node.prover()
    state = MinerState.open(tmp_path / "miner.db")
    sealed = SealedFile(tmp_path / "sealed.bin", MINER_ID)
    data = NodeData(node.store)
    txs = data.submissions()
    for tx in txs:
        for index in range(tx.layout.num_segments):
            if (held := data.segment(tx, index)) is not None:
                sealed.seal(state, tx.uid, index, tx.segment_start(index), held[0])
    context = MiningContext(1, 0, prover.view.root(), node.length, bytes(32), keccak256(b"ctx"))
    mine_range = MineRange.of(0, shard.shard_id, shard.num_shard, node.length, MAX_MINING_LENGTH, SEGMENT_CHUNKS)
    starts, kinds, rows, _ = plan_spans(txs, node.length, shard, state.sealed(), prover)
    plan = Plan(
        "k", seed_prefix(context.digest, MINER_ID, 0, shard.shard_id, shard.num_shard), MINER_ID, mine_range,
        target, str(sealed.path), sealed.rows, np.array(starts, dtype=np.uint64), np.array(kinds, dtype=np.uint8),
        np.array(rows, dtype=np.int64),
    )  # fmt: skip
    return plan, prover, context


def test_search__every_found_answer_is_valid(node: Node, tmp_path: Path) -> None:
    target = MAX_UINT256 // 50
    plan, prover, context = _plan(node, tmp_path / "m", target, ShardConfig(0, 1))

    result = search(plan, 0, 20_000, limit=1000)

    assert result.count == 20_000 and result.hashed == 20_000  # one shard, everything held or empty
    assert 200 < len(result.found) < 700  # about 20 000 / 50
    for nonce, position, quality in result.found[:40]:
        answer = prover.answer(context, MINER_ID, nonce, plan.mine_range)
        assert (answer.recall_position, answer.quality) == (position, quality)
        assert quality <= target


def test_search__never_recalls_missing_data(tmp_path: Path) -> None:
    node = Node(tmp_path, ShardConfig(0, 1))
    rng = random.Random(4)
    node.add(rng.randbytes(3 * SEGMENT_SIZE))
    lost_start = node.add(rng.randbytes(2 * SEGMENT_SIZE), upload=False)  # submitted, never uploaded
    plan, _, context = _plan(node, tmp_path / "m", MAX_UINT256, ShardConfig(0, 1))
    assert (plan.kind_at(lost_start), plan.kind_at(0), plan.kind_at(1024), plan.kind_at(2048 + 5)) == (
        MISSING,
        EMPTY,
        EMPTY,
        HELD,
    )  # the 3-segment file starts at 2048, aligned to its first node

    result = search(plan, 0, 5000, limit=10_000)

    lost = range(lost_start, lost_start + 2 * SEGMENT_CHUNKS)
    assert all(position not in lost for _, position, _ in result.found)
    assert result.hashed == len(result.found) < result.count  # recalls of the lost file give nothing
    share = 2 * SEGMENT_CHUNKS / node.length
    assert abs(1 - result.hashed / result.count - share) < 0.05
    for nonce, position, quality in result.found[:20]:
        seed = seed_of(context.digest, MINER_ID, 0, 0, 1, nonce)
        assert quality == quality_of(seed, seal_sector(node.memory.sector(position), MINER_ID, position))


def test_search__stops_at_the_limit(node: Node, tmp_path: Path) -> None:
    plan, _, _ = _plan(node, tmp_path / "m", MAX_UINT256, ShardConfig(0, 1))

    result = search(plan, 0, 50_000, limit=3)

    assert len(result.found) == 3
    assert result.count < 50_000  # it stopped after the first batch


def test_search__shard_recalls_only_its_segments(tmp_path: Path) -> None:
    node = Node(tmp_path, ShardConfig(1, 2))
    node.add(random.Random(5).randbytes(6 * SEGMENT_SIZE))
    plan, _, _ = _plan(node, tmp_path / "m", MAX_UINT256, ShardConfig(1, 2))

    result = search(plan, 0, 3000, limit=10_000)

    assert result.found
    assert all((position // SEGMENT_CHUNKS) % 2 == 1 for _, position, _ in result.found)


def test_state__changed_identity_forgets_everything(tmp_path: Path) -> None:
    state = MinerState.open(tmp_path / "miner.db")
    identity = {"mine": "0xmine@0xblock", "miner_id": "0x01", "shard": "0/1"}
    assert state.reset_if_changed(identity) is False  # a new state
    state.add_sealed(SealedSegment(1, 0, 0, 1024, 1024))
    assert state.epoch_progress(4, "0xaa", 5000) == 0
    state.hand_out(4, 65536)
    assert state.add_answer(4, "0xaa", 7, 1500, 123) is not None
    assert state.add_answer(4, "0xaa", 7, 1500, 123) is None  # the same (epoch, nonce) once

    assert state.reset_if_changed(identity) is False  # a restart: everything kept
    assert state.epoch_progress(4, "0xaa", 5000) == 65536
    assert state.epoch_progress(4, "0xbb", 5000) == 0  # another context of that epoch starts over

    assert state.reset_if_changed({**identity, "miner_id": "0x02"}) is True
    assert state.sealed() == {}
    assert state.totals()["answers"]["found"] == 0
    assert state.meta()["miner_id"] == "0x02"
    state.close()


def test_best_range_start__window_over_the_most_sealed_data() -> None:
    seg = SEGMENT_CHUNKS
    sealed = [(2 * seg, seg), (10 * seg, seg), (11 * seg, seg), (12 * seg, 512)]

    assert best_range_start(sealed, 20 * seg, 32 * seg, seg) == 0  # the window covers the whole flow
    assert best_range_start([], 20 * seg, 4 * seg, seg) == 0
    assert best_range_start(sealed, 20 * seg, 4 * seg, seg) == 10 * seg  # 2.5 segments beat the lone one at 2
    assert best_range_start(sealed, 20 * seg, seg, seg) == 2 * seg  # one full segment: the first wins ties
    assert best_range_start(sealed, 20 * seg, 4 * seg, 4 * seg) == 8 * seg  # starts are pricing-chunk multiples
    # The window must end inside the flow: data near the end is mined from the last start that fits.
    start = best_range_start([(12 * seg + 100, 50)], 12 * seg + 200, seg, seg)
    assert start == 11 * seg and start % seg == 0
    assert start + seg <= 12 * seg + 200
