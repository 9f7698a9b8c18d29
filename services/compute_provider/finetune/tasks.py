"""The provider's fine-tuning tasks: picked up from TaskCreated events (the shared follower), then worked one at a
time through persisted stages, so a restart resumes where the daemon stopped and delivers once:

queued → (dataset read from Storage, every segment proof-checked, validated; the fee estimate within the cap —
else the task is refused on chain and the reservation goes back) → start on chain → training (LoRA adapter,
checkpointed; a restart resumes from the last checkpoint) → uploading (the adapter v2-encrypted to the user's
public key, through the submit journal: never paid twice) → delivering (the signer's EIP-712 Delivery; skipped if
the chain shows the task delivered) → delivered → settled (once the user acknowledged, or the acknowledgement
timeout passed).

Failures that are the task's (the deadline passed, the user cancelled) end it; a chain or storage outage only
delays it (retried every `poll_interval`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from services.common.store import SqliteStore
from zerog.errors import ZeroGError
from zerog.finetune.client import FineTuning, Task, TaskState
from zerog.storage.client import nodes_from_indexer, upload
from zerog.storage.encryption import Encryptor
from zerog.storage.journal import SubmitJournal
from zerog.storage.merkle import keccak256

log = logging.getLogger(__name__)

FOLLOWER_NAME = "fine-tuning-tasks"
#: Local stages, in order; the last three end a task.
QUEUED, TRAINING, UPLOADING, DELIVERING, DELIVERED = "queued", "training", "uploading", "delivering", "delivered"
SETTLED, REFUSED, ENDED = "settled", "refused", "ended"
WORKING = (QUEUED, TRAINING, UPLOADING, DELIVERING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS finetune_tasks (
    id INTEGER PRIMARY KEY,               -- the contract's task id
    user TEXT NOT NULL,
    dataset_root TEXT NOT NULL,
    dataset_size INTEGER NOT NULL,
    base_model TEXT NOT NULL,
    hyperparameters TEXT NOT NULL,
    fee_cap TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    block_number INTEGER NOT NULL,        -- of TaskCreated (a reorg below it forgets a task not yet started)
    stage TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    loss REAL,
    first_loss REAL,                      -- of the first step: with `loss`, how far training went
    tokens INTEGER NOT NULL DEFAULT 0,
    model_root TEXT,
    model_hash TEXT,
    error TEXT,
    updated_at REAL NOT NULL
);
"""

#: train(task, base checkpoint, dataset bytes, work dir, progress(step, steps, loss)) -> (adapter file, tokens)
Train = Callable[[dict[str, Any], Path, bytes, Path, Callable[[int, int, float], None]], tuple[Path, int]]
#: estimate(dataset bytes, hyperparameters JSON) -> tokens the task will train (raises ValueError if invalid)
Estimate = Callable[[bytes, str], int]


class TaskStore(SqliteStore):
    SCHEMA = _SCHEMA

    def add(self, conn: Any, event: Any) -> None:
        args = event["args"]
        conn.execute(
            "INSERT OR IGNORE INTO finetune_tasks (id, user, dataset_root, dataset_size, base_model, hyperparameters,"
            " fee_cap, deadline, block_number, stage, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                int(args["taskId"]), args["user"], "0x" + bytes(args["datasetRoot"]).hex(), int(args["datasetSize"]),
                args["baseModel"], args["hyperparameters"], str(args["feeCap"]), int(args["deadline"]),
                int(event["blockNumber"]), QUEUED, time.time(),
            ),
        )  # fmt: skip

    def rollback(self, conn: Any, block: int) -> None:
        conn.execute("DELETE FROM finetune_tasks WHERE block_number >= ? AND stage = ?", (block, QUEUED))

    def update(self, task_id: int, **fields: Any) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE finetune_tasks SET {names}, updated_at = ? WHERE id = ?",  # noqa: S608 - names are ours
                (*fields.values(), time.time(), task_id),
            )

    def get(self, task_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM finetune_tasks WHERE id = ?", (task_id,)).fetchone()
        return dict(row) if row else None

    def in_stages(self, *stages: str) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(stages))
        with self.lock:
            rows = self.conn.execute(
                f"SELECT * FROM finetune_tasks WHERE stage IN ({marks}) ORDER BY id",  # noqa: S608 - marks only
                stages,
            ).fetchall()
        return [dict(r) for r in rows]

    def all(self, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute("SELECT * FROM finetune_tasks ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]


def task_view(row: dict[str, Any]) -> dict[str, Any]:
    """What GET /v1/fine-tuning/tasks/{id} answers."""
    return {
        "id": row["id"],
        "user": row["user"],
        "stage": row["stage"],
        "step": row["step"],
        "steps": row["steps"],
        "loss": row["loss"],
        "firstLoss": row["first_loss"],
        "tokens": row["tokens"],
        "modelRoot": row["model_root"],
        "error": row["error"],
        "updatedAt": row["updated_at"],
    }


@dataclass
class TaskRunner:
    """Works the tasks of `store` in a thread; `fine_tuning` is the provider's client, `signer` signs deliveries."""

    store: TaskStore
    fine_tuning: FineTuning
    signer: LocalAccount
    base_checkpoint: Path
    workdir: Path
    indexer_url: str
    max_dataset_size: int
    poll_interval: float
    train: Train
    estimate: Estimate

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed: set[int] = set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="finetune-tasks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.step()
            except ZeroGError as exc:  # an outage: nothing is lost, the stage is retried
                log.warning("fine-tuning: %s; retrying", exc.message)
                worked = False
            if not worked:
                self._stop.wait(self.poll_interval)

    def step(self) -> bool:
        """Advances the oldest working task by one stage, or settles delivered ones; False if nothing moved."""
        working = self.store.in_stages(*WORKING)
        if working:
            self._advance(working[0])
            return True
        return any([self._settle(row) for row in self.store.in_stages(DELIVERED)])

    def _advance(self, row: dict[str, Any]) -> None:
        task = self.fine_tuning.task(row["id"])
        if task.state in (TaskState.CANCELLED, TaskState.TIMED_OUT, TaskState.SETTLED):
            self.store.update(row["id"], stage=ENDED, error=f"the task is {task.state.label} on chain")
            return
        stage = row["stage"]
        if stage == QUEUED:
            self._accept(row, task)
        elif stage == TRAINING:
            self._train(row)
        elif stage == UPLOADING:
            self._upload(row)
        elif stage == DELIVERING:
            self._deliver(row, task)

    def _task_dir(self, task_id: int) -> Path:
        return self.workdir / f"task-{task_id}"

    def _accept(self, row: dict[str, Any], task: Task) -> None:
        if task.state == TaskState.IN_PROGRESS:  # started before a restart
            self.store.update(row["id"], stage=TRAINING)
            return
        if time.time() >= task.deadline:
            self.store.update(row["id"], stage=ENDED, error="the deadline passed before the task could start")
            return
        nodes = nodes_from_indexer(self.indexer_url)
        data = self.fine_tuning.read_dataset(row["dataset_root"], nodes, self.max_dataset_size)
        try:
            tokens = self.estimate(data, row["hyperparameters"])
        except ValueError as exc:
            self._refuse(row, f"the dataset or hyperparameters are not valid: {exc}")
            return
        if tokens * task.price_per_token > task.fee_cap:
            self._refuse(row, f"the fee ({tokens} tokens × {task.price_per_token} wei) exceeds the cap {task.fee_cap}")
            return
        directory = self._task_dir(row["id"])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "dataset.jsonl").write_bytes(data)
        self.fine_tuning.start(row["id"])
        self.store.update(row["id"], stage=TRAINING)
        log.info("fine-tuning task %d started (%d tokens to train)", row["id"], tokens)

    def _refuse(self, row: dict[str, Any], why: str) -> None:
        self.fine_tuning.refuse(row["id"])
        self.store.update(row["id"], stage=REFUSED, error=why)
        log.info("fine-tuning task %d refused: %s", row["id"], why)

    def _train(self, row: dict[str, Any]) -> None:
        directory = self._task_dir(row["id"])
        if row["step"] and row["id"] not in self._resumed:  # trained before this process: its checkpoint goes on
            self._resumed.add(row["id"])
            log.info("fine-tuning task %d: resuming training from its last checkpoint", row["id"])

        def progress(step: int, steps: int, loss: float) -> None:
            first = {"first_loss": loss} if step == 1 else {}
            self.store.update(row["id"], step=step, steps=steps, loss=loss, **first)
            if self._stop.is_set():
                raise InterruptedError("the provider is stopping")  # the trainer's checkpoint lets it resume

        try:
            adapter, tokens = self.train(
                row, self.base_checkpoint, (directory / "dataset.jsonl").read_bytes(), directory, progress
            )
        except InterruptedError:
            return
        adapter.replace(directory / "adapter.pt")
        self.store.update(row["id"], stage=UPLOADING, tokens=tokens)
        log.info("fine-tuning task %d trained (%d tokens)", row["id"], tokens)

    def _upload(self, row: dict[str, Any]) -> None:
        adapter = self._task_dir(row["id"]) / "adapter.pt"
        user_key = self.fine_tuning.user_public_key(row["id"])
        nodes = nodes_from_indexer(self.indexer_url)
        journal = SubmitJournal.in_data_dir(self.workdir, self.fine_tuning.deployment)
        result = upload(
            adapter, nodes, self.fine_tuning.w3, self.fine_tuning.account, self.fine_tuning.deployment,
            journal=journal, encryption=Encryptor.ecies(user_key),
        )  # fmt: skip
        digest = "0x" + keccak256(adapter.read_bytes()).hex()
        self.store.update(row["id"], stage=DELIVERING, model_root=result.root, model_hash=digest)

    def _deliver(self, row: dict[str, Any], task: Task) -> None:
        if task.state == TaskState.IN_PROGRESS:
            model_hash = bytes.fromhex(row["model_hash"][2:])
            signature = self.fine_tuning.delivery_signature(
                self.signer, task, row["model_root"], model_hash, row["tokens"]
            )
            self.fine_tuning.deliver(row["id"], row["model_root"], model_hash, row["tokens"], signature)
            log.info("fine-tuning task %d delivered as %s", row["id"], row["model_root"])
        self.store.update(row["id"], stage=DELIVERED)

    def _settle(self, row: dict[str, Any]) -> bool:
        task = self.fine_tuning.task(row["id"])
        if task.state == TaskState.SETTLED:
            self.store.update(row["id"], stage=SETTLED)
            return True
        ack_timeout = int(self.fine_tuning.contract.functions.ackTimeout().call())
        if task.state == TaskState.ACKNOWLEDGED or (
            task.state == TaskState.DELIVERED and time.time() >= task.delivered_at + ack_timeout
        ):
            self.fine_tuning.settle(row["id"])
            self.store.update(row["id"], stage=SETTLED)
            log.info("fine-tuning task %d settled (%s)", row["id"], task.state.label)
            return True
        return False
