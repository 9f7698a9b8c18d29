"""A whole fine-tuning task against a real provider daemon, and what the pipeline around the training costs.

    .venv/bin/python benches/compute_finetune_task.py [--conversations 2500] [--epochs 1]

One fresh bundled chain with the contracts deployed, one storage node and an indexer, and the provider (the
bundled base model, fine-tuning on) as real processes. The user uploads a generated JSONL chat dataset sized for
about a minute of training on 2 cores, creates the task with the CLI's checks (dataset read back from Storage,
validated, fee estimated), and the clock runs from `createTask`'s receipt to the delivery on chain; then `get`
(download, signature and hash checks, decryption) and `acknowledge`. The provider's progress endpoint, polled
every 50 ms, gives when training started and ended; everything else — picking the task up, reading and checking
the dataset, the start transaction, encrypting and uploading the adapter, signing and delivering — is the
pipeline's overhead, reported as a share of the task's time (target: under 20 % of a one-minute task).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from benches.common import healthy, local_settings, start_daemon  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from services.compute_provider.config import model_path  # noqa: E402
from services.compute_provider.model.train import ensure_model  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.compute import Compute  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy  # noqa: E402
from zerog.devnet.network import Daemon  # noqa: E402
from zerog.finetune.client import FineTuning, TaskState  # noqa: E402
from zerog.storage.client import nodes_from_indexer, upload  # noqa: E402

USER, PROVIDER = dev_account(3), dev_account(2)
WORDS = [
    "storage",
    "compute",
    "chain",
    "data",
    "availability",
    "signer",
    "miner",
    "epoch",
    "root",
    "segment",
    "voucher",
    "receipt",
]


def dataset(path: Path, conversations: int) -> Path:
    rng = random.Random(7)
    lines = []
    for n in range(conversations):
        question = f"What is the {rng.choice(WORDS)} number {n}?"
        answer = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))
        lines.append({"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=2500)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = local_settings(work, indexer_url=f"http://127.0.0.1:{free_port()}", poll_interval=0.1)
        checkpoint, _ = ensure_model(model_path(settings), settings.compute_model_name)
        with ChainNode(settings):
            deploy(settings)
            node_port, indexer_port, provider_port = (
                free_port(),
                int(settings.indexer_url.rsplit(":", 1)[1]),
                free_port(),
            )
            node = Daemon(
                "storage-0", "services.storage_miner", "127.0.0.1", node_port, {"ZG_STORAGE_PORT": str(node_port)}
            )
            indexer = Daemon(
                "indexer", "services.storage_miner.indexer", "127.0.0.1", indexer_port,
                {"ZG_INDEXER_PORT": str(indexer_port), "ZG_INDEXER_NODES": node.url},
            )  # fmt: skip
            start_daemon(settings, node, work / "node.log")
            start_daemon(settings, indexer, work / "indexer.log")
            env = {
                "ZG_COMPUTE_PORT": str(provider_port), "ZG_COMPUTE_FINE_TUNING": "true",
                "ZG_COMPUTE_MODEL_PATH": str(checkpoint), "ZG_COMPUTE_FINETUNE_PRICE_WEI": "1000",
            }  # fmt: skip
            provider = spawn(
                [sys.executable, "-m", "services.compute_provider"], work / "provider.log",
                env=child_env(settings, (), **env), cwd=REPO_ROOT,
            )  # fmt: skip
            try:
                url = f"http://127.0.0.1:{provider_port}"
                if not wait_until(lambda: healthy(f"{url}/health"), 120, 0.2):
                    raise SystemExit((work / "provider.log").read_text()[-3000:])
                run(settings, work, url, args.conversations, args.epochs)
            finally:
                stop(provider)
                stop(indexer.proc)
                stop(node.proc)


def run(settings, work: Path, url: str, conversations: int, epochs: int) -> None:  # type: ignore[no-untyped-def]
    Compute(settings, USER).deposit(10**18)
    f = FineTuning(settings, USER)
    nodes = nodes_from_indexer(settings.indexer_url)
    data = dataset(work / "chats.jsonl", conversations)
    root = upload(data, nodes, f.w3, USER, f.deployment).root
    service = f.service(PROVIDER.address)
    started = time.perf_counter()
    plan = f.plan(service, root, nodes, {"epochs": epochs})
    planned = time.perf_counter()
    task_id, _ = f.create(
        PROVIDER.address, root, plan.dataset_size, plan.base_model, plan.hyperparameters, plan.estimate
    )
    created = time.perf_counter()
    train_start = train_end = None
    while True:
        report = httpx.get(f"{url}/v1/fine-tuning/tasks/{task_id}", timeout=5).json()
        now = time.perf_counter()
        if train_start is None and report.get("step", 0) >= 1:
            train_start = now
        if train_end is None and report.get("stage") in ("uploading", "delivering", "delivered"):
            train_end = now
        if f.task(task_id).state == TaskState.DELIVERED:
            delivered = time.perf_counter()
            break
        time.sleep(0.05)
    task = f.task(task_id)
    f.fetch_result(task, work / "adapter.pt", nodes)
    f.acknowledge(task_id)
    done = time.perf_counter()
    assert train_start is not None and train_end is not None
    total = delivered - created
    training = train_end - train_start
    print(f"dataset {data.stat().st_size} bytes, {plan.tokens} tokens ({epochs} epochs); trained {task.tokens} tokens")
    print(f"client checks before paying (read + validate + estimate): {planned - started:6.2f} s")
    print(f"createTask receipt → delivered on chain:                   {total:6.2f} s")
    print(
        f"  training (first step → adapter saved):                  {training:6.2f} s "
        f"({task.tokens / training:,.0f} tokens/s)"
    )
    print(
        f"  pipeline overhead (pick-up, dataset, start, upload, deliver): {total - training:6.2f} s "
        f"= {100 * (total - training) / total:.1f} % of the task"
    )
    print(f"get (signature, download, decrypt, hash) + acknowledge:    {done - delivered:6.2f} s")


if __name__ == "__main__":
    main()
