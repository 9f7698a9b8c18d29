"""The flow tree (IFlow/FlowTree) off chain: 2^64 sector leaves, keccak256(sector) each, empty sectors are zero
sectors, and a submitted node of height h at position p is the subtree there. A storage node keeps the Submit logs
(every node's root and position) and the segments it stores with their upload proofs; `FlowView.path` builds a
sector's 64 siblings from those: inside the sector's own submission node from the data and the upload proof, above
it from the other nodes' roots and empty subtrees. PoRA answers (zerog/storage/pora.py) prove a sector with it.

Batch helper `keccak_rows` hashes many equal-width rows in one C call with the GIL released.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from zerog.storage import _merkle
from zerog.storage.merkle import CHUNK_SIZE, HASH_SIZE, SEGMENT_CHUNKS, keccak256, zero_hash

#: Height of the flow tree: siblings in a sector proof.
PROOF_DEPTH = 64
#: log2 of the sectors in a segment.
SEGMENT_HEIGHT = SEGMENT_CHUNKS.bit_length() - 1


def keccak_rows(rows: np.ndarray) -> np.ndarray:
    """keccak256 of every row of a 2-D uint8 array, as an (n, 32) array (one C call, GIL released)."""
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    count, width = rows.shape
    if count == 0:
        return np.empty((0, HASH_SIZE), dtype=np.uint8)
    return np.frombuffer(_merkle.segment_roots(rows, width, 1), dtype=np.uint8).reshape(count, HASH_SIZE)


@dataclass(frozen=True)
class FlowNode:
    """A submitted node: the subtree of height `height` at flow `position`, with its root."""

    position: int
    height: int
    root: bytes

    @property
    def end(self) -> int:
        return self.position + (1 << self.height)


class InnerSubtreeError(LookupError):
    """The subtree lies strictly inside a submitted node: only that node's data (or upload proof) gives its root."""


class FlowIndex:
    """Every submitted node of the flow, from the Submit logs (positions follow from startPos and the heights)."""

    def __init__(self, nodes: Iterable[FlowNode]) -> None:
        self.nodes = sorted(nodes, key=lambda n: n.position)
        for before, after in zip(self.nodes, self.nodes[1:], strict=False):
            if after.position < before.end:
                raise ValueError(f"flow nodes overlap at {after.position}")

    @classmethod
    def from_submissions(cls, submissions: Iterable[tuple[int, Sequence[tuple[bytes, int]]]]) -> FlowIndex:
        """From (startPos, [(root, height), ...]) of each Submit log: the nodes lie back to back from startPos."""
        nodes = []
        for start, submitted in submissions:
            position = start
            for root, height in submitted:
                nodes.append(FlowNode(position, height, bytes(root)))
                position += 1 << height
        return cls(nodes)

    def at(self, length: int) -> FlowView:
        """The flow as it was at `length` sectors (a context's flowLength): the nodes that end by then."""
        return FlowView(length, [n for n in self.nodes if n.end <= length])


@dataclass
class FlowView:
    """The flow tree at one length; subtree roots are memoized."""

    length: int
    nodes: list[FlowNode]
    _starts: list[int] = field(init=False, repr=False)
    _ends: list[int] = field(init=False, repr=False)
    _memo: dict[tuple[int, int], bytes] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._starts = [n.position for n in self.nodes]
        self._ends = [n.end for n in self.nodes]

    def node_at(self, position: int) -> FlowNode | None:
        """The submitted node holding `position`, None for an empty sector."""
        i = bisect_right(self._starts, position) - 1
        if i >= 0 and position < self._ends[i]:
            return self.nodes[i]
        return None

    def subtree(self, start: int, height: int) -> bytes:
        """Root of the subtree of `height` at `start` (a multiple of 2^height)."""
        if start >= self.length:
            return zero_hash(height)
        key = (start, height)
        if (found := self._memo.get(key)) is not None:
            return found
        end = start + (1 << height)
        i = bisect_right(self._ends, start)  # first node ending after start
        if i == len(self.nodes) or self._starts[i] >= end:
            root = zero_hash(height)
        else:
            node = self.nodes[i]
            if node.position == start and node.height == height:
                root = node.root
            elif node.position <= start and node.end >= end:
                raise InnerSubtreeError(f"subtree ({start}, height {height}) lies inside the node at {node.position}")
            else:
                half = 1 << (height - 1)
                root = keccak256(self.subtree(start, height - 1) + self.subtree(start + half, height - 1))
        self._memo[key] = root
        return root

    def root(self) -> bytes:
        """The flow root at this length (what the Flow's context holds)."""
        return self.subtree(0, PROOF_DEPTH)

    def path(self, position: int, inner: Sequence[bytes]) -> list[bytes]:
        """The 64 siblings of the sector at `position`: `inner` are those inside its submitted node (as many as the
        node's height; none for an empty sector), the rest come from this index."""
        node = self.node_at(position)
        height = node.height if node is not None else 0
        if len(inner) != height:
            raise ValueError(
                f"the sector at {position} lies in a node of height {height}: need {height} inner siblings"
            )
        siblings = list(inner)
        for level in range(height, PROOF_DEPTH):
            siblings.append(self.subtree(((position >> level) ^ 1) << level, level))
        return siblings


def inner_path(leaves: Sequence[bytes], offset: int) -> list[bytes]:
    """Siblings of leaf `offset` in the perfect tree over `leaves` (a power-of-two count), bottom up."""
    if len(leaves) & (len(leaves) - 1) or not leaves:
        raise ValueError("a perfect tree needs a power-of-two number of leaves")
    level, siblings = list(leaves), []
    while len(level) > 1:
        siblings.append(level[offset ^ 1])
        level = [keccak256(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        offset //= 2
    return siblings


def sector_leaves(data: bytes) -> list[bytes]:
    """keccak256 of each 256-byte sector of `data` (zero-padded to whole sectors)."""
    if len(data) % CHUNK_SIZE:
        data += bytes(CHUNK_SIZE - len(data) % CHUNK_SIZE)
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, CHUNK_SIZE)
    hashed = keccak_rows(rows).tobytes()
    return [hashed[i : i + HASH_SIZE] for i in range(0, len(hashed), HASH_SIZE)]


def root_of_path(leaf: bytes, position: int, siblings: Sequence[bytes]) -> bytes:
    """The root `siblings` lead `leaf` at `position` to (PoraLib.flowRoot)."""
    node = leaf
    for level, sibling in enumerate(siblings):
        node = keccak256(node + sibling) if (position >> level) & 1 == 0 else keccak256(sibling + node)
    return node
