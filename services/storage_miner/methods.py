"""The node's `zgs_*` JSON-RPC methods, with the official node's names, params and result shapes.

Lookups by root take the first finalized submission of that root, else the first (store.py tells why).
"Not found" is a `null` result (the official node's `Option`), except for uploads, which fail with a
message saying whether the submission is not synced yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from services.common.jsonrpc import (
    METHOD_NOT_FOUND,
    Base64Bytes,
    Dispatcher,
    Param,
    RpcError,
    invalid_params,
    parse_bool,
    parse_hash,
    parse_uint,
)
from services.storage_miner.config import P2P_PROTOCOL_VERSION
from services.storage_miner.flow import ShardConfig, first_segment
from services.storage_miner.segments import (
    UploadedSegment,
    not_synced_error,
    parse_segment,
    parse_segments,
    verify,
)
from services.storage_miner.store import NodeStore, TxDroppedError, TxRecord
from services.storage_miner.sync import SubmitFollower
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, num_chunks

log = logging.getLogger(__name__)

#: Segments accepted in one upload call (the request body limit applies as well).
MAX_SEGMENTS_PER_CALL = 256
ZERO_HASH_HEX = "0x" + "00" * 32


def _parse_seq_or_root(value: Any, name: str) -> int | bytes:
    if isinstance(value, str):
        return parse_hash(value, name)
    return parse_uint(value, name)


class NodeRpc:
    """Method bodies over the store, the log sync and the shard config."""

    def __init__(
        self,
        store: Callable[[], NodeStore],
        follower: Callable[[], SubmitFollower],
        shard: ShardConfig,
        chain_id: int,
        flow_address: str,
        account: str | None = None,
    ) -> None:
        self._store = store
        self._follower = follower
        self.shard = shard
        self.chain_id = chain_id
        self.flow_address = flow_address
        self.account = account

    @property
    def store(self) -> NodeStore:
        return self._store()

    def dispatcher(self) -> Dispatcher:
        d = Dispatcher()
        root, seq = Param("data_root", parse_hash), Param("tx_seq", parse_uint)
        start, end = Param("start_index", parse_uint), Param("end_index", parse_uint)
        segment = Param("segment", parse_segment)
        segments = Param("segments", lambda v, n: parse_segments(v, n, MAX_SEGMENTS_PER_CALL))
        d.add("zgs_getStatus", self.get_status)
        d.add("zgs_getShardConfig", self.shard.to_json)
        d.add(
            "zgs_getFileInfo",
            self.get_file_info,
            root,
            Param("need_available", parse_bool, optional=True, default=False),
        )
        d.add("zgs_getFileInfoByTxSeq", self.get_file_info_by_tx_seq, seq)
        d.add("zgs_checkFileFinalized", self.check_file_finalized, Param("tx_seq_or_root", _parse_seq_or_root))
        d.add("zgs_uploadSegment", lambda s: self.upload(None, [s]), segment)
        d.add("zgs_uploadSegments", lambda ss: self.upload(None, ss), segments)
        d.add("zgs_uploadSegmentByTxSeq", lambda s, q: self.upload(q, [s]), segment, seq)
        d.add("zgs_uploadSegmentsByTxSeq", lambda ss, q: self.upload(q, ss), segments, seq)
        d.add("zgs_downloadSegment", lambda r, a, b: self.download(self.store.tx_by_root(r), a, b), root, start, end)
        d.add(
            "zgs_downloadSegmentByTxSeq", lambda q, a, b: self.download(self.store.tx_by_seq(q), a, b), seq, start, end
        )
        index = Param("index", parse_uint)
        d.add("zgs_downloadSegmentWithProof", lambda r, i: self.with_proof(self.store.tx_by_root(r), i), root, index)
        d.add(
            "zgs_downloadSegmentWithProofByTxSeq", lambda q, i: self.with_proof(self.store.tx_by_seq(q), i), seq, index
        )
        d.add(
            "zgs_getSectorProof",
            self.get_sector_proof,
            Param("sector_index", parse_uint),
            Param("flow_root", parse_hash, optional=True),
        )
        return d

    # ------------------------------------------------------------ status and file info

    def get_status(self) -> dict[str, Any]:
        cursor = self._follower().cursor
        status: dict[str, Any] = {
            "connectedPeers": 0,
            "logSyncHeight": self._follower().sync_height,
            "logSyncBlock": cursor.block_hash if cursor else ZERO_HASH_HEX,
            "nextTxSeq": self.store.next_tx_seq(),
            "networkIdentity": {
                "chainId": self.chain_id,
                "flowAddress": self.flow_address,
                "p2pProtocolVersion": dict(P2P_PROTOCOL_VERSION),
            },
        }
        # Not in the official node's status (the SDKs ignore unknown keys): the account that signs this node's
        # announcements to an indexer, which checks it to know the node announced itself.
        if self.account is not None:
            status["nodeAccount"] = self.account
        return status

    def file_info(self, tx: TxRecord | None) -> dict[str, Any] | None:
        if tx is None:
            return None
        return {
            "tx": tx.to_json(),
            "finalized": tx.finalized,
            "isCached": False,
            "uploadedSegNum": tx.stored,
            "pruned": False,
        }

    def get_file_info(self, root: bytes, need_available: bool) -> dict[str, Any] | None:
        # need_available skips pruned submissions; this node never prunes.
        return self.file_info(self.store.tx_by_root(root))

    def get_file_info_by_tx_seq(self, seq: int) -> dict[str, Any] | None:
        return self.file_info(self.store.tx_by_seq(seq))

    def check_file_finalized(self, seq_or_root: int | bytes) -> bool | None:
        tx = self.store.tx_by_root(seq_or_root) if isinstance(seq_or_root, bytes) else self.store.tx_by_seq(seq_or_root)
        return None if tx is None else tx.finalized

    def get_sector_proof(self, sector_index: int, flow_root: bytes | None) -> Any:
        raise RpcError(
            METHOD_NOT_FOUND,
            "Not supported: zgs_getSectorProof",
            "this node keeps files, not the flow's sector merkle tree that sector proofs come from",
        )

    # ------------------------------------------------------------ upload

    def _not_synced(self, what: str) -> RpcError:
        return invalid_params(
            "tx_seq",
            f"{what} not found: its Submit tx is not synced yet "
            f"(log sync height {self._follower().sync_height}, next tx seq {self.store.next_tx_seq()})",
        )

    def upload(self, seq: int | None, segments: list[UploadedSegment]) -> None:
        """Check every segment (all or nothing), then store those not stored yet."""
        store = self.store
        checked: list[tuple[TxRecord, UploadedSegment, bytes]] = []
        by_seq = None
        if seq is not None:
            by_seq = store.tx_by_seq(seq)
            if by_seq is None:
                raise self._not_synced(f"tx seq {seq}")
        for segment in segments:
            tx = by_seq or store.tx_by_root(segment.root)
            if tx is None:
                raise not_synced_error(segment.root_hex, self._follower().sync_height)
            checked.append((tx, segment, verify(tx, segment, self.shard)))
        for tx, segment, seg_root in checked:
            if store.has_segment(tx, segment.index):
                continue
            try:
                store.write_segment(tx, segment.index, segment.data, seg_root, segment.proof.to_json())
            except TxDroppedError as exc:
                raise invalid_params("tx_seq", f"tx {tx.seq} was dropped by a chain reorg while uploading") from exc
        if checked:
            log.info("stored segments %s of tx %d", ",".join(str(s.index) for _, s, _ in checked), checked[0][0].seq)
        return None

    # ------------------------------------------------------------ download

    def _held(self, tx: TxRecord, index: int) -> bytes | None:
        if not self.shard.holds(first_segment(tx.start_entry) + index):
            return None
        stored = self.store.read_segment(tx, index)
        return stored[0] if stored else None

    def download(self, tx: TxRecord | None, start: int, end: int) -> Base64Bytes | None:
        """Chunks [start, end) of a file (file-relative), the last chunk zero-padded; null if unknown or
        not (all) stored here."""
        if start >= end:
            raise invalid_params("end_index", f"invalid chunk index: start {start} must be below end {end}")
        if end - start > SEGMENT_CHUNKS:
            raise invalid_params("end_index", f"exceeds maximum chunks {SEGMENT_CHUNKS}")
        if tx is None:
            return None
        chunks = num_chunks(tx.size)
        if end > chunks:
            raise invalid_params("end_index", f"end {end} is beyond the file's {chunks} chunks")
        parts = []
        for index in range(start // SEGMENT_CHUNKS, (end - 1) // SEGMENT_CHUNKS + 1):
            data = self._held(tx, index)
            if data is None:
                return None
            base = index * SEGMENT_CHUNKS
            lo, hi = max(start, base) - base, min(end, base + SEGMENT_CHUNKS) - base
            parts.append(data[lo * CHUNK_SIZE : hi * CHUNK_SIZE])
        return Base64Bytes(b"".join(parts))

    def with_proof(self, tx: TxRecord | None, index: int) -> dict[str, Any] | None:
        if tx is None:
            return None
        segments = tx.layout.num_segments
        if index >= segments:
            raise invalid_params("index", f"index {index} out of bound: the file has {segments} segments")
        if not self.shard.holds(first_segment(tx.start_entry) + index):
            return None
        stored = self.store.read_segment(tx, index)
        if stored is None:
            return None
        data, proof = stored
        return {
            "root": tx.root,
            "data": Base64Bytes(data),
            "index": index,
            "proof": proof,
            "fileSize": tx.size,
        }
