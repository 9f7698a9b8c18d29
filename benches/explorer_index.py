"""Explorer: indexing throughput on a chain of our contracts' transactions, and page latency over that data.

    .venv/bin/python benches/explorer_index.py [--txs 10000] [--requests 200] [--send-batch 1]

A bundled chain (a block per transaction) with every contract deployed gets `--txs` transactions the bench signs
and sends itself in JSON-RPC batches: Flow submissions (Submit, FeeCharged, NewEpoch, RewardFilled logs), DA
blobs (DataUpload), Ledger deposits (Deposited) and plain transfers, from eight accounts. Then:

* indexing: the explorer's block indexer (services/explorer/indexer.py, in this process) from block 0 to the head
  into a fresh store: blocks/s, transactions/s, logs/s. Baseline, same chain, same run: the straightforward web3.py
  indexer loop — `get_block(n, full_transactions=True)` and `get_transaction_receipt` per transaction, decoding
  nothing and writing nothing — over the first `--baseline-blocks` blocks.
* pages: `python -m services.explorer` serving that store, `--requests` GETs per page (home, a block, a tx, an
  address with thousands of transactions, the storage list, a file, a DA blob, the JSON block list): p50/p99 ms.
Everything shares the machine's cores (the chain node too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402

from chain_node import ChainNode  # noqa: E402
from chain_node.process import spawn, stop, wait_until  # noqa: E402
from services.explorer.config import ExplorerDaemonSettings, db_path  # noqa: E402
from services.explorer.decode import AbiDecoder  # noqa: E402
from services.explorer.indexer import BlockIndexer  # noqa: E402
from services.explorer.rpc import ChainRpc  # noqa: E402
from services.explorer.store import ExplorerStore  # noqa: E402
from tests.conftest import REPO_ROOT, make_settings, tool_env  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import Deployment, connect  # noqa: E402
from zerog.config import load_settings  # noqa: E402
from zerog.devnet.deploy import run_deploy  # noqa: E402
from zerog.storage.merkle import FileTree  # noqa: E402

SENDERS = [dev_account(i) for i in range(2, 10)]
GAS = 1_000_000
GWEI = 10**9


def generate(settings, deployment: Deployment, count: int, send_batch: int) -> dict[str, int]:
    """`count` signed transactions of our contracts, sent `send_batch` per request (1: the chain mines a block per
    transaction, as `zg up`'s does when transactions come one by one); waits until the last is mined."""
    w3 = connect(settings.rpc_url)
    rpc = ChainRpc(settings.rpc_url)
    flow, entrance, ledger = (deployment.contract(w3, n) for n in ("Flow", "DAEntrance", "Ledger"))
    price = deployment.contract(w3, "FixedPriceMarket").functions.pricePerSector().call()
    blob_fee = entrance.functions.feeFor(1000).call()  # one blob
    nonces = {a.address: w3.eth.get_transaction_count(a.address) for a in SENDERS}
    chain_id = w3.eth.chain_id
    kinds = {"storage": 0, "da": 0, "ledger": 0, "transfer": 0}

    def signed(account: LocalAccount, i: int) -> str:
        base = {"from": account.address, "nonce": nonces[account.address], "gas": GAS, "chainId": chain_id}
        base |= {"maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI}
        kind = ("storage", "storage", "da", "ledger", "transfer")[i % 5]
        if kind == "storage":
            tree = FileTree.from_bytes(os.urandom(1000))
            nodes = [(root, height) for root, height in tree.submission_nodes()]
            sectors = sum(1 << h for _, h in nodes)
            tx = flow.functions.submit(((tree.size, b"", nodes), account.address)).build_transaction(
                base | {"value": sectors * price}
            )
        elif kind == "da":
            tx = entrance.functions.submitOriginalData([os.urandom(32)], [1000]).build_transaction(
                base | {"value": blob_fee}
            )
        elif kind == "ledger":
            tx = ledger.functions.deposit().build_transaction(base | {"value": 10**15})
        else:
            tx = base | {"to": SENDERS[(i + 1) % len(SENDERS)].address, "value": 1}
        kinds[kind] += 1
        nonces[account.address] += 1
        return account.sign_transaction(tx).raw_transaction.to_0x_hex()

    sent = []
    for start in range(0, count, send_batch):
        raws = [signed(SENDERS[i % len(SENDERS)], i) for i in range(start, min(start + send_batch, count))]
        results = rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws])
        errors = [r for r in results if not isinstance(r, str)]
        assert not errors, errors[:3]
        sent += results
    receipt = w3.eth.wait_for_transaction_receipt(sent[-1], timeout=600)
    assert receipt["status"] == 1
    rpc.close()
    return kinds


def index(settings, deployment: Deployment, store_path: Path) -> tuple[float, int, int, int]:
    """(seconds, blocks, txs, logs) of the explorer's indexer from block 0 to the head into a fresh store."""
    store = ExplorerStore.open(store_path)
    rpc = ChainRpc(settings.rpc_url)
    indexer = BlockIndexer(
        connect(settings.rpc_url), rpc, store, AbiDecoder.from_manifest(deployment.data), batch_blocks=100
    )
    start = time.perf_counter()
    indexer.sync(timeout=3600)
    seconds = time.perf_counter() - start
    counts = store.conn.execute(
        "SELECT (SELECT COUNT(*) FROM blocks), (SELECT COUNT(*) FROM txs), (SELECT COUNT(*) FROM logs)"
    ).fetchone()
    store.close()
    rpc.close()
    return seconds, *counts


def naive(settings, blocks: int) -> float:
    """Seconds the plain web3.py loop takes over blocks 0..blocks-1."""
    w3 = connect(settings.rpc_url)
    start = time.perf_counter()
    for number in range(blocks):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            w3.eth.get_transaction_receipt(tx["hash"])
    return time.perf_counter() - start


def page_latencies(url: str, paths: dict[str, str], requests: int) -> dict[str, tuple[float, float]]:
    out = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, path in paths.items():
            assert client.get(path).status_code == 200, path
            times = []
            for _ in range(requests):
                start = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            out[name] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--txs", type=int, default=10_000)
    parser.add_argument("--baseline-blocks", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--send-batch", type=int, default=1, help="transactions per send request (>1: fuller blocks)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="explorer-bench-"))
    settings = make_settings(tmp)
    with ChainNode(settings):
        deployed = run_deploy(settings)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        deployment = Deployment.for_settings(settings, connect(settings.rpc_url).eth.chain_id)
        start = time.perf_counter()
        kinds = generate(settings, deployment, args.txs, args.send_batch)
        print(f"generated {args.txs} txs {kinds} in {time.perf_counter() - start:.1f} s")

        explorer_settings = load_settings(ExplorerDaemonSettings, **settings.model_dump())
        seconds, blocks, txs, logs = index(settings, deployment, db_path(explorer_settings))
        baseline = naive(settings, min(args.baseline_blocks, blocks))
        base_rate = min(args.baseline_blocks, blocks) / baseline
        print(f"\nindexing {blocks} blocks, {txs} txs, {logs} logs in {seconds:.1f} s")
        print(f"  explorer : {blocks / seconds:8.0f} blocks/s {txs / seconds:8.0f} txs/s {logs / seconds:8.0f} logs/s")
        print(f"  web3 loop: {base_rate:8.0f} blocks/s (fetch only, first {min(args.baseline_blocks, blocks)} blocks)")
        print(f"  ratio    : {blocks / seconds / base_rate:.1f}x")

        daemon = spawn(
            [sys.executable, "-m", "services.explorer"],
            tmp / "explorer.log",
            env=tool_env(settings),
            cwd=REPO_ROOT,
        )
        url = settings.explorer_url
        try:
            assert wait_until(lambda: _healthy(url), 60, 0.2), (tmp / "explorer.log").read_text()[-2000:]
            some = httpx.get(f"{url}/api/txs", params={"limit": 50}).json()["transactions"]
            tx = next(t for t in some if t["method"] == "submit")
            storage = httpx.get(f"{url}/api/tx/{tx['hash']}").json()["refs"][0]["root"]
            blob = httpx.get(f"{url}/api/da", params={"limit": 1}).json()["blobs"][0]["data_root"]
            paths = {
                "home": "/",
                "block": f"/block/{blocks // 2}",
                "tx": f"/tx/{tx['hash']}",
                "address (busy)": f"/address/{SENDERS[0].address}",
                "storage list": "/storage",
                "storage file": f"/storage/{storage}",
                "DA blob": f"/da/{blob}",
                "api blocks": "/api/blocks?limit=100",
            }
            print(f"\npages over that data ({args.requests} GETs each, one client):")
            for name, (p50, p99) in page_latencies(url, paths, args.requests).items():
                print(f"  {name:15s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
        finally:
            stop(daemon)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
