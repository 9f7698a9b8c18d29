"""Time from starting a provider to its first paid answer, serving the bundled model from a local file (the
baseline) against serving it from Storage — a public model by `--model-root`, and a private listing whose key was
granted to the provider (`--listing`: download, proof checks, decryption, content-hash check, load, register, link).

    .venv/bin/python benches/market_model_start.py [--runs 3]

One fresh bundled chain with the contracts deployed, one storage node and an indexer (real daemons). Each start is
a fresh provider process with an empty model cache; the clock runs from spawning `python -m services.compute_provider`
to the end of the first chat completion (8 tokens, through the `openai` client with vouchers). Medians of the runs;
the ratio is against the local-file start of the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from benches.common import healthy, local_settings, start_daemon  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from services.compute_provider.config import model_path  # noqa: E402
from services.compute_provider.model.train import ensure_model  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.compute import Compute  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy  # noqa: E402
from zerog.devnet.network import Daemon  # noqa: E402
from zerog.devnet.settings import NetworkSettings  # noqa: E402
from zerog.market.client import Market  # noqa: E402
from zerog.market.records import Kind, ListingParams  # noqa: E402
from zerog.storage.client import nodes_from_indexer, upload  # noqa: E402

LISTER, PROVIDER, USER = dev_account(7), dev_account(9), dev_account(0)


def first_answer(settings: NetworkSettings, work: Path, model: str, fund: bool = False, **env: str) -> float:
    """Seconds from spawning a provider (empty model cache) to its first paid answer."""
    port = free_port()
    models = work / "models"
    shutil.rmtree(models, ignore_errors=True)
    env = {
        "ZG_COMPUTE_PORT": str(port),
        "ZG_COMPUTE_MODEL_DIR": str(models),
        "ZG_COMPUTE_MODEL_NAME": model,
        "ZG_COMPUTE_PROVIDER_PRIVATE_KEY": PROVIDER.key.to_0x_hex(),
        **env,
    }
    started = time.perf_counter()
    proc = spawn(
        [sys.executable, "-m", "services.compute_provider"],
        work / "provider.log",
        env=child_env(settings, (), **env),
        cwd=REPO_ROOT,
    )
    try:
        if not wait_until(lambda: healthy(f"http://127.0.0.1:{port}/health"), 600, 0.05):
            raise SystemExit(f"provider did not start:\n{(work / 'provider.log').read_text()[-3000:]}")
        if fund:
            Compute(settings, USER).transfer(PROVIDER.address, 10**18)
        session = Compute(settings, USER).session(PROVIDER.address)
        session.openai_client().chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=8, temperature=0
        )
        return time.perf_counter() - started
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = local_settings(work, indexer_url=f"http://127.0.0.1:{free_port()}")
        checkpoint, _ = ensure_model(model_path(settings), settings.compute_model_name)
        with ChainNode(settings):
            deploy(settings)
            node_port = free_port()
            node = Daemon(
                "storage-0", "services.storage_miner", "127.0.0.1", node_port, {"ZG_STORAGE_PORT": str(node_port)}
            )
            indexer_port = int(settings.indexer_url.rsplit(":", 1)[1])
            indexer = Daemon(
                "indexer", "services.storage_miner.indexer", "127.0.0.1", indexer_port,
                {"ZG_INDEXER_PORT": str(indexer_port), "ZG_INDEXER_NODES": node.url},
            )  # fmt: skip
            start_daemon(settings, node, work / "node.log")
            start_daemon(settings, indexer, work / "indexer.log")
            try:
                rows = run(settings, work, checkpoint, args.runs)
            finally:
                stop(indexer.proc)
                stop(node.proc)
    size = checkpoint.stat().st_size
    print(f"model {settings.compute_model_name}: {size / 2**20:.2f} MiB checkpoint, {args.runs} runs each")
    base = rows[0][1]
    print(f"{'start from':<36} {'median s':>9} {'min s':>7} {'vs file':>8}")
    for name, values in rows:
        median = statistics.median(values)
        print(f"{name:<36} {median:>9.2f} {min(values):>7.2f} {median / statistics.median(base):>7.2f}x")


def run(settings: NetworkSettings, work: Path, checkpoint: Path, runs: int) -> list[tuple[str, list[float]]]:
    nodes = nodes_from_indexer(settings.indexer_url)
    lister, provider = Market(settings, LISTER), Market(settings, PROVIDER)
    params = ListingParams(Kind.MODEL, "bench-private", [], 0, 0, private=True, format="zerog-bytelm")
    private_id, _ = lister.publish(checkpoint, params, nodes)
    provider.buy(private_id)
    lister.grant(private_id, PROVIDER.address, nodes)
    public_root = upload(checkpoint, nodes, lister.w3, LISTER, lister.deployment).root
    # Untimed: the first start registers the service, then the user funds its sub-account and acknowledges it.
    first_answer(settings, work, "bench-local", ZG_COMPUTE_MODEL_PATH=str(checkpoint), fund=True)
    local, by_root, by_listing = [], [], []
    for _ in range(runs):
        local.append(first_answer(settings, work, "bench-local", ZG_COMPUTE_MODEL_PATH=str(checkpoint)))
        by_root.append(first_answer(settings, work, "bench-root", ZG_COMPUTE_MODEL_ROOT=public_root))
        by_listing.append(first_answer(settings, work, "bench-private", ZG_COMPUTE_LISTING=str(private_id)))
    return [
        ("local file (--model-path)", local),
        ("public root (--model-root)", by_root),
        ("private listing (--listing, granted)", by_listing),
    ]


if __name__ == "__main__":
    main()
