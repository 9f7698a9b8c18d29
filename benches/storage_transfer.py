"""Upload and download throughput through our storage nodes on loopback, ours vs the official TS SDK.

    .venv/bin/python benches/storage_transfer.py [--mib 64]

Starts `zg up` on free ports in a temp dir (two shards + indexer), then times, on the same file:
our upload (submit tx + segments + finality), our download (every proof verified), and the official
SDK's upload and download against the same network, and a 1 MiB range read from the middle of our file
(only its covering segments, proof-checked) against the full download. Also prints the gas of the Submit
transactions.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain_node.process import wait_until  # noqa: E402
from tests.conftest import REPO_ROOT, make_settings, tool_env  # noqa: E402
from tests.storage.sdk import official_sdk  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import Deployment, connect  # noqa: E402
from zerog.storage.client import download, nodes_from_indexer, read_range, upload  # noqa: E402

MB = 1_000_000
MIB = 1024 * 1024


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = make_settings(tmp)
        cmd = [str(Path(sys.executable).parent / "zg"), "up", "--data-dir", str(settings.data_dir)]
        cmd += ["--port", str(settings.chain_port), "--faucet-port", str(settings.faucet_port)]
        cmd += ["--storage-ports", settings.storage_ports, "--indexer-port", str(settings.indexer_port)]
        up = subprocess.Popen(cmd, cwd=REPO_ROOT, env=tool_env(settings), stdout=subprocess.DEVNULL)
        try:
            assert wait_until(settings.network_file.exists, 180), "zg up did not start"
            w3 = connect(settings.rpc_url)
            deployment = Deployment.for_settings(settings, w3.eth.chain_id)
            nodes = nodes_from_indexer(settings.indexer_url)
            ours_file, theirs_file = tmp / "ours.bin", tmp / "theirs.bin"
            ours_file.write_bytes(os.urandom(size))
            theirs_file.write_bytes(os.urandom(size))

            result, up_s = timed(lambda: upload(ours_file, nodes, w3, dev_account(3), deployment))
            _, down_s = timed(lambda: download(result.root, tmp / "ours.out", nodes))
            assert (tmp / "ours.out").read_bytes() == ours_file.read_bytes()
            middle, range_s = timed(lambda: read_range(result.root, nodes, size // 2 + 12345, MIB))
            assert middle == ours_file.read_bytes()[size // 2 + 12345 :][:MIB]
            gas = w3.eth.get_transaction_receipt(result.tx_hash)["gasUsed"]

            key = dev_account(4).key.to_0x_hex()
            # An even segment count per shard: the SDK drops tasks when shards get unequal counts.
            sdk_args = ["upload", str(theirs_file), settings.rpc_url, key, settings.indexer_url]
            sdk, sdk_up_s = timed(lambda: official_sdk(*sdk_args, timeout=1800))
            _, sdk_down_s = timed(
                lambda: official_sdk("download", sdk["root"], str(tmp / "t.out"), settings.indexer_url)
            )
            assert (tmp / "t.out").read_bytes() == theirs_file.read_bytes()
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(60)
    mb = size / MB
    print(f"file: {args.mib} MiB, 2 storage shards on loopback")
    print(f"ours     upload  : {mb / up_s:7.1f} MB/s ({up_s:.2f}s incl. submit tx and finality)")
    print(f"ours     download: {mb / down_s:7.1f} MB/s ({down_s:.2f}s, every segment proof verified)")
    print(f"ours     1 MiB range read: {range_s * 1000:.0f} ms (full download {down_s * 1000:.0f} ms)")
    print(f"TS SDK   upload  : {mb / sdk_up_s:7.1f} MB/s ({sdk_up_s:.2f}s, same nodes)")
    print(f"TS SDK   download: {mb / sdk_down_s:7.1f} MB/s ({sdk_down_s:.2f}s, no proof checks)")
    print(f"ratios ours/SDK  : upload {sdk_up_s / up_s:.1f}x, download {sdk_down_s / down_s:.1f}x")
    print(f"submit gas ({args.mib} MiB file): {gas}")


if __name__ == "__main__":
    main()
