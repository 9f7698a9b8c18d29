"""What the task runner calls: the same dataset and hyperparameter checks as the user's client (the estimate it
checks against the fee cap), and one task's training through the FineTuner (resuming from its state directory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.compute_provider.finetune.trainer import FineTuner
from zerog.compute.finetune_data import DatasetError, HyperparameterError, parse_dataset, parse_hyperparameters

TRAINING_DIR = "training"
#: Steps between saved training states: what a provider killed mid-training redoes at most.
CHECKPOINT_EVERY = 10


def estimate_tokens(data: bytes, hyperparameters: str) -> int:
    """The most tokens the task trains: the dataset's tokens per epoch × epochs; ValueError if either is invalid."""
    try:
        dataset = parse_dataset(data, len(data))
        hyper = parse_hyperparameters(hyperparameters)
    except (DatasetError, HyperparameterError) as exc:
        raise ValueError(exc.message) from exc
    return dataset.tokens_per_epoch * hyper.epochs


def train_task(
    task: dict[str, Any], base: Path, data: bytes, workdir: Path, progress: Callable[[int, int, float], None]
) -> tuple[Path, int]:
    """Trains the task's adapter (resuming from `workdir` if a run was interrupted); (adapter file, tokens)."""
    tuner = FineTuner(
        base, task["base_model"], parse_dataset(data, len(data)), task["hyperparameters"], workdir / TRAINING_DIR,
        checkpoint_every=CHECKPOINT_EVERY, progress=lambda p: progress(p.step, p.steps, p.loss),
    )  # fmt: skip
    result = tuner.run()
    return result.adapter_path, result.tokens
