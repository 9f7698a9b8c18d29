"""0G storage merkle trees: flow padding, file roots, submission nodes, segment proofs.

Byte-identical to the official 0G SDK (see docs/storage-wire.md): leaf = keccak256(256-byte chunk),
parent = keccak256(left ‖ right), an odd last node is carried up unchanged. A file is zero-padded to its
flow-padded chunk count; its root is the tree over 1024-chunk segment roots (the last segment may be
shorter). Chunk hashing runs in C with the GIL released, one thread per core over an mmap of the file.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from zerog.storage import _merkle

CHUNK_SIZE = 256
SEGMENT_CHUNKS = 1024
SEGMENT_SIZE = CHUNK_SIZE * SEGMENT_CHUNKS
HASH_SIZE = 32
#: Flow padding rounds a file up to a multiple of nextPow2(chunks) / PADDING_UNIT_DIVISOR chunks.
PADDING_UNIT_DIVISOR = 16
#: A submission has at most this many nodes (the padding rule guarantees it).
MAX_SUBMISSION_NODES = 4
#: Below this many segments a second thread costs more than it saves.
PARALLEL_MIN_SEGMENTS = 64
#: Segments a thread reads and hashes at a time when the file is produced on the fly (4 MiB).
STREAM_BLOCK_SEGMENTS = 16

keccak256 = _merkle.keccak256
#: decode_segment(base64 text, chunk size, chunks, padded chunks) -> (data, root of the data's chunks then zero
#: chunks up to the padded count); ValueError unless the text is strict base64 of exactly that many chunks.
decode_segment = _merkle.decode_segment
#: read(start, end) -> bytes [start, end) of a file's stream.
Reader = Callable[[int, int], bytes]


@cache
def zero_hash(height: int) -> bytes:
    """Root of 2**height empty (all-zero) chunks."""
    if height == 0:
        return keccak256(bytes(CHUNK_SIZE))
    below = zero_hash(height - 1)
    return keccak256(below + below)


def num_chunks(size: int) -> int:
    return -(-size // CHUNK_SIZE)


def next_pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def padded_chunks(chunks: int) -> int:
    """Flow padding: a power of two stays; else round up to a multiple of max(1, nextPow2/16)."""
    target = next_pow2(chunks)
    if target == chunks:
        return chunks
    unit = max(1, target // PADDING_UNIT_DIVISOR)
    return -(-chunks // unit) * unit


def split_nodes(padded: int) -> list[int]:
    """Chunk counts of the submission nodes: the binary decomposition of `padded`, largest first."""
    return [1 << bit for bit in range(padded.bit_length() - 1, -1, -1) if padded >> bit & 1]


def tree_root(nodes: Sequence[bytes]) -> bytes:
    """Root of a list of 32-byte nodes (odd last node carried up)."""
    return _merkle.tree_root(b"".join(nodes))


def root_from_submission_nodes(nodes: Sequence[tuple[bytes, int]]) -> bytes:
    """File root (dataMerkleRoot) of a submission from its (root, height) nodes in flow order: the right-to-left
    fold over the perfect subtrees (services/storage_miner/flow.py says why)."""
    if not nodes:
        raise ValueError("a submission has at least one node")
    root = bytes(nodes[-1][0])
    for node_root, _height in reversed(nodes[:-1]):
        root = keccak256(bytes(node_root) + root)
    return root


def chunk_root(data: bytes | memoryview, chunks: int | None = None) -> bytes:
    """Root over the chunks of `data` (zero-padded to whole chunks, then with zero chunks up to `chunks`)."""
    have = num_chunks(len(data))
    total = have if chunks is None else chunks
    if total < have:
        raise ValueError(f"{have} chunks of data do not fit in {total}")
    padded = bytes(data) + bytes(total * CHUNK_SIZE - len(data))
    return _merkle.segment_roots(padded, CHUNK_SIZE, total)


@dataclass(frozen=True)
class Proof:
    """A segment's proof in the 0G format: lemma = [leaf, siblings bottom-up, root]; path[k] is True when
    the node is the left child at that level. Levels where the node was carried up have no entry."""

    lemma: list[bytes]
    path: list[bool]

    def to_json(self) -> dict[str, list[str] | list[bool]]:
        return {"lemma": ["0x" + h.hex() for h in self.lemma], "path": list(self.path)}

    @classmethod
    def from_json(cls, data: dict) -> Proof:
        try:
            lemma = [bytes.fromhex(h.removeprefix("0x")) for h in data["lemma"]]
            path = [bool(p) for p in data["path"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed proof: {exc}") from exc
        if any(len(h) != HASH_SIZE for h in lemma) or not all(isinstance(p, bool) for p in data["path"]):
            raise ValueError("malformed proof: lemma entries must be 32-byte hashes, path entries booleans")
        return cls(lemma, path)

    def verify(self, root: bytes, leaf: bytes, position: int, num_leaves: int) -> bool:
        """True if this proves `leaf` at `position` of a `num_leaves` tree with `root` (the SDK's checks)."""
        if not self.path:
            return len(self.lemma) == 1 and num_leaves == 1 and position == 0 and leaf == root == self.lemma[0]
        if len(self.lemma) != len(self.path) + 2 or self.lemma[0] != leaf or self.lemma[-1] != root:
            return False
        if _position(self.path, num_leaves) != position:
            return False
        node = leaf
        for sibling, is_left in zip(self.lemma[1:-1], self.path, strict=True):
            node = keccak256(node + sibling) if is_left else keccak256(sibling + node)
        return node == root


def _position(path: list[bool], leaves: int) -> int | None:
    """Leaf position a path leads to, walking from the root; None if the path cannot fit the tree."""
    position, n = 0, leaves
    for is_left in reversed(path):
        subtree = next_pow2(n) // 2
        if subtree == 0:
            return None
        if is_left:
            n = subtree
        else:
            position += subtree
            n -= subtree
    return position


class FileLayout:
    """Sizes of a file in the flow: chunks, flow padding, segments. Depends on the byte size only."""

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("an empty file cannot be stored (0G files hold at least one byte)")
        self.size = size

    @property
    def chunks(self) -> int:
        return num_chunks(self.size)

    @property
    def padded_chunks(self) -> int:
        return padded_chunks(self.chunks)

    @property
    def num_segments(self) -> int:
        """Segments holding file data (the ones uploaded)."""
        return -(-self.chunks // SEGMENT_CHUNKS)

    @property
    def num_segments_padded(self) -> int:
        """Leaves of the segment tree (may exceed num_segments: all-padding segments)."""
        return -(-self.padded_chunks // SEGMENT_CHUNKS)

    def segment_chunks(self, index: int) -> int:
        """Chunks of segment `index` that carry file data (what an upload sends)."""
        return min(SEGMENT_CHUNKS, self.chunks - index * SEGMENT_CHUNKS)

    def segment_padded_chunks(self, index: int) -> int:
        """Chunks segment `index` has in the padded file (the leaves of its root)."""
        return min(SEGMENT_CHUNKS, self.padded_chunks - index * SEGMENT_CHUNKS)


class FileTree(FileLayout):
    """The merkle tree of one file (or bytes): segment roots, root, submission nodes, proofs."""

    def __init__(self, size: int, segment_roots: list[bytes], last_segment: bytes | None = None) -> None:
        super().__init__(size)
        self.segment_roots = segment_roots
        # The padded bytes of a short last segment: submission nodes smaller than a segment live there.
        self._last_segment = last_segment

    # ---------------------------------------------------------------- building

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, threads: int | None = None) -> FileTree:
        return cls(len(data), *_build(memoryview(data), threads))

    @classmethod
    def from_path(cls, path: Path | str, threads: int | None = None) -> FileTree:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return cls(0, [])
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    return cls(size, *_build(view, threads))
                finally:
                    view.release()

    @classmethod
    def from_reader(cls, size: int, read: Reader, threads: int | None = None) -> FileTree:
        """Tree of a `size`-byte stream produced range by range (e.g. encrypted on the fly): only a few
        blocks of it are in memory at a time."""
        if size == 0:
            return cls(0, [])
        full = size // SEGMENT_SIZE
        roots = _streamed_segment_roots(read, full, threads)
        return cls(size, *_tail(roots, size, memoryview(read(full * SEGMENT_SIZE, size))))

    # ---------------------------------------------------------------- tree

    @cached_property
    def _levels(self) -> list[list[bytes]]:
        levels = [self.segment_roots]
        while len(levels[-1]) > 1:
            below = levels[-1]
            above = [keccak256(below[i] + below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            levels.append(above)
        return levels

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def proof(self, index: int) -> Proof:
        """Proof of segment `index` against the file root."""
        if not 0 <= index < self.num_segments_padded:
            raise IndexError(f"segment {index} out of range 0..{self.num_segments_padded - 1}")
        lemma, path = [self.segment_roots[index]], []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                lemma.append(level[sibling])
                path.append(index % 2 == 0)
            index //= 2
        return Proof([*lemma, self.root] if path else lemma, path)

    def submission_nodes(self) -> list[tuple[bytes, int]]:
        """(root, height) of each submission node, in flow order."""
        nodes, offset = [], 0
        for count in split_nodes(self.padded_chunks):
            if count >= SEGMENT_CHUNKS:
                first = offset // SEGMENT_CHUNKS
                root = tree_root(self.segment_roots[first : first + count // SEGMENT_CHUNKS])
            else:
                assert self._last_segment is not None  # a sub-segment node implies a short last segment
                start = (offset % SEGMENT_CHUNKS) * CHUNK_SIZE
                root = chunk_root(memoryview(self._last_segment)[start : start + count * CHUNK_SIZE])
            nodes.append((root, count.bit_length() - 1))
            offset += count
        return nodes


def segment_root(data: bytes | memoryview, padded_chunks_in_segment: int) -> bytes:
    """Root of one uploaded segment: its chunks plus zero chunks up to its padded length."""
    return chunk_root(data, padded_chunks_in_segment)


def _build(view: memoryview, threads: int | None) -> tuple[list[bytes], bytes | None]:
    """Segment roots of the padded data in `view`, plus the padded last segment if it is short."""
    size = len(view)
    if size == 0:
        return [], None
    full = size // SEGMENT_SIZE  # segments made of file data only
    roots = _full_segment_roots(view[: full * SEGMENT_SIZE], full, threads)
    return _tail(roots, size, view[full * SEGMENT_SIZE :])


def _tail(roots: list[bytes], size: int, tail: memoryview) -> tuple[list[bytes], bytes | None]:
    """`roots` of the full segments plus those of the rest: `tail` (under a segment of data), then padding."""
    padded = padded_chunks(num_chunks(size))
    segments = -(-padded // SEGMENT_CHUNKS)
    full = size // SEGMENT_SIZE
    last_segment = None
    for index in range(full, segments):
        leaves = min(SEGMENT_CHUNKS, padded - index * SEGMENT_CHUNKS)
        data = tail[(index - full) * SEGMENT_SIZE : (index - full + 1) * SEGMENT_SIZE]
        if not data and leaves == SEGMENT_CHUNKS:
            roots.append(zero_hash(SEGMENT_CHUNKS.bit_length() - 1))
            continue
        buffer = bytes(data) + bytes(leaves * CHUNK_SIZE - len(data))
        roots.append(_merkle.segment_roots(buffer, CHUNK_SIZE, SEGMENT_CHUNKS))
        if leaves < SEGMENT_CHUNKS:
            last_segment = buffer
    return roots, last_segment


def _full_segment_roots(view: memoryview, count: int, threads: int | None) -> list[bytes]:
    if count == 0:
        return []
    workers = min(threads or os.cpu_count() or 1, max(1, count // PARALLEL_MIN_SEGMENTS))
    if workers == 1:
        joined = _merkle.segment_roots(view, CHUNK_SIZE, SEGMENT_CHUNKS)
    else:
        bounds = [count * i // workers for i in range(workers + 1)]
        parts = [view[a * SEGMENT_SIZE : b * SEGMENT_SIZE] for a, b in zip(bounds, bounds[1:], strict=False)]
        with ThreadPoolExecutor(workers) as pool:
            joined = b"".join(pool.map(lambda part: _merkle.segment_roots(part, CHUNK_SIZE, SEGMENT_CHUNKS), parts))
    return [joined[i : i + HASH_SIZE] for i in range(0, len(joined), HASH_SIZE)]


def _streamed_segment_roots(read: Reader, count: int, threads: int | None) -> list[bytes]:
    """Roots of the first `count` full segments of a stream, read and hashed a block at a time per thread."""
    blocks = range(0, count, STREAM_BLOCK_SEGMENTS)

    def block_roots(first: int) -> bytes:
        last = min(first + STREAM_BLOCK_SEGMENTS, count)
        return _merkle.segment_roots(read(first * SEGMENT_SIZE, last * SEGMENT_SIZE), CHUNK_SIZE, SEGMENT_CHUNKS)

    with ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool:
        joined = b"".join(pool.map(block_roots, blocks))
    return [joined[i : i + HASH_SIZE] for i in range(0, len(joined), HASH_SIZE)]
