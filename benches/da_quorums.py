"""Per-signer load as the DA shards into quorums, measured on real signer daemons: 4, 8 and 16 signer processes
on loopback (`python -m services.da_signer`, as `zg up` runs them), quorums of at least 4 (1, 2 and 4 quorums).

    .venv/bin/python benches/da_quorums.py [--roots 4] [--mib 1]

For each signer count: a fresh bundled chain, the contracts deployed by scripts/deploy.py (the genesis signers:
dev accounts 3..), the signer daemons started together, then `--roots` random payloads of `--mib` MiB each put
one after the other through DAClient.put from dev account 0 (encode, pay, disperse to the root's quorum, submit
the aggregate; the contract assigns the quorums round-robin). Then each signer's GET /health `stored` says what it
holds: the cells in its store and the bytes of the column bundles it accepted. Reported per signer and per MiB of
payload put: cells stored and KiB received (mean, min and max over the signers), next to what the on-chain
assignment predicts (its quorum's roots times its columns; a bundle is its header, the commitments and the
columns: zerog/da/wire.py), which every signer must match exactly. Also the time of the puts (encoding included;
the daemons, the chain and this process share the cores), the gas of submitOriginalData and of one attestation by
a whole quorum (median; the first credit to each signer excluded), and the load ratios of 8 and 16 signers to 4.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from benches.common import healthy, local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect  # noqa: E402
from zerog.da import encoding, kzg  # noqa: E402
from zerog.da.client import DAClient  # noqa: E402
from zerog.da.contracts import DAContracts  # noqa: E402
from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF, PAYLOAD_BYTES_PER_BLOB, blob_count  # noqa: E402
from zerog.da.keys import SIGNER_DEV_ACCOUNT_OFFSET  # noqa: E402
from zerog.da.kzg import BYTES_PER_COMMITMENT  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy  # noqa: E402
from zerog.devnet.settings import NetworkSettings  # noqa: E402

MIB = 2**20
KIB = 2**10
#: Bundle header and per-column index (zerog/da/wire.py).
HEADER_BYTES = 19
INDEX_BYTES = 2
START_TIMEOUT = 240


def bundle_bytes(columns: int, blobs: int) -> int:
    return HEADER_BYTES + blobs * BYTES_PER_COMMITMENT + columns * (INDEX_BYTES + blobs * BYTES_PER_CELL_WITH_PROOF)


def stored(url: str) -> dict[str, Any]:
    """A signer's /health: its slot and its `stored` counts."""
    body = httpx.get(f"{url}/health", timeout=10).json()
    return {"slot": body["slot"], **body["stored"]}


def spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.mean(values), min(values), max(values)


def start_signers(settings: NetworkSettings, signers: int, procs: list[subprocess.Popen[bytes]]) -> list[str]:
    """Spawn every signer daemon (into `procs`, for the caller to stop), then wait until all are healthy: they
    start in parallel. Their URLs, by index."""
    urls = []
    for i in range(signers):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = child_env(settings, (), ZG_DA_SIGNER_INDEX=str(i), ZG_DA_SIGNER_PORT=str(port), ZG_DA_SIGNER_URL=url)
        procs.append(spawn([sys.executable, "-m", "services.da_signer"], log_path(settings, i), env=env, cwd=REPO_ROOT))
        urls.append(url)
    deadline = time.monotonic() + START_TIMEOUT
    for i, url in enumerate(urls):
        if not wait_until(lambda url=url: healthy(f"{url}/health"), max(deadline - time.monotonic(), 0), 0.2):
            raise SystemExit(f"da-signer-{i} did not start:\n{log_path(settings, i).read_text()[-3000:]}")
    return urls


def log_path(settings: NetworkSettings, index: int) -> Path:
    return settings.data_dir / f"da-signer-{index}.log"


def measure(signers: int, roots: int, mib: float) -> dict[str, Any]:
    length = int(mib * MIB)
    blobs = blob_count(length)
    rng = random.Random(signers)
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(
            Path(tmp), dev_accounts=SIGNER_DEV_ACCOUNT_OFFSET + signers + 1, da_signers=signers, da_max_quorums=4,
            da_min_signers_per_quorum=4, poll_interval=0.1,
        )  # fmt: skip
        with ChainNode(settings):
            started = time.perf_counter()
            deployment, _ = deploy(settings)
            procs: list[subprocess.Popen[bytes]] = []
            try:
                urls = start_signers(settings, signers, procs)
                start_s = time.perf_counter() - started
                w3 = connect(settings.rpc_url)
                view = DAContracts(w3, deployment).current_signers()
                assert view.quorum_count == max(1, min(signers // 4, 4)), view.quorum_count
                before = {s["slot"]: s for s in map(stored, urls)}
                expected_cells = dict.fromkeys(before, 0)
                expected_bytes = dict.fromkeys(before, 0)
                upload_gas, attest_gas = [], []
                with DAClient(settings, dev_account(0)) as client:
                    put_s = 0.0
                    for n in range(roots):
                        data = rng.randbytes(length)
                        t0 = time.perf_counter()
                        result = client.put(data)
                        put_s += time.perf_counter() - t0
                        assert not result.failures and result.verify_tx, result.to_json()
                        for s in view.quorum(result.quorum_id).signers:
                            expected_cells[s.slot] += len(s.columns) * blobs
                            expected_bytes[s.slot] += bundle_bytes(len(s.columns), blobs)
                        upload_gas.append(w3.eth.get_transaction_receipt(result.upload_tx)["gasUsed"])
                        if n >= view.quorum_count:  # every signer of the quorum was credited once already
                            attest_gas.append(w3.eth.get_transaction_receipt(result.verify_tx)["gasUsed"])
                after = {s["slot"]: s for s in map(stored, urls)}
            finally:
                with ThreadPoolExecutor(len(procs) or 1) as pool:  # SIGINT, all at once
                    list(pool.map(stop, procs))
        cells = {slot: after[slot]["cells"] - before[slot]["cells"] for slot in after}
        received = {slot: after[slot]["bytesReceived"] - before[slot]["bytesReceived"] for slot in after}
        assert cells == expected_cells, (cells, expected_cells)
        assert received == expected_bytes, (received, expected_bytes)
        total_mib = roots * length / MIB
        return {
            "quorums": view.quorum_count,
            "cells": spread([c / total_mib for c in cells.values()]),
            "cells expected": statistics.mean(expected_cells.values()) / total_mib,
            "kib": spread([b / total_mib / KIB for b in received.values()]),
            "kib expected": statistics.mean(expected_bytes.values()) / total_mib / KIB,
            "start s": start_s,
            "put s": put_s,
            "upload gas": statistics.median(upload_gas),
            "attest gas": statistics.median(attest_gas) if attest_gas else None,
        }


def row(signers: int, r: dict[str, Any], mib_put: float) -> str:
    cells, kib = r["cells"], r["kib"]
    attest = "-" if r["attest gas"] is None else f"{r['attest gas']:,.0f}"
    return (
        f"{signers:>7} {r['quorums']:>7} | {cells[0]:6.1f} {cells[1]:6.1f} {cells[2]:6.1f} "
        f"({r['cells expected']:5.1f}) | {kib[0]:7.1f} {kib[1]:7.1f} {kib[2]:7.1f} ({r['kib expected']:6.1f}) | "
        f"{r['start s']:7.1f} {r['put s']:6.2f} {mib_put / r['put s']:5.2f} | {r['upload gas']:10,.0f} {attest:>10}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roots", type=int, default=4, help="payloads put per signer count")
    parser.add_argument("--mib", type=float, default=1.0, help="MiB per payload")
    parser.add_argument("--signers", default="4,8,16", help="signer counts, comma-separated (the first is the base)")
    args = parser.parse_args()
    counts = [int(n) for n in args.signers.split(",")]
    blobs = blob_count(int(args.mib * MIB))
    print(
        f"{args.roots} payloads of {args.mib} MiB ({blobs} blobs of {PAYLOAD_BYTES_PER_BLOB} bytes each) per "
        "signer count. Per signer per MiB put: measured mean / min / max (expected from the assignment); start: "
        "deploy until every signer is healthy; put: the puts, encoding included"
    )
    print(
        f"{'signers':>7} {'quorums':>7} | {'cells stored':>26} | {'KiB received':>30} | {'start s':>7} "
        f"{'put s':>6} {'MiB/s':>5} | {'upload gas':>10} {'attest gas':>10}"
    )
    results = {}
    began = time.perf_counter()
    try:
        # Warm this process's encoding: the KZG setup and the worker pool (started on first use), out of the timing.
        encoding.encode(bytes(PAYLOAD_BYTES_PER_BLOB * kzg.pool_workers()), parallel=True)
        for signers in counts:
            r = results[signers] = measure(signers, args.roots, args.mib)
            print(row(signers, r, args.roots * args.mib), flush=True)
    finally:
        kzg.shutdown_pool()
    base = results[counts[0]]
    for signers in counts[1:]:
        r = results[signers]
        print(
            f"per-signer load, {signers} signers / {counts[0]}: cells {r['cells'][0] / base['cells'][0]:.3f}, "
            f"bytes received {r['kib'][0] / base['kib'][0]:.3f}"
        )
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
