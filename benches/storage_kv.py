"""KV streams through `zg up`: put → readable latency, kv_getValue latency, replay rate.

    .venv/bin/python benches/storage_kv.py [--puts 10] [--reads 1000] [--replays 2000]

Starts `zg up` on free ports in a temp dir with the default chain rhythm (a block per transaction, one a second
when idle), then: `--puts` writes (zerog.storage.kv.put: the blob's Flow submission, its upload, finality) each timed
until the KV node serves the new value; `--reads` kv_getValue calls of a small value; and, on a KV store of its own
(no chain, no fetch), the replay of `--replays` transactions of 4 writes each: the rate the node applies them once
their data is fetched.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain_node.process import wait_until  # noqa: E402
from services.storage_kv.store import KvStore, KvTx  # noqa: E402
from tests.conftest import REPO_ROOT, make_settings, tool_env, up_command  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import Deployment, connect  # noqa: E402
from zerog.storage.client import nodes_from_indexer  # noqa: E402
from zerog.storage.kv import KvClient, StreamData, put  # noqa: E402

STREAM = bytes([0x42]) * 32


def network_figures(tmp: Path, puts: int, reads: int) -> tuple[list[float], list[float]]:
    settings = make_settings(tmp, block_time=1)
    cmd = up_command(settings)
    up = subprocess.Popen(cmd, cwd=REPO_ROOT, env=tool_env(settings), stdout=subprocess.DEVNULL)
    try:
        assert wait_until(settings.network_file.exists, 300), "zg up did not start"
        w3 = connect(settings.rpc_url)
        deployment = Deployment.for_settings(settings, w3.eth.chain_id)
        nodes = nodes_from_indexer(settings.indexer_url)
        kv = KvClient(settings.kv_url)
        visible = []
        for i in range(puts):
            value = f"value {i} {os.urandom(4).hex()}".encode()
            start = time.perf_counter()
            put(StreamData(writes=[(STREAM, b"bench", value)]), nodes, w3, dev_account(3), deployment)
            assert wait_until(lambda v=value: (kv.get_value(STREAM, b"bench") or {}).get("data") == v, 60, 0.01)
            visible.append(time.perf_counter() - start)
        latencies = []
        for _ in range(reads):
            start = time.perf_counter()
            kv.get_value(STREAM, b"bench")
            latencies.append(time.perf_counter() - start)
        return visible, latencies
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(60)


def replay_rate(tmp: Path, count: int) -> float:
    store = KvStore.open(tmp / "replay" / "kv.db")
    sender = bytes.fromhex(dev_account(3).address[2:])
    txs = []
    with store.transaction() as conn:
        for seq in range(count):
            writes = [(STREAM, f"key {seq % 500} {j}".encode(), os.urandom(64)) for j in range(4)]
            blob = StreamData(writes=writes).encode()
            tx = KvTx(seq, seq, seq.to_bytes(32, "big"), len(blob), sender, (STREAM,))
            store.add_tx(conn, tx)
            txs.append((tx, blob))
    start = time.perf_counter()
    for tx, blob in txs:
        assert store.apply(tx, blob, None) == "Commit"
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--puts", type=int, default=10)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--replays", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rate = replay_rate(tmp, args.replays)
        visible, reads = network_figures(tmp, args.puts, args.reads)
    ms = 1000
    print(f"put -> readable on the KV node ({args.puts} puts, default chain): p50 {statistics.median(visible):.2f}s, "
          f"max {max(visible):.2f}s (target < 3 s)")  # fmt: skip
    print(f"kv_getValue ({args.reads} calls): p50 {statistics.median(reads) * ms:.2f} ms, "
          f"p99 {statistics.quantiles(reads, n=100)[98] * ms:.2f} ms (target < 5 ms)")  # fmt: skip
    print(f"replay: {rate:,.0f} KV txs/s (4 writes of 64 B each, data already fetched)")


if __name__ == "__main__":
    main()
