"""The nonce search: worker processes (one per core, lowest CPU priority) each take a range of nonces and return
the ones whose answers meet the target.

Per batch of nonces, vectorized with numpy, with every keccak in C with the GIL released
(zerog.storage.flow_tree.keccak_rows): the seeds; the recall positions; which recalled sectors the miner can answer
for (a `Plan` maps the flow into spans: sealed segments held in sealed.bin, empty sectors, and data it does not
hold); the sealed sectors (gathered from the memory-mapped sealed.bin, or sealed on the fly for empty ones); the
quality hashes; and a 64-bit prefilter before the exact 256-bit comparison with the target.

Only "held" and "empty" recalls produce a quality hash (`hashed`); a recall of data the node lacks yields nothing,
so a miner's rate of answers is its hash rate times the share of its range it stores.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from dataclasses import dataclass, field

import numpy as np

from zerog.storage.flow_tree import keccak_rows
from zerog.storage.merkle import CHUNK_SIZE, HASH_SIZE
from zerog.storage.pora import SEED_PREFIX_BYTES, MineRange, positions_be, seal_rows

#: Span kinds of a plan.
MISSING, HELD, EMPTY = 0, 1, 2
#: Nonces per vectorized batch: big enough to amortize numpy, small enough to stay in cache.
BATCH = 8192
_PR_SET_PDEATHSIG = 1
#: Seed input: the 160-byte prefix, then the nonce as a 32-byte word (nonces stay below 2^64).
SEED_BYTES = SEED_PREFIX_BYTES + HASH_SIZE


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to search one context: the seed prefix, the range, the target and the spans.

    Spans partition [0, flow length): span i covers [starts[i], starts[i + 1]) (the last one up to the flow
    length) and is MISSING, HELD (sector p is row rows[i] + p - starts[i] of sealed.bin) or EMPTY.
    """

    key: str
    prefix: bytes
    miner_id: bytes
    mine_range: MineRange
    target: int
    sealed_path: str
    sealed_rows: int
    starts: np.ndarray
    kinds: np.ndarray
    rows: np.ndarray

    def kind_at(self, position: int) -> int:
        """MISSING, HELD or EMPTY: what the miner has for flow `position`."""
        return int(self.kinds[int(np.searchsorted(self.starts, np.uint64(position), side="right")) - 1])


@dataclass
class SearchResult:
    key: str
    first_nonce: int
    count: int
    hashed: int = 0
    seconds: float = 0.0
    #: (nonce, recall position, quality) of every nonce meeting the target.
    found: list[tuple[int, int, int]] = field(default_factory=list)


# ---------------------------------------------------------------- worker process


class _Sealed:
    """The worker's read-only map of sealed.bin, reopened when the plan needs more rows than it maps."""

    path: str | None = None
    rows: np.ndarray | None = None

    @classmethod
    def get(cls, plan: Plan) -> np.ndarray:
        if cls.rows is None or cls.path != plan.sealed_path or cls.rows.shape[0] < plan.sealed_rows:
            cls.path = plan.sealed_path
            if plan.sealed_rows == 0:
                cls.rows = np.zeros((0, CHUNK_SIZE), dtype=np.uint8)
            else:
                mapped = np.memmap(plan.sealed_path, dtype=np.uint8, mode="r")
                cls.rows = mapped[: (mapped.shape[0] // CHUNK_SIZE) * CHUNK_SIZE].reshape(-1, CHUNK_SIZE)
        return cls.rows


def init_worker() -> None:
    """Runs in each worker: lowest priority, Ctrl-C left to the parent, and die with the parent (Linux)."""
    with contextlib.suppress(OSError):
        os.nice(19)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def search(plan: Plan, first_nonce: int, count: int, limit: int) -> SearchResult:
    """Search nonces [first_nonce, first_nonce + count) of `plan`, stopping after the batch in which `limit`
    answers were found (the result's `count` is then the nonces searched)."""
    began = time.perf_counter()
    result = SearchResult(plan.key, first_nonce, count)
    sealed = _Sealed.get(plan)
    prefix = np.frombuffer(plan.prefix, dtype=np.uint8)
    target_high = np.uint64(plan.target >> 192)
    searched = 0
    for batch_start in range(first_nonce, first_nonce + count, BATCH):
        if len(result.found) >= limit:
            break
        n = min(BATCH, first_nonce + count - batch_start)
        searched += n
        nonces = np.arange(batch_start, batch_start + n, dtype=np.uint64)
        seed_input = np.zeros((n, SEED_BYTES), dtype=np.uint8)
        seed_input[:, :SEED_PREFIX_BYTES] = prefix
        seed_input[:, SEED_BYTES - 8 :] = positions_be(nonces)
        seeds = keccak_rows(seed_input)
        positions = plan.mine_range.recall_many(seeds)
        spans = np.searchsorted(plan.starts, positions, side="right") - 1
        kinds = plan.kinds[spans]
        usable = kinds != MISSING
        m = int(usable.sum())
        if m == 0:
            continue
        positions, spans, kinds = positions[usable], spans[usable], kinds[usable]
        quality_input = np.empty((m, HASH_SIZE + CHUNK_SIZE), dtype=np.uint8)
        quality_input[:, :HASH_SIZE] = seeds[usable]
        held = kinds == HELD
        if held.any():
            rows = plan.rows[spans[held]] + (positions[held] - plan.starts[spans[held]]).astype(np.int64)
            quality_input[held, HASH_SIZE:] = sealed[rows]
        empty = ~held
        if empty.any():
            zeros = np.zeros((int(empty.sum()), CHUNK_SIZE), dtype=np.uint8)
            quality_input[empty, HASH_SIZE:] = seal_rows(zeros, plan.miner_id, positions[empty])
        qualities = keccak_rows(quality_input)
        high = qualities[:, :8].copy().view(">u8").reshape(-1)
        candidates = np.nonzero(high <= target_high)[0]
        if candidates.size:
            usable_nonces = nonces[usable]
            for i in candidates[: max(0, limit - len(result.found)) + 1]:
                quality = int.from_bytes(qualities[i].tobytes(), "big")
                if quality <= plan.target and len(result.found) < limit:
                    result.found.append((int(usable_nonces[i]), int(positions[i]), quality))
        result.hashed += m
    result.count = searched
    result.seconds = time.perf_counter() - began
    return result
