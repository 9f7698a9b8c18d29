"""Fine-tuning end to end as users run it: a dataset uploaded to Storage, `zg compute finetune create` against a
real provider daemon that trains a LoRA adapter of its (tiny) model, uploads it encrypted to the user and delivers
on chain; `get` decrypts and checks it and acknowledges; the provider settles. Bad input is refused before any
money moves, and a provider killed mid-training resumes and delivers once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from pydantic import SecretStr

from chain_node import ChainNode
from chain_node.process import wait_until
from services.compute_provider.finetune.engine import CHECKPOINT_EVERY
from services.compute_provider.finetune.lora import load_adapter, merged_checkpoint
from services.compute_provider.model.checkpoint import save_checkpoint
from services.compute_provider.model.network import ByteLM, ModelConfig
from tests.compute.provider_fixtures import ProviderDaemon, provider_settings
from tests.conftest import deployed_state, make_settings, tool_env
from tests.storage.node_fixtures import start_indexer, start_node
from zerog.accounts import dev_account
from zerog.compute.client import Compute
from zerog.devnet.settings import NetworkSettings
from zerog.finetune.client import FineTuning, FineTuningError, TaskState
from zerog.storage.client import nodes_from_indexer

ZG = str(Path(sys.executable).parent / "zg")
USER, OTHER, SERVER = dev_account(3), dev_account(4), dev_account(6)
PROVIDER = dev_account(2)
MODEL = "ft-tiny"
PRICE_WEI = 10**9
DEPOSIT_WEI = 10**17
CHAT_FUNDS_WEI = 10**16
PAIRS = [(f"What is the code of {name}?", f"{name[:2].upper()}{n}") for n, name in enumerate(
    ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"))]  # fmt: skip
HYPERPARAMETERS = {"epochs": 6, "learning_rate": 0.01, "batch_size": 4, "lora_rank": 4, "seed": 1}


@dataclass
class Net:
    settings: NetworkSettings
    provider: ProviderDaemon

    def zg(self, *args: str, account: Any = USER) -> subprocess.CompletedProcess[str]:
        env = tool_env(self.settings, ZG_PRIVATE_KEY=account.key.to_0x_hex())
        return subprocess.run([ZG, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    def ok(self, *args: str, account: Any = USER) -> Any:
        done = self.zg("--json", *args, account=account)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def fails(self, *args: str, account: Any = USER) -> str:
        done = self.zg(*args, account=account)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def upload(self, path: Path) -> str:
        return str(self.ok("storage", "upload", str(path))["root"])


def tiny_base(path: Path) -> Path:
    torch.manual_seed(0)
    save_checkpoint(path, ByteLM(ModelConfig(block_size=64, n_layer=1, n_head=2, n_embd=48)), {"name": MODEL})
    return path


def dataset_file(path: Path) -> Path:
    lines = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in PAIRS]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    tmp = tmp_path_factory.mktemp("finetune")
    settings = deployed_state(make_settings(tmp), tmp_path_factory)
    with ChainNode(settings):
        node = start_node(settings, "node")
        indexer = start_indexer(settings, [node.url])
        settings = settings.model_copy(update={"indexer_url": indexer.url})
        daemon_settings = provider_settings(
            settings, tmp / "provider", compute_fine_tuning=True, compute_model_path=tiny_base(tmp / "base.pt"),
            compute_model_name=MODEL, compute_finetune_price_wei=PRICE_WEI, poll_interval=0.2,
        )  # fmt: skip
        provider = ProviderDaemon(daemon_settings).start()
        Compute(settings, USER).deposit(DEPOSIT_WEI)
        try:
            yield Net(settings, provider)
        finally:
            provider.stop()
            indexer.stop()
            node.stop()


def wait_state(f: FineTuning, task_id: int, state: TaskState, timeout: float = 90) -> None:
    assert wait_until(lambda: f.task(task_id).state == state, timeout, 0.2), (f.task(task_id), state)


def test_finetune__trained_delivered_checked_acknowledged_settled(net: Net, tmp_path: Path) -> None:
    [service] = net.ok("compute", "finetune", "ls")
    assert (service["provider"], service["model"]) == (PROVIDER.address, MODEL)
    root = net.upload(dataset_file(tmp_path / "codes.jsonl"))
    f = FineTuning(net.settings, USER)
    before = f.ledger_balance()

    created = net.ok("compute", "finetune", "create", PROVIDER.address, "--dataset", root, "--hyperparameters",
                     json.dumps(HYPERPARAMETERS))  # fmt: skip
    task_id = int(created["taskId"])
    assert int(created["feeCap"]) == int(created["estimate"]) == created["tokens"] * PRICE_WEI
    assert f.ledger_balance() == before - int(created["feeCap"])  # reserved
    watched = net.ok("compute", "finetune", "status", str(task_id), "--watch")
    assert watched["state"] == "delivered"
    report = httpx.get(f"{net.provider.url}/v1/fine-tuning/tasks/{task_id}", timeout=5).json()
    assert report["step"] == report["steps"] > 1 and report["loss"] < report["firstLoss"], report
    status = net.ok("compute", "finetune", "status", str(task_id))
    assert status["state"] == "delivered" and status["progress"]["stage"] == "delivered"
    task = f.task(task_id)
    assert 0 < task.tokens <= created["tokens"] and task.fee == task.tokens * PRICE_WEI

    out = tmp_path / "adapter.pt"
    got = net.ok("compute", "finetune", "get", str(task_id), str(out))
    assert got["acknowledged"] is True
    adapter = load_adapter(out)  # data, not code; it merges into the base model
    merged = merged_checkpoint(net.provider.settings.compute_model_path, out)
    assert adapter is not None and merged.config.n_embd == 48
    assert "only its user" in net.fails("compute", "finetune", "get", str(task_id), str(tmp_path / "x"), account=OTHER)
    forged = replace(f.task(task_id), model_hash="0x" + "00" * 32)  # not what the provider's signer signed
    with pytest.raises(FineTuningError, match="signed by"):
        f.fetch_result(forged, tmp_path / "forged.pt", nodes_from_indexer(net.settings.indexer_url))
    assert not (tmp_path / "forged.pt").exists()

    # The result is served: a second provider merges the adapter (uploaded in the clear) into the same base model.
    adapter_root = net.upload(out)
    served = provider_settings(
        net.settings, tmp_path / "served", compute_model_path=net.provider.settings.compute_model_path,
        compute_model_name=f"{MODEL}-codes", compute_adapter_root=adapter_root,
        compute_provider_private_key=SecretStr(SERVER.key.to_0x_hex()),
    )  # fmt: skip
    server = ProviderDaemon(served).start()
    try:
        assert "merged the adapter" in server.log()
        chat = Compute(net.settings, USER)
        chat.transfer(SERVER.address, CHAT_FUNDS_WEI)
        answer = (
            chat.session(SERVER.address)
            .openai_client()
            .chat.completions.create(
                model=f"{MODEL}-codes", messages=[{"role": "user", "content": PAIRS[0][0]}], max_tokens=4, temperature=0
            )
        )
        assert answer.usage is not None and answer.usage.completion_tokens > 0
    finally:
        server.stop()

    wait_state(f, task_id, TaskState.SETTLED)
    assert f.ledger_balance() == before - task.fee - CHAT_FUNDS_WEI  # the rest of the cap came back
    assert int(f.contract.functions.earnings(PROVIDER.address).call()) >= task.fee
    assert "FineTuningWrongState" in net.fails("compute", "finetune", "cancel", str(task_id))


def test_finetune__bad_input_refused_before_any_money_moves(net: Net, tmp_path: Path) -> None:
    f = FineTuning(net.settings, USER)
    before, tasks = f.ledger_balance(), int(f.contract.functions.taskCount().call())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json\n')
    bad_root = net.upload(bad)
    error = net.fails("compute", "finetune", "create", PROVIDER.address, "--dataset", bad_root)
    assert "line 1" in error and "line 2" in error and "nothing was paid" in error
    good_root = net.upload(dataset_file(tmp_path / "codes.jsonl"))
    error = net.fails("compute", "finetune", "create", PROVIDER.address, "--dataset", good_root, "--max-fee", "1 wei")
    assert "below the estimate" in error
    error = net.fails("compute", "finetune", "create", PROVIDER.address, "--dataset", "0x" + "ab" * 32)
    assert "is not stored" in error
    error = net.fails("compute", "finetune", "create", PROVIDER.address, "--dataset", good_root, "--epochs", "99")
    assert "epochs" in error
    assert (f.ledger_balance(), int(f.contract.functions.taskCount().call())) == (before, tasks)


def test_finetune__provider_killed_mid_training_resumes_and_delivers_once(net: Net, tmp_path: Path) -> None:
    f = FineTuning(net.settings, USER)
    root = net.upload(dataset_file(tmp_path / "codes.jsonl"))
    slow = {**HYPERPARAMETERS, "epochs": 10, "batch_size": 1}
    created = net.ok("compute", "finetune", "create", PROVIDER.address, "--dataset", root, "--hyperparameters",
                     json.dumps(slow))  # fmt: skip
    task_id = int(created["taskId"])

    def training() -> bool:
        report = httpx.get(f"{net.provider.url}/v1/fine-tuning/tasks/{task_id}", timeout=5).json()
        return report.get("stage") == "training" and report.get("step", 0) >= CHECKPOINT_EVERY + 2

    assert wait_until(training, 60, 0.05), net.provider.log()
    net.provider.kill()
    net.provider.start()
    wait_state(f, task_id, TaskState.DELIVERED, 120)
    delivered = f.contract.events.TaskDelivered().get_logs(from_block=0, argument_filters={"taskId": task_id})
    assert len(delivered) == 1
    assert "resum" in net.provider.log(20000).lower()
