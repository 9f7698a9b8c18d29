"""Replication: how fast a storage node that joins late fetches its shard from a peer, every proof checked.

    .venv/bin/python benches/storage_replication.py [--mib 32] [--limit-mib 8]

On a fresh bundled chain, node A (127.0.0.2, the whole flow) gets a `--mib` file through our SDK (the baseline: the
same segments pushed, proof-checked and stored, plus the submit transaction and finality), and our SDK downloads it
back from A (the other baseline: the same segments fetched and proof-checked, no store). Then nodes join one at a
time with A as their only peer (ZG_STORAGE_PEERS), each on its own address: B (127.0.0.3, the whole flow, no rate
limit), C (127.0.0.4, shard 1/2: half the segments) and D (127.0.0.5, the whole flow at `--limit-mib` MiB/s).
Reported for each: the time from its start to holding its shard (finalized), of which the process start, and the
replication throughput from its first answer to /health until finalized (the log sync of the few blocks included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benches.common import local_settings, start_daemon  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, stop, wait_until  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.devnet.network import Daemon  # noqa: E402
from zerog.devnet.settings import NetworkSettings  # noqa: E402
from zerog.storage.client import connect_nodes, download, upload  # noqa: E402
from zerog.storage.rpc import StorageNodeClient  # noqa: E402

MB = 1_000_000
MIB = 2**20
UPLOADER = 3
JOIN_TIMEOUT_SECONDS = 900


def node(name: str, host: str, shard: tuple[int, int] = (0, 1), **env: str) -> Daemon:
    port = free_port()
    settings = {"ZG_STORAGE_HOST": host, "ZG_STORAGE_PORT": str(port), "ZG_STORAGE_NAME": name}
    settings |= {"ZG_STORAGE_SHARD_ID": str(shard[0]), "ZG_STORAGE_NUM_SHARD": str(shard[1])}
    return Daemon(name, "services.storage_miner", host, port, settings | env)


def join(settings: NetworkSettings, work: Path, daemon: Daemon, root: str) -> tuple[float, float]:
    """(seconds from spawn to healthy, seconds from healthy to holding `root` finalized) of a joining node."""
    start = time.perf_counter()
    start_daemon(settings, daemon, work / f"{daemon.name}.log")
    up = time.perf_counter()
    client = StorageNodeClient(daemon.url)
    try:
        held = wait_until(lambda: (client.file_info(root) or {}).get("finalized"), JOIN_TIMEOUT_SECONDS, 0.02)
        assert held, f"{daemon.name} did not replicate {root} within {JOIN_TIMEOUT_SECONDS}s"
        return up - start, time.perf_counter() - up
    finally:
        client.close()
        stop(daemon.proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--limit-mib", type=float, default=8, help="rate limit of the last joining node (MiB/s)")
    args = parser.parse_args()
    size = args.mib * MIB
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = local_settings(work, block_time=0)
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            a = node("storage-a", "127.0.0.2")
            start_daemon(settings, a, work / "storage-a.log")
            try:
                path = work / "file.bin"
                path.write_bytes(os.urandom(size))
                start = time.perf_counter()
                root = upload(path, connect_nodes([a.url]), w3, dev_account(UPLOADER), deployment).root
                up_s = time.perf_counter() - start
                start = time.perf_counter()
                download(root, work / "back.bin", connect_nodes([a.url]))
                down_s = time.perf_counter() - start
                limit = int(args.limit_mib * MIB)
                joiners = [
                    ("B whole flow", "b", "127.0.0.3", (0, 1), 0),
                    ("C shard 1/2", "c", "127.0.0.4", (1, 2), 0),
                    (f"D at {args.limit_mib:g} MiB/s", "d", "127.0.0.5", (0, 1), limit),
                ]
                joins = {}
                for label, name, host, shard, rate in joiners:
                    env = {"ZG_STORAGE_PEERS": a.url, "ZG_STORAGE_REPLICATION_RATE": str(rate)}
                    joins[label] = join(settings, work, node(name, host, shard, **env), root)
            finally:
                stop(a.proc)
    mb = size / MB
    print(f"file: {args.mib} MiB ({size // (256 * 1024)} segments), one peer on loopback, every proof checked")
    print(f"baseline SDK upload to A  : {mb / up_s:7.1f} MB/s ({up_s:.2f}s incl. submit tx and finality)")
    print(f"baseline SDK download of A: {mb / down_s:7.1f} MB/s ({down_s:.2f}s, proofs checked, nothing stored)")
    print(f"{'joining node':<22} {'start s':>8} {'to hold s':>10} {'MB/s':>7} {'vs upload':>10} {'vs download':>12}")
    for name, (start_s, hold_s) in joins.items():
        share = mb / 2 if "1/2" in name else mb
        rate = share / hold_s
        ratios = f"{rate / (mb / up_s):9.2f}x {rate / (mb / down_s):11.2f}x"
        print(f"{name:<22} {start_s:8.2f} {hold_s:10.2f} {rate:7.1f} {ratios}")


if __name__ == "__main__":
    main()
