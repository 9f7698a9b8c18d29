"""`zg demo`: the whole stack on the running local network, one step after another — a dataset and a model
uploaded to Storage and listed on the marketplace, a second provider that buys the model's key, fetches it from
Storage and serves it, a user who buys the dataset and pays for a chat, and a DA blob attested by the signers.

Every step reports what it did and the transactions it sent, so the CLI can print explorer links (or hashes).
Dev accounts only: the demo refuses any network but the local one.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chain_node.process import free_port, spawn, stop, wait_until
from services.compute_provider.config import model_path
from zerog.accounts import dev_account, load_account
from zerog.compute.client import Compute
from zerog.config import ETHER
from zerog.da.client import DAClient
from zerog.devnet.deploy import REPO_ROOT, child_env
from zerog.devnet.network import COMPUTE_START_TIMEOUT_SECONDS, Daemon, UpError
from zerog.devnet.settings import NetworkSettings
from zerog.errors import ConfigError
from zerog.market.client import Market
from zerog.market.records import Kind, ListingParams
from zerog.storage.client import nodes_from_indexer

#: Dev accounts of the demo's lister and of its second provider (0 is the user; 1-6 and 8 run the network).
LISTER_INDEX = 7
PROVIDER_INDEX = 9
DATASET_PRICE = ETHER // 1000
MODEL_PRICE = ETHER // 100
CHAT_FUNDS = ETHER // 10
DATASET_LINES = 64
CHAT_PROMPT = "Hello! What is 0G?"
CHAT_MAX_TOKENS = 48


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)
    txs: list[tuple[str, str]] = field(default_factory=list)  # (what, tx hash)
    listing: int | None = None
    storage_root: str | None = None
    da_root: str | None = None


Report = Callable[[Step], None]


def _tx(receipt: object) -> str:
    return receipt["transactionHash"].to_0x_hex()  # type: ignore[index]


def _dataset(path: Path) -> Path:
    lines = [
        {"messages": [{"role": "user", "content": f"What is {n} + {n}?"}, {"role": "assistant", "content": str(2 * n)}]}
        for n in range(DATASET_LINES)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@contextmanager
def _provider(settings: NetworkSettings, listing: int, workdir: Path) -> Iterator[Daemon]:
    """A second provider (dev account PROVIDER_INDEX) serving `listing`, stopped afterwards."""
    port = free_port()
    daemon = Daemon(
        "demo-provider", "services.compute_provider", settings.compute_host, port,
        start_timeout=COMPUTE_START_TIMEOUT_SECONDS,
    )  # fmt: skip
    env = {
        "ZG_COMPUTE_PORT": str(port),
        "ZG_COMPUTE_URL": daemon.url,
        "ZG_COMPUTE_LISTING": str(listing),
        "ZG_COMPUTE_MODEL_DIR": str(workdir / "models"),
        "ZG_COMPUTE_PROVIDER_PRIVATE_KEY": dev_account(PROVIDER_INDEX).key.to_0x_hex(),
    }
    log = workdir / "demo-provider.log"
    daemon.proc = spawn([sys.executable, "-m", daemon.module], log, env=child_env(settings, (), **env), cwd=REPO_ROOT)
    try:

        def healthy() -> bool:
            if daemon.proc is not None and daemon.proc.poll() is not None:
                raise UpError(f"the demo provider exited with code {daemon.proc.returncode}; see {log}")
            return Compute(settings).serving.functions.isRegistered(dev_account(PROVIDER_INDEX).address).call() and (
                _answers(daemon.health_url)
            )

        if not wait_until(healthy, daemon.start_timeout, 0.5):
            raise UpError(f"the demo provider did not start; see {log}")
        yield daemon
    finally:
        stop(daemon.proc, signal.SIGINT)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run_demo(settings: NetworkSettings, report: Report) -> None:
    """Runs every step against the running local network, reporting each as it completes."""
    if not settings.is_local:
        raise ConfigError("the demo uses dev accounts: it runs only on the local network (`zg up`)")
    checkpoint = model_path(settings)
    if not checkpoint.is_file():
        raise ConfigError(f"no model checkpoint at {checkpoint}: start `zg up` (its provider trains it) first")
    workdir = settings.data_dir / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    nodes = nodes_from_indexer(settings.indexer_url)
    lister = Market(settings, dev_account(LISTER_INDEX))
    buyer_provider = Market(settings, dev_account(PROVIDER_INDEX), w3=lister.w3, deployment=lister.deployment)
    user_account = load_account(settings)
    user = Market(settings, user_account, w3=lister.w3, deployment=lister.deployment)

    dataset = _dataset(workdir / "demo-chats.jsonl")
    params = ListingParams(
        Kind.DATASET, "demo-chats", [], 0, DATASET_PRICE, description="Sums as chats, one JSON line each.",
        license="CC0-1.0", format="jsonl-chat",
    )  # fmt: skip
    dataset_id, receipt = lister.publish(dataset, params, nodes)
    item = lister.listing(dataset_id)
    step = Step("Dataset uploaded to Storage and listed", listing=dataset_id, storage_root=item.roots[0])
    step.lines.append(f"#{dataset_id} {item.name}: {item.size} bytes, public, {DATASET_PRICE / ETHER:g} 0G")
    step.txs.append(("list", _tx(receipt)))
    report(step)

    params = ListingParams(
        Kind.MODEL, "zg-bytelm-demo", [], 0, MODEL_PRICE, private=True,
        description="The bundled byte-level model, encrypted on Storage.", license="MIT", format="zerog-bytelm",
    )  # fmt: skip
    model_id, receipt = lister.publish(checkpoint, params, nodes)
    item = lister.listing(model_id)
    step = Step("Model uploaded encrypted and listed (private)", listing=model_id, storage_root=item.roots[0])
    step.lines.append(f"#{model_id} {item.name}: {item.size} bytes, {MODEL_PRICE / ETHER:g} 0G")
    step.txs.append(("list", _tx(receipt)))
    report(step)

    bought = buyer_provider.buy(model_id)
    granted = lister.grant(model_id, buyer_provider.address, nodes)
    step = Step("A provider bought the model; the lister sealed its key to the provider", listing=model_id)
    step.lines.append(f"provider {buyer_provider.address}: payment escrowed, released by the grant")
    step.txs += [("buy", _tx(bought)), ("grant", _tx(granted))]
    report(step)

    with _provider(settings, model_id, workdir) as provider:
        services = user.services(model_id)
        step = Step("The provider fetched the model from Storage, decrypted it and serves it", listing=model_id)
        step.lines += [f"{s.model} at {s.url} (provider {s.provider})" for s in services] or ["(not linked?)"]
        step.lines.append(f"started at {provider.url}; log in {workdir / 'demo-provider.log'}")
        report(step)

        bought = user.buy(dataset_id)
        copy = workdir / "demo-chats.copy.jsonl"
        user.get(dataset_id, copy, nodes, overwrite=True)
        step = Step("You bought the dataset and downloaded it (proof- and hash-checked)", listing=dataset_id)
        step.lines.append(
            f"{copy} ({copy.stat().st_size} bytes, identical: {copy.read_bytes() == dataset.read_bytes()})"
        )
        step.txs.append(("buy", _tx(bought)))
        report(step)

        compute = Compute(settings, user_account, w3=lister.w3, deployment=lister.deployment)
        receipts = compute.transfer(buyer_provider.address, CHAT_FUNDS)
        session = compute.session(buyer_provider.address)
        answer = session.openai_client().chat.completions.create(
            model="zg-bytelm-demo", messages=[{"role": "user", "content": CHAT_PROMPT}], max_tokens=CHAT_MAX_TOKENS
        )
        text = (answer.choices[0].message.content or "").strip()
        step = Step("A paid chat with the model served from Storage")
        step.lines += [f"you: {CHAT_PROMPT}", f"zg-bytelm-demo: {text!r}"]
        step.lines.append(f"signed receipt: {session.receipts[-1].fee} wei for {answer.usage.total_tokens} tokens")  # type: ignore[union-attr]
        step.txs += [("fund", _tx(r)) for r in receipts]
        report(step)

    with DAClient(settings, user_account) as da:
        put = da.put(dataset.read_bytes()[:4096])
    step = Step("A DA blob attested by the signers", da_root=put.data_root)
    step.lines.append(
        f"data root {put.data_root}, epoch {put.epoch}, {put.signed_stake} of {put.total_stake} wei of stake"
    )
    step.txs += [(what, tx) for what, tx in (("upload", put.upload_tx), ("verify", put.verify_tx)) if tx]
    report(step)
