"""What the node learns from a Flow `Submit` log, and the segment arithmetic of a file in the flow.

The log carries the submission's nodes, not the file root. The root follows from them:

* The nodes split the flow-padded file into aligned, power-of-two chunk ranges, largest first
  (binary decomposition of the padded chunk count), and each node root is the merkle root of its range.
* The file root is the odd-carry tree (an odd last node is carried up unchanged) over the segment roots.
  In that tree the node at level k, index j covers leaves [j·2^k, min((j+1)·2^k, n)), so the root over
  n leaves that are not a power of two is keccak(root of the first 2^m leaves ‖ root over the other
  n - 2^m), where 2^m is the largest power of two below n. Unrolled, the root is the right-to-left fold
  keccak(N0 ‖ keccak(N1 ‖ … keccak(N(k-2) ‖ N(k-1)))) over the perfect subtrees N0 > N1 > … of the
  decomposition.
* Nodes below a segment (height < 10) all lie in the file's last segment, and that segment's root is
  the same fold over them (the argument above, on chunk leaves). Folding them first and then the
  segment-sized nodes gives one fold over all nodes in order. When the last segment and a one-segment
  node are both present they are two equal-sized aligned siblings, and the fold pairs them as the
  tree does.

So `root_from_submission_nodes` (zerog.storage.merkle; the KV node uses it too) is the fold. The official
storage node computes it the same way, and tests/storage/test_node_flow.py checks it against `FileTree` on
every size class up to 5 MiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zerog.storage.merkle import SEGMENT_CHUNKS, FileLayout, num_chunks, padded_chunks, root_from_submission_nodes

#: The flow holds 2^64 sectors: no node is higher.
MAX_NODE_HEIGHT = 64


@dataclass(frozen=True)
class Submission:
    """One Flow `Submit` log, as the node records it."""

    seq: int
    root: bytes
    start_entry: int
    size: int
    tags: bytes
    nodes: tuple[tuple[bytes, int], ...]
    sender: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int

    @property
    def sectors(self) -> int:
        return sum(1 << min(height, MAX_NODE_HEIGHT + 1) for _, height in self.nodes)

    def problem(self) -> str | None:
        """Why no upload can ever match this submission, or None if it is well formed."""
        if not self.nodes:
            return "it has no nodes"
        if any(height > MAX_NODE_HEIGHT for _, height in self.nodes):
            return f"a node is higher than {MAX_NODE_HEIGHT}"
        if self.size <= 0:
            return "its length is 0 bytes"
        expected = padded_chunks(num_chunks(self.size))
        if self.sectors != expected:
            return f"its nodes cover {self.sectors} sectors, but {self.size} bytes pad to {expected}"
        return None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Submission:
        args = event["args"]
        data = args["submission"]
        length, tags, raw_nodes = _fields(data, ("length", "tags", "nodes"))
        nodes = []
        for node in raw_nodes:
            root, height = _fields(node, ("root", "height"))
            nodes.append((bytes(root), int(height)))
        return cls(
            seq=int(args["submissionIndex"]),
            # A Flow that checks submissions never logs one without nodes; if one did, it is recorded
            # (its seq is taken) under the zero root, which no upload can match.
            root=root_from_submission_nodes(nodes) if nodes else bytes(32),
            start_entry=int(args["startPos"]),
            size=int(length),
            tags=bytes(tags),
            nodes=tuple(nodes),
            sender=str(args["sender"]),
            block_number=int(event["blockNumber"]),
            block_hash=_hex(event["blockHash"]),
            tx_hash=_hex(event["transactionHash"]),
            log_index=int(event["logIndex"]),
        )


def _fields(value: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    """Struct fields from web3's decoding, which gives a dict for named tuples (a tuple otherwise)."""
    if isinstance(value, Mapping):
        return tuple(value[name] for name in names)
    return tuple(value)


def _hex(value: Any) -> str:
    return value.to_0x_hex() if hasattr(value, "to_0x_hex") else str(value)


@dataclass(frozen=True)
class ShardConfig:
    """Global flow segment g is stored by this node iff g % num_shard == shard_id."""

    shard_id: int
    num_shard: int

    def problem(self) -> str | None:
        if self.num_shard < 1 or self.num_shard & (self.num_shard - 1):
            return f"numShard must be a power of two, not {self.num_shard}"
        if not 0 <= self.shard_id < self.num_shard:
            return f"shardId must be in 0..{self.num_shard - 1}, not {self.shard_id}"
        return None

    def holds(self, global_segment: int) -> bool:
        return global_segment % self.num_shard == self.shard_id

    def overlaps(self, other: ShardConfig) -> bool:
        """Whether some segment is in both shards (numShards are powers of two: compare modulo the smaller)."""
        width = min(self.num_shard, other.num_shard)
        return self.shard_id % width == other.shard_id % width

    def to_json(self) -> dict[str, int]:
        return {"shardId": self.shard_id, "numShard": self.num_shard}


def first_segment(start_entry: int) -> int:
    """Global segment of a file's local segment 0 (a file is segment-aligned or inside one segment)."""
    return start_entry // SEGMENT_CHUNKS


def shard_segments(layout: FileLayout, start_entry: int, shard: ShardConfig) -> list[int]:
    """Local indices of the file's data segments that `shard` stores."""
    first = first_segment(start_entry)
    return [i for i in range(layout.num_segments) if shard.holds(first + i)]
