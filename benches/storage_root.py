"""File-root throughput: ours vs the official 0G TS SDK, and vs the two-core keccak ceiling.

    .venv/bin/python benches/storage_root.py [--mib 64]

Prints MB/s of each and the ratios. The ceiling is 2 x the single-core rate of hashing 256-byte chunks
with the fastest keccak installed here (pysha3 / pycryptodome / our C keccak, one call per chunk).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.storage.sdk import official_sdk  # noqa: E402
from zerog.storage.merkle import CHUNK_SIZE, FileTree, keccak256  # noqa: E402

MB = 1_000_000
KECCAK_SAMPLE = 16 * 1024 * 1024


def best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def keccak_rates(sample: bytes) -> dict[str, float]:
    """MB/s of one keccak call per 256-byte chunk, single core, for each installed implementation."""
    view = memoryview(sample)
    chunks = [view[i : i + CHUNK_SIZE] for i in range(0, len(view), CHUNK_SIZE)]
    impls: dict[str, Callable[[memoryview], bytes]] = {"zerog C keccak": keccak256}
    try:
        import sha3

        impls["pysha3"] = lambda c: sha3.keccak_256(c).digest()
    except ImportError:
        pass
    try:
        from Crypto.Hash import keccak

        impls["pycryptodome"] = lambda c: keccak.new(data=c, digest_bits=256).digest()
    except ImportError:
        pass
    return {name: len(sample) / MB / best_of(3, lambda f=f: [f(c) for c in chunks]) for name, f in impls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.bin"
        path.write_bytes(os.urandom(size))
        tiny = Path(tmp) / "tiny.bin"
        tiny.write_bytes(b"\x01")
        ours = {threads: best_of(3, lambda t=threads: FileTree.from_path(path, threads=t)) for threads in (1, 2)}
        startup = best_of(2, lambda: official_sdk("root", str(tiny)))
        sdk_total = best_of(2, lambda: official_sdk("root", str(path)))
        assert official_sdk("root", str(path))["roots"][0] == FileTree.from_path(path).root_hex
        rates = keccak_rates(path.read_bytes()[:KECCAK_SAMPLE])
    sdk = size / MB / max(sdk_total - startup, 1e-9)
    ceiling_impl, single = max(rates.items(), key=lambda kv: kv[1])
    ceiling = 2 * single
    ours1, ours2 = size / MB / ours[1], size / MB / ours[2]
    print(f"file: {args.mib} MiB random, roots equal: yes")
    print(f"official TS SDK root      : {sdk:8.1f} MB/s (node startup {startup:.2f}s excluded)")
    print(f"ours, 1 thread            : {ours1:8.1f} MB/s")
    print(f"ours, 2 threads           : {ours2:8.1f} MB/s   = {ours2 / sdk:.1f}x the TS SDK")
    for name, rate in rates.items():
        print(f"keccak 256-B chunks, 1 core, {name:15s}: {rate:8.1f} MB/s")
    print(f"two-core keccak ceiling   : {ceiling:8.1f} MB/s (2 x {ceiling_impl})")
    print(f"ours / ceiling            : {ours2 / ceiling:8.2f}  (target >= 0.75; the root also hashes inner nodes)")


if __name__ == "__main__":
    main()
