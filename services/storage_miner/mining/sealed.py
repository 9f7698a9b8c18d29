"""The miner's sealed copy of the segments its node stores: `<node dir>/mining/sealed.bin`, one 256 KiB slot per
segment, sealed for the miner id (zerog.storage.pora.seal_rows), indexed in the miner's SQLite (`sealed`).

The search workers map the file read-only and gather recalled sectors by row (slot · 1024 + sector). A slot is
written and fsynced before its row is committed; a slot whose row was dropped is reused by the next segment.
The copy mirrors the node store: a segment the node lost (its file deleted or damaged) is dropped here too, so the
miner mines exactly the data its node can serve.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from services.storage_miner.mining.state import MinerState, SealedSegment
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, SEGMENT_SIZE
from zerog.storage.pora import seal_rows

#: Bytes per slot: one full segment.
SLOT_BYTES = SEGMENT_SIZE


class SealedFile:
    """sealed.bin: slot i holds a sealed segment at byte i · SLOT_BYTES."""

    def __init__(self, path: Path, miner_id: bytes) -> None:
        self.path = path
        self.miner_id = miner_id
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def close(self) -> None:
        os.close(self._fd)

    @property
    def rows(self) -> int:
        """Sectors the file holds (its size in sectors)."""
        return os.fstat(self._fd).st_size // CHUNK_SIZE

    def seal(self, state: MinerState, uid: int, seg_index: int, position: int, data: bytes) -> SealedSegment:
        """Seal one segment (its padded bytes, starting at flow `position`) into a free slot and index it."""
        if len(data) % CHUNK_SIZE or not 0 < len(data) <= SLOT_BYTES:
            raise ValueError(f"a segment has 1 to {SEGMENT_CHUNKS} whole sectors, not {len(data)} bytes")
        rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, CHUNK_SIZE)
        positions = np.arange(position, position + rows.shape[0], dtype=np.uint64)
        sealed = seal_rows(rows, self.miner_id, positions).tobytes()
        slot = state.free_slot()
        os.pwrite(self._fd, sealed, slot * SLOT_BYTES)
        if os.fstat(self._fd).st_size < (slot + 1) * SLOT_BYTES:
            os.ftruncate(self._fd, (slot + 1) * SLOT_BYTES)  # every slot full-size: row arithmetic stays simple
        os.fsync(self._fd)
        segment = SealedSegment(uid, seg_index, slot, position, rows.shape[0])
        state.add_sealed(segment)
        return segment

    def read(self, segment: SealedSegment) -> bytes:
        return os.pread(self._fd, segment.sectors * CHUNK_SIZE, segment.slot * SLOT_BYTES)

    def clear(self) -> None:
        os.ftruncate(self._fd, 0)
