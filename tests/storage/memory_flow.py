"""A flow held in memory (`MemoryFlow`) for the mining tests and benches/storage_mining.py; the SDK does not ship it."""

from __future__ import annotations

from collections.abc import Sequence

from zerog.storage.flow_tree import FlowIndex, FlowView, inner_path, sector_leaves
from zerog.storage.merkle import CHUNK_SIZE
from zerog.storage.pora import Answer, MineRange, MiningContext, build_answer, seed_of


class MemoryFlow:
    """Whole files in memory at their flow positions: what a miner that keeps entire files proves with (tests and
    benches use it; the storage node's miner proves from its segments instead)."""

    def __init__(self) -> None:
        self._files: list[tuple[int, bytes, list[tuple[bytes, int]]]] = []

    def add(self, start: int, data: bytes, nodes: Sequence[tuple[bytes, int]]) -> None:
        """A file of `data` placed at flow `start` with its submission `nodes` (root, height)."""
        sectors = sum(1 << height for _, height in nodes)
        self._files.append((start, data + bytes(sectors * CHUNK_SIZE - len(data)), list(nodes)))
        self._files.sort(key=lambda f: f[0])

    def index(self) -> FlowIndex:
        return FlowIndex.from_submissions((start, nodes) for start, _, nodes in self._files)

    def sector(self, position: int) -> bytes:
        """The sector at `position` (an empty sector outside every file)."""
        for start, padded, _ in self._files:
            if start <= position < start + len(padded) // CHUNK_SIZE:
                offset = (position - start) * CHUNK_SIZE
                return padded[offset : offset + CHUNK_SIZE]
        return bytes(CHUNK_SIZE)

    def inner(self, view: FlowView, position: int) -> list[bytes]:
        """The siblings of `position` inside its submitted node, from the node's data."""
        node = view.node_at(position)
        if node is None:
            return []
        for start, padded, _ in self._files:
            if start <= node.position < start + len(padded) // CHUNK_SIZE:
                first = (node.position - start) * CHUNK_SIZE
                leaves = sector_leaves(padded[first : first + (CHUNK_SIZE << node.height)])
                return inner_path(leaves, position - node.position)
        raise LookupError(f"no file holds the node at {node.position}")

    def answer(
        self, view: FlowView, context: MiningContext, miner_id: bytes, nonce: int, mine_range: MineRange
    ) -> Answer:
        """The answer for `nonce` (its quality is not checked)."""
        seed = seed_of(context.digest, miner_id, mine_range.start, mine_range.shard_id, mine_range.num_shard, nonce)
        position = mine_range.recall(seed)
        siblings = view.path(position, self.inner(view, position))
        return build_answer(context, miner_id, nonce, mine_range, self.sector(position), siblings)
