"""ckzg (BLS12-381 KZG, EIP-7594 cells) with the Ethereum KZG ceremony's trusted setup, in this process or in a
pool of worker processes.

ckzg holds the GIL while it computes (measured: two threads take as long as one after the other), so parallel
work needs processes. Computing the cells and proofs of one 4096-element blob takes ~0.15-0.2 s; a worker
process pays ~2 s once to load the setup. Small jobs therefore run in this process, big ones in the pool,
which stays up for the next job (`shutdown_pool` ends it; it also ends with the process).

The trusted setup: the ckzg wheel ships none, so it is loaded from eth-account, a pinned dependency that ships
the same ceremony file in the format ckzg 2 reads (with the G1 monomial points cells need); its SHA-256 is
checked before use.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.resources
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import ckzg

FIELD_ELEMENTS_PER_BLOB = 4096
BYTES_PER_FIELD_ELEMENT = 32
BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT
CELLS_PER_BLOB = 128
#: Any half of a blob's cells recover it; cells 0..63 are the blob itself (the extension is systematic).
DATA_CELLS_PER_BLOB = CELLS_PER_BLOB // 2
BYTES_PER_CELL = BYTES_PER_BLOB * 2 // CELLS_PER_BLOB
BYTES_PER_PROOF = 48
BYTES_PER_COMMITMENT = 48

#: sha256 of trusted_setup.txt of the Ethereum KZG ceremony as c-kzg 2 reads it (G1 Lagrange, G2 monomial,
#: G1 monomial points).
TRUSTED_SETUP_SHA256 = "d39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7"
_SETUP_LOCATIONS = (("eth_account", "typed_transactions/blob_transactions/kzg_trusted_setup.txt"),)
#: Precomputed tables for FK20 proofs: 8 costs ~96 MiB and makes cells+proofs ~30% faster (measured).
POOL_PRECOMPUTE = 8
#: This process verifies and recovers, and computes only small jobs: no tables.
LOCAL_PRECOMPUTE = 0
#: Jobs of fewer blobs run in this process unless the pool is already up.
POOL_MIN_BLOBS = 8


class TrustedSetupError(RuntimeError):
    """The trusted setup cannot be found or is not the ceremony's."""


def trusted_setup_path() -> Path:
    """The ceremony file, from the first installed package that ships it, its SHA-256 checked."""
    for package, resource in _SETUP_LOCATIONS:
        try:
            path = Path(str(importlib.resources.files(package).joinpath(resource)))
        except ModuleNotFoundError:
            continue
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != TRUSTED_SETUP_SHA256:
                raise TrustedSetupError(f"{path} is not the KZG ceremony's setup (sha256 {digest})")
            return path
    raise TrustedSetupError("no KZG trusted setup installed: reinstall eth-account (`make install`)")


_setups: dict[int, Any] = {}
_setups_lock = threading.Lock()


def load_setup(precompute: int = LOCAL_PRECOMPUTE) -> Any:
    """The loaded setup, once per process and precompute level (~1.5 s the first time)."""
    with _setups_lock:
        if precompute not in _setups:
            _setups[precompute] = ckzg.load_trusted_setup(str(trusted_setup_path()), precompute)
        return _setups[precompute]


# ---------------------------------------------------------------- per-blob work (runs in workers too)


def compute_blob(blob: bytes, precompute: int = LOCAL_PRECOMPUTE) -> tuple[bytes, bytes, bytes]:
    """(commitment, 128 cells concatenated, 128 proofs concatenated) of one blob."""
    setup = load_setup(precompute)
    cells, proofs = ckzg.compute_cells_and_kzg_proofs(blob, setup)
    return ckzg.blob_to_kzg_commitment(blob, setup), b"".join(cells), b"".join(proofs)


def recover_blob(
    indices: Sequence[int], cells: Sequence[bytes], precompute: int = LOCAL_PRECOMPUTE
) -> tuple[bytes, bytes]:
    """(128 cells, 128 proofs) of a blob from any 64 or more of its cells (`indices` ascending)."""
    recovered, proofs = ckzg.recover_cells_and_kzg_proofs(list(indices), list(cells), load_setup(precompute))
    return b"".join(recovered), b"".join(proofs)


def verify_cells(
    commitments: Sequence[bytes], indices: Sequence[int], cells: Sequence[bytes], proofs: Sequence[bytes]
) -> bool:
    """Batch check of cells against their blobs' commitments (one entry per cell)."""
    if not cells:
        return True
    try:
        return bool(
            ckzg.verify_cell_kzg_proof_batch(list(commitments), list(indices), list(cells), list(proofs), load_setup())
        )
    except (RuntimeError, ValueError):  # malformed: a point not in the group, a non-canonical field element...
        return False


def _pool_init() -> None:
    load_setup(POOL_PRECOMPUTE)


def _pool_compute(blob: bytes) -> tuple[bytes, bytes, bytes]:
    return compute_blob(blob, POOL_PRECOMPUTE)


def _pool_recover(job: tuple[Sequence[int], Sequence[bytes]]) -> tuple[bytes, bytes]:
    return recover_blob(job[0], job[1], POOL_PRECOMPUTE)


# ---------------------------------------------------------------- the pool

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def get_pool() -> Executor:
    """The worker pool (started on first use: forkserver processes, safe next to threads)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(pool_workers(), mp_context=context, initializer=_pool_init)
        return _pool


def pool_running() -> bool:
    return _pool is not None


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


atexit.register(shutdown_pool)


def _use_pool(jobs: int, parallel: bool | None) -> bool:
    if parallel is not None:
        return parallel and pool_workers() > 1
    return pool_workers() > 1 and (jobs >= POOL_MIN_BLOBS or (pool_running() and jobs > 1))


def compute_blobs(blobs: Sequence[bytes], parallel: bool | None = None) -> Iterator[tuple[bytes, bytes, bytes]]:
    """compute_blob of each blob, in order; in the pool for big jobs (or as `parallel` says)."""
    if _use_pool(len(blobs), parallel):
        yield from get_pool().map(_pool_compute, blobs, chunksize=1)
    else:
        for blob in blobs:
            yield compute_blob(blob)


def recover_blobs(
    jobs: Sequence[tuple[Sequence[int], Sequence[bytes]]], parallel: bool | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """recover_blob of each (indices, cells), in order; in the pool for big jobs (or as `parallel` says)."""
    if _use_pool(len(jobs), parallel):
        yield from get_pool().map(_pool_recover, jobs, chunksize=1)
    else:
        for indices, cells in jobs:
            yield recover_blob(indices, cells)
