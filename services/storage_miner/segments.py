"""Uploaded segments (`SegmentWithProof`): parsing and the checks a segment passes before it is stored.

The checks are the official node's, in its order: the file size matches the submission, the file is
not finalized yet, the index is one of the file's data segments, the data has that segment's exact
length, its root (over the data plus zero chunks up to the segment's padded length) is proven at that
index of the segment tree under the file root, and proof siblings lying wholly in the flow padding are
empty-subtree roots. Added here: the segment belongs to this node's shard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.common.jsonrpc import RpcError, invalid_params, parse_base64, parse_hash, parse_uint
from services.storage_miner.flow import ShardConfig, first_segment
from services.storage_miner.store import TxRecord
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, SEGMENT_SIZE, Proof, next_pow2, segment_root, zero_hash

#: Enough for a segment tree of 2^64 leaves; longer proofs are rejected before any hashing.
MAX_PROOF_PATH = 64
#: The SDK's marker for "nothing left to do" (it treats this error as success).
FINALIZED_DETAIL = "already uploaded and finalized"


@dataclass(frozen=True)
class UploadedSegment:
    root: bytes
    data: bytes
    index: int
    proof: Proof
    file_size: int

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()


def parse_segment(value: Any, name: str) -> UploadedSegment:
    """A `SegmentWithProof` JSON object; malformed fields are -32602 errors naming the field."""
    if not isinstance(value, dict):
        raise invalid_params(name, "expected a SegmentWithProof object {root, data, index, proof, fileSize}")
    missing = [key for key in ("root", "data", "index", "proof", "fileSize") if key not in value]
    if missing:
        raise invalid_params(
            name, f"missing field {missing[0]!r} (SegmentWithProof has root, data, index, proof, fileSize)"
        )
    root = parse_hash(value["root"], f"{name}.root")
    data = parse_base64(value["data"], f"{name}.data", SEGMENT_SIZE)
    index = parse_uint(value["index"], f"{name}.index")
    file_size = parse_uint(value["fileSize"], f"{name}.fileSize")
    proof_json = value["proof"]
    if (
        not isinstance(proof_json, dict)
        or not isinstance(proof_json.get("lemma"), list)
        or not isinstance(proof_json.get("path"), list)
    ):
        raise invalid_params(f"{name}.proof", "expected {lemma: [hex32...], path: [bool...]}")
    if len(proof_json["path"]) > MAX_PROOF_PATH or len(proof_json["lemma"]) > MAX_PROOF_PATH + 2:
        raise invalid_params(f"{name}.proof", f"longer than {MAX_PROOF_PATH} levels")
    try:
        proof = Proof.from_json(proof_json)
    except ValueError as exc:
        raise invalid_params(f"{name}.proof", str(exc)) from exc
    return UploadedSegment(root, data, index, proof, file_size)


def parse_segments(value: Any, name: str, max_items: int) -> list[UploadedSegment]:
    if not isinstance(value, list):
        raise invalid_params(name, "expected an array of SegmentWithProof objects")
    if len(value) > max_items:
        raise invalid_params(name, f"at most {max_items} segments per call, got {len(value)}")
    return [parse_segment(item, f"{name}[{i}]") for i, item in enumerate(value)]


def check_segment(tx: TxRecord, segment: UploadedSegment, shard: ShardConfig) -> bytes:
    """Everything but the proof, cheap checks first; returns the segment root to prove."""
    if segment.root != tx.root_bytes:
        raise invalid_params("root", f"segment root {segment.root_hex} is not the root {tx.root} of tx {tx.seq}")
    if segment.file_size != tx.size:
        raise invalid_params(
            "file_size", f"segment file size {segment.file_size} does not match the tx file size {tx.size}"
        )
    if tx.finalized:
        raise invalid_params("root", FINALIZED_DETAIL)
    layout = tx.layout
    if segment.index >= layout.num_segments:
        raise invalid_params(
            "index", f"index {segment.index} out of bound: the file has {layout.num_segments} segments"
        )
    expected = layout.segment_chunks(segment.index) * CHUNK_SIZE
    if len(segment.data) != expected:
        raise invalid_params(
            "data", f"invalid data length {len(segment.data)} for segment {segment.index}: expected {expected}"
        )
    global_segment = first_segment(tx.start_entry) + segment.index
    if not shard.holds(global_segment):
        raise invalid_params(
            "index",
            f"segment {segment.index} (flow segment {global_segment}) is not in this node's shard "
            f"{shard.shard_id}/{shard.num_shard}",
        )
    return segment_root(segment.data, layout.segment_padded_chunks(segment.index))


def verify(tx: TxRecord, segment: UploadedSegment, shard: ShardConfig) -> bytes:
    """Every check a segment passes before it is stored (uploaded or replicated); returns its segment root."""
    seg_root = check_segment(tx, segment, shard)
    check_proof(tx, segment, seg_root)
    return seg_root


def check_proof(tx: TxRecord, segment: UploadedSegment, seg_root: bytes) -> None:
    layout = tx.layout
    leaves = layout.num_segments_padded
    if not segment.proof.verify(tx.root_bytes, seg_root, segment.index, leaves):
        raise invalid_params(
            "proof", f"validation failed: the proof does not prove segment {segment.index} under {tx.root}"
        )
    if not _padding_siblings_empty(segment.proof, leaves, layout.num_segments):
        raise invalid_params("proof", "invalid proof node value in the padding range")


def _padding_siblings_empty(proof: Proof, leaves: int, data_segments: int) -> bool:
    """Right-hand siblings covering only all-padding segments must be empty-subtree roots."""
    position, width = 0, leaves
    for level, is_left in enumerate(reversed(proof.path)):
        half = next_pow2(width) // 2
        if not is_left:
            position += half
            width -= half
            continue
        sibling_start, sibling_width = position + half, width - half
        width = half
        if sibling_start >= data_segments and sibling_width == half:
            sibling = proof.lemma[len(proof.lemma) - 2 - level]
            if sibling != zero_hash(half.bit_length() - 1 + SEGMENT_CHUNKS.bit_length() - 1):
                return False
    return True


def not_synced_error(root_hex: str, sync_height: int) -> RpcError:
    return invalid_params(
        "root", f"file root {root_hex} not found: its Submit tx is not synced yet (log sync height {sync_height})"
    )
