"""DA put/get latency end to end: a bundled chain, the contracts deployed by scripts/deploy.py, four signer daemons
(`python -m services.da_signer`, as `zg up` runs them), and the DA client in this process.

    .venv/bin/python benches/da_latency.py [--sizes 0.125,1,8,32]   (MiB)

put = encode (worker pool, warmed before timing) + pay the blob fee + send each signer its 32 columns (they
verify every proof, store and sign) + submit the aggregate; get = fetch columns 0..63 from two signers, verify
every proof, reassemble. "get, 1 signer down" kills one signer holding data columns first, so the client has to
fetch parity columns and recover every blob. Everything shares the same 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.da import kzg  # noqa: E402
from zerog.da.client import DAClient  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy  # noqa: E402

MIB = 1 << 20
SIGNERS = 4


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.125,1,8,32", help="payload sizes in MiB, comma-separated")
    args = parser.parse_args()
    sizes = [int(float(s) * MIB) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp), poll_interval=0.1)
        with ChainNode(settings):
            deploy(settings)
            procs = []
            for i in range(SIGNERS):
                p = free_port()
                env = child_env(settings, ZG_DA_SIGNER_INDEX=str(i), ZG_DA_SIGNER_PORT=str(p),
                                ZG_DA_SIGNER_URL=f"http://127.0.0.1:{p}")  # fmt: skip
                log = settings.data_dir / f"da-signer-{i}.log"
                procs.append((spawn([sys.executable, "-m", "services.da_signer"], log, env=env, cwd=REPO_ROOT), p))
            try:
                for _, p in procs:
                    assert wait_until(lambda p=p: healthy(f"http://127.0.0.1:{p}"), 120, 0.2), "signer did not start"
                # Warm: the worker pool, and this process's setup (proof checks of get).
                list(kzg.get_pool().map(kzg._pool_compute, [bytes(kzg.BYTES_PER_BLOB)] * kzg.pool_workers()))
                kzg.load_setup()
                print(f"{'MiB':>7}{'blobs':>7}{'put s':>9}{'get s':>9}{'get, 1 signer down s':>23}")
                with DAClient(settings, dev_account(0)) as client:
                    rows = []
                    for size in sizes:
                        data = os.urandom(size)
                        start = time.perf_counter()
                        result = client.put(data)
                        put_s = time.perf_counter() - start
                        start = time.perf_counter()
                        assert client.get(result.data_root) == data
                        get_s = time.perf_counter() - start
                        rows.append((size, result, put_s, get_s, data))
                    # One data-column signer down for every recovery measurement.
                    stop(procs[0][0])
                    for size, result, put_s, get_s, data in rows:
                        start = time.perf_counter()
                        assert client.get(result.data_root) == data
                        down_s = time.perf_counter() - start
                        print(f"{size / MIB:7.3f}{result.blobs:7d}{put_s:9.2f}{get_s:9.2f}{down_s:23.2f}")
            finally:
                for proc, _ in procs:
                    stop(proc)
                kzg.shutdown_pool()


if __name__ == "__main__":
    main()
