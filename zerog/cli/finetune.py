"""`zg compute finetune`: fine-tuning tasks — a dataset on Storage, a task on chain, the provider trains, the
result comes back encrypted to you, and you acknowledge it once it checks out."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zerog.cli.context import CliContext, with_client
from zerog.cli.storage import node_option, storage_nodes
from zerog.cli.units import AMOUNT, og

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from zerog.finetune.client import FineTuning, Task

#: Seconds between looks at a task with `status --watch`.
WATCH_SECONDS = 1.0


with_finetune = with_client("zerog.finetune.client:FineTuning")


def _tx(receipt: TxReceipt) -> str:
    return receipt["transactionHash"].to_0x_hex()


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@click.group()
def finetune() -> None:
    """Fine-tuning: train a provider's model on your dataset from Storage; pay for the tokens trained."""


@finetune.command("ls")
@with_finetune
def list_services(ctx: CliContext, f: FineTuning) -> None:
    """List the fine-tuning services registered on chain."""
    services = f.services()
    lines = [
        f"[bold]{s.provider}[/bold]  base model {s.model}, {og(s.price_per_token)} per token trained\n"
        f"  datasets up to {s.max_dataset_size} bytes, done within {s.max_duration} s, at {s.url}"
        for s in services
    ]
    ctx.emit([s.to_json() for s in services], "\n".join(lines) or "no fine-tuning service is registered")


@finetune.command("create")
@click.argument("provider")
@click.option("--dataset", "dataset_root", required=True, help="Root of the JSONL chat dataset on Storage.")
@click.option("--base-model", help="The model to fine-tune (default: the service's).")
@click.option("--epochs", type=click.IntRange(min=1), help="Passes over the dataset (default 1).")
@click.option("--hyperparameters", "hyper_json", help='More as JSON, e.g. {"learning_rate": 0.001, "lora_rank": 8}.')
@click.option("--max-fee", type=AMOUNT, help="Fee cap (default: the estimate). Reserved from your ledger.")
@node_option
@with_finetune
def create(
    ctx: CliContext,
    f: FineTuning,
    provider: str,
    dataset_root: str,
    base_model: str | None,
    epochs: int | None,
    hyper_json: str | None,
    max_fee: int | None,
    node_urls: tuple[str, ...],
) -> None:
    """Create a task for PROVIDER on a dataset stored on Storage. The dataset is read (proof-checked) and
    validated and the fee estimated before anything is paid; the fee cap is reserved from your ledger balance."""
    service = f.service(provider)
    try:
        hyperparameters = json.loads(hyper_json) if hyper_json else {}
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--hyperparameters") from exc
    if not isinstance(hyperparameters, dict):
        raise click.BadParameter('a JSON object, e.g. {"epochs": 2}', param_hint="--hyperparameters")
    if epochs is not None:
        hyperparameters["epochs"] = epochs
    plan = f.plan(service, dataset_root, storage_nodes(ctx, node_urls), hyperparameters, base_model)
    cap = plan.estimate if max_fee is None else max_fee
    if cap < plan.estimate:
        raise click.ClickException(
            f"--max-fee {og(cap)} is below the estimate {og(plan.estimate)} ({plan.tokens} tokens × "
            f"{og(service.price_per_token)}): nothing was reserved"
        )
    task_id, receipt = f.create(provider, dataset_root, plan.dataset_size, plan.base_model, plan.hyperparameters, cap)
    data = {
        "taskId": task_id, "provider": service.provider, "tokens": plan.tokens, "estimate": str(plan.estimate),
        "feeCap": str(cap), "txHash": _tx(receipt),
    }  # fmt: skip
    text = (
        f"task {task_id}: {plan.tokens} tokens to train, estimated {og(plan.estimate)}, {og(cap)} reserved\n"
        f"follow it with `zg compute finetune status {task_id} --watch`"
    )
    ctx.emit(data, text)


def _progress_line(task: Task, report: dict[str, Any] | None) -> str:
    line = f"task {task.id}: {task.state.label}"
    if report is not None:
        line += f" (provider: {report['stage']}"
        if report.get("steps"):
            loss = f", loss {report['loss']:.3f}" if report.get("loss") is not None else ""
            line += f", step {report['step']}/{report['steps']}{loss}"
        line += f"; {report['error']})" if report.get("error") else ")"
    return line


@finetune.command("status")
@click.argument("task_id", metavar="TASK", type=click.IntRange(min=1))
@click.option("--watch", is_flag=True, help="Follow it until it is delivered or ends.")
@with_finetune
def status(ctx: CliContext, f: FineTuning, task_id: int, watch: bool) -> None:
    """A task's state on chain and the provider's progress (stage, training step, loss)."""
    from zerog.finetune.client import TaskState

    task = f.task(task_id)
    report = f.progress(task)
    if watch:
        task, report = _watch(ctx, f, task, report)
    lines = [_progress_line(task, report), f"  deadline {_when(task.deadline)}, fee cap {og(task.fee_cap)}"]
    if task.state >= TaskState.DELIVERED and task.state not in (TaskState.CANCELLED, TaskState.TIMED_OUT):
        lines.append(f"  result {task.model_root}: {task.tokens} tokens, fee {og(task.fee)}")
        lines.append(f"  get it with `zg compute finetune get {task.id} OUT`")
    ctx.emit({**task.to_json(), "progress": report}, "\n".join(lines))


def _watch(ctx: CliContext, f: FineTuning, task: Task, report: dict[str, Any] | None) -> tuple[Task, Any]:
    """Follows the task until it leaves Created/InProgress (or the provider gave up on it), with a progress bar
    of its training steps."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from zerog.finetune.client import TaskState

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}")]
    with Progress(*columns, console=ctx.console, transient=True, disable=ctx.as_json) as bar:
        shown = bar.add_task(f"task {task.id}", total=None, loss="")
        while task.state in (TaskState.CREATED, TaskState.IN_PROGRESS):
            if report is not None:
                loss = f"loss {report['loss']:.3f}" if report.get("loss") is not None else ""
                bar.update(
                    shown, description=f"task {task.id}: {report['stage']}", total=report.get("steps") or None,
                    completed=report.get("step", 0), loss=loss,
                )  # fmt: skip
                if report.get("stage") in ("refused", "ended"):
                    break
            time.sleep(WATCH_SECONDS)
            task = f.task(task.id)
            report = f.progress(task)
    return task, report


@finetune.command("get")
@click.argument("task_id", metavar="TASK", type=click.IntRange(min=1))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--no-ack", is_flag=True, help="Only download and check; acknowledge later.")
@node_option
@with_finetune
def get(
    ctx: CliContext, f: FineTuning, task_id: int, out: Path, overwrite: bool, no_ack: bool, node_urls: tuple[str, ...]
) -> None:
    """Download TASK's result, decrypt it with your key, check it against the hash the provider's signer signed,
    write it to OUT, then acknowledge on chain (which pays the provider). A result that does not check out is
    neither written nor acknowledged."""
    from zerog.finetune.client import TaskState

    task = f.task(task_id)
    f.fetch_result(task, out, storage_nodes(ctx, node_urls), overwrite=overwrite)
    data: dict[str, Any] = {"taskId": task_id, "path": str(out), "modelRoot": task.model_root, "acknowledged": False}
    text = f"wrote the result of task {task_id} to {out} (decrypted; matches what the provider signed)"
    if task.state == TaskState.DELIVERED and not no_ack:
        receipt = f.acknowledge(task_id)
        data.update(acknowledged=True, txHash=_tx(receipt))
        text += f"\nacknowledged: the provider is paid {og(task.fee)}, the rest of the cap comes back to your ledger"
    ctx.emit(data, text)


@finetune.command("cancel")
@click.argument("task_id", metavar="TASK", type=click.IntRange(min=1))
@with_finetune
def cancel(ctx: CliContext, f: FineTuning, task_id: int) -> None:
    """Cancel a task the provider has not started; its reservation returns to your ledger."""
    task = f.task(task_id)
    receipt = f.cancel(task_id)
    ctx.emit(
        {"taskId": task_id, "refunded": str(task.fee_cap), "txHash": _tx(receipt)},
        f"cancelled task {task_id}: {og(task.fee_cap)} back in your ledger",
    )


@finetune.command("timeout")
@click.argument("task_id", metavar="TASK", type=click.IntRange(min=1))
@with_finetune
def timeout(ctx: CliContext, f: FineTuning, task_id: int) -> None:
    """End a task whose deadline passed undelivered: the reservation and part of the provider's stake return."""
    receipt = f.claim_timeout(task_id)
    (event,) = f.contract.events.TaskTimedOut().process_receipt(receipt)
    refunded, slashed = int(event["args"]["refunded"]), int(event["args"]["slashed"])
    ctx.emit(
        {"taskId": task_id, "refunded": str(refunded), "slashed": str(slashed), "txHash": _tx(receipt)},
        f"task {task_id} timed out: {og(refunded)} back in your ledger, {og(slashed)} of it from the provider's stake",
    )
