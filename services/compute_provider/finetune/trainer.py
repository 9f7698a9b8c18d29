"""Training a LoRA adapter of the provider's base model on a user's chat dataset, on CPU, deterministically (seeded
initialization, batch order and dropout).

Batches: each conversation's token sequence (the chat format of `zerog.compute.finetune_data`, loss on the
assistant's answers) is cut into windows of at most block_size + 1 tokens, consecutive windows sharing one token
(the last target of one is the first input of the next): every token is predicted at most once, the tokens
trained are exactly the dataset's, and a conversation starts at position 0 as a served prompt does. An epoch
visits every window once in a seeded order, `batch_size` windows a step, padded to the longest.

Crashes: every `checkpoint_every` steps the state (adapter weights, optimizer state, step, tokens, RNG state) is
written atomically into the work directory; a new FineTuner on the same directory, base and task continues from
it and ends as an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel, get_peft_model_state_dict, set_peft_model_state_dict
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812 - the conventional name

from services.compute_provider.finetune.lora import Adapter, LoraSpec, checkpoint_hash, save_adapter, with_lora
from services.compute_provider.model.checkpoint import load_checkpoint, load_tagged, save_atomically
from services.compute_provider.model.train import learning_rate
from zerog.compute.finetune_data import ChatDataset, Hyperparameters, parse_hyperparameters
from zerog.errors import ZeroGError

STATE_FORMAT = "zerog-finetune-state"
STATE_VERSION = 1
STATE_FILE = "state.pt"
ADAPTER_FILE = "adapter.pt"
#: Target of the positions without loss (F.cross_entropy's ignore_index).
IGNORE = -100


class FineTuneError(ZeroGError):
    """A fine-tuning run cannot start or resume."""


@dataclass(frozen=True)
class Progress:
    """After each step: the steps done of all, that step's loss, the tokens trained so far."""

    step: int
    steps: int
    loss: float
    tokens: int


@dataclass(frozen=True)
class Window:
    """A piece of one conversation: `tokens` (inputs, then the last target), whether each of `tokens[1:]` is a
    target, and how many of its tokens no earlier window of the conversation has."""

    tokens: list[int]
    targets: list[bool]
    counted: int


@dataclass(frozen=True)
class Batch:
    inputs: Tensor
    targets: Tensor
    tokens: int


@dataclass(frozen=True)
class FineTuneResult:
    """The adapter file and what trained it: steps and tokens of the whole task, its last loss, and the seconds
    this run took (a resumed run: since it resumed)."""

    adapter_path: Path
    steps: int
    tokens: int
    loss: float
    seconds: float


def windows(dataset: ChatDataset, block_size: int) -> list[Window]:
    pieces: list[Window] = []
    for chat in dataset.encoded():
        for start in range(0, len(chat.tokens) - 1, block_size):
            end = start + block_size + 1
            tokens = chat.tokens[start:end]
            pieces.append(Window(tokens, chat.targets[start + 1 : end], len(tokens) - (1 if start else 0)))
    return pieces


def make_batch(pieces: Sequence[Window]) -> Batch:
    length = max(len(w.tokens) for w in pieces) - 1
    inputs = torch.zeros((len(pieces), length), dtype=torch.long)  # padding after a window: causal, never seen
    targets = torch.full((len(pieces), length), IGNORE, dtype=torch.long)
    for row, window in enumerate(pieces):
        size = len(window.tokens) - 1
        inputs[row, :size] = torch.tensor(window.tokens[:-1])
        wanted = torch.tensor(window.tokens[1:])
        targets[row, :size] = torch.where(torch.tensor(window.targets), wanted, IGNORE)
    return Batch(inputs, targets, sum(w.counted for w in pieces))


def masked_loss(model: nn.Module, batch: Batch) -> Tensor:
    """Mean cross-entropy over the batch's targets (0 if it has none)."""
    logits, _ = model(batch.inputs)
    total = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch.targets.reshape(-1), reduction="sum")
    return total / max(1, int((batch.targets != IGNORE).sum()))


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, lr: float) -> float:
    """One optimizer step on `batch` at learning rate `lr` (gradients clipped to norm 1); returns its loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss = masked_loss(model, batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return float(loss.item())


class FineTuner:
    """Trains one task's adapter into `workdir` (its state while training, ADAPTER_FILE at the end)."""

    def __init__(
        self,
        base_path: Path,
        base_name: str,
        dataset: ChatDataset,
        hyperparameters: Hyperparameters | str,
        workdir: Path,
        *,
        checkpoint_every: int = 50,
        threads: int = 1,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if checkpoint_every < 1 or threads < 1:
            raise ValueError(f"checkpoint_every {checkpoint_every} and threads {threads} must be positive")
        if isinstance(hyperparameters, str):
            hyperparameters = parse_hyperparameters(hyperparameters)
        self.hyperparameters = hyperparameters
        self.base = load_checkpoint(base_path)
        self.base_name = base_name
        self.base_hash = checkpoint_hash(base_path)
        self.dataset = dataset
        self.workdir = workdir
        self.checkpoint_every = checkpoint_every
        self.threads = threads
        self.progress = progress
        self.windows = windows(dataset, self.base.config.block_size)
        self.steps_per_epoch = math.ceil(len(self.windows) / hyperparameters.batch_size)
        self.steps = min(hyperparameters.epochs * self.steps_per_epoch, hyperparameters.max_steps)
        self.spec = LoraSpec.of(hyperparameters)
        self._orders: dict[int, list[int]] = {}
        task = {
            "base": self.base_hash,
            "hyperparameters": hyperparameters.to_json(),
            "dataset": hashlib.sha256(json.dumps(dataset.conversations).encode()).hexdigest(),
        }
        self.fingerprint = hashlib.sha256(json.dumps(task, sort_keys=True).encode()).hexdigest()

    @property
    def state_path(self) -> Path:
        return self.workdir / STATE_FILE

    @property
    def adapter_path(self) -> Path:
        return self.workdir / ADAPTER_FILE

    def batch(self, step: int) -> Batch:
        """The batch of `step` (0-based): a function of the seed and the step only, so a resumed run sees the same."""
        epoch, index = divmod(step, self.steps_per_epoch)
        if epoch not in self._orders:
            rng = torch.Generator().manual_seed(self.hyperparameters.seed * 1000 + epoch)
            self._orders[epoch] = torch.randperm(len(self.windows), generator=rng).tolist()
        size = self.hyperparameters.batch_size
        return make_batch([self.windows[i] for i in self._orders[epoch][index * size : (index + 1) * size]])

    def learning_rate_at(self, step: int) -> float:
        return learning_rate(self.hyperparameters.learning_rate, step, self.steps, warmup_steps=self.steps // 10)

    def run(self) -> FineTuneResult:
        """Trains (from the saved state if there is one) to the last step, saves the adapter and returns it."""
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.random.fork_rng(devices=[]):  # dropout and LoRA init use the global generator, not ours
                torch.manual_seed(self.hyperparameters.seed)
                return self._train()
        finally:
            torch.set_num_threads(previous_threads)

    def _train(self) -> FineTuneResult:
        started = time.monotonic()
        model = with_lora(self.base.model(), self.spec)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], weight_decay=0.0)
        step, tokens, loss_value = self._resume(model, optimizer)
        model.train()
        while step < self.steps:
            batch = self.batch(step)
            loss_value = train_step(model, optimizer, batch, self.learning_rate_at(step))
            step, tokens = step + 1, tokens + batch.tokens
            if step % self.checkpoint_every == 0 or step == self.steps:
                self._save_state(model, optimizer, step, tokens, loss_value)
            if self.progress is not None:
                self.progress(Progress(step, self.steps, loss_value, tokens))
        meta = {
            "hyperparameters": self.hyperparameters.to_json(),
            "dataset_tokens_per_epoch": self.dataset.tokens_per_epoch,
            "steps": step,
            "tokens": tokens,
            "final_loss": loss_value,
            "torch": str(torch.__version__),
        }
        save_adapter(self.adapter_path, Adapter.of(model, self.spec, self.base_name, self.base_hash, meta))
        return FineTuneResult(self.adapter_path, step, tokens, loss_value, time.monotonic() - started)

    def _resume(self, model: PeftModel, optimizer: torch.optim.Optimizer) -> tuple[int, int, float]:
        """(step, tokens, loss) of the saved state, loaded into `model`, `optimizer` and the RNG; a fresh start if
        there is none."""
        if not self.state_path.is_file():
            return 0, 0, math.nan
        state = load_tagged(self.state_path, "training state", STATE_FORMAT, STATE_VERSION, FineTuneError)
        if state.get("fingerprint") != self.fingerprint:
            raise FineTuneError(f"{self.state_path} is the state of another task (base, dataset or hyperparameters)")
        try:
            set_peft_model_state_dict(model, state["adapter"])
            optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["rng"])
            return int(state["step"]), int(state["tokens"]), float(state["loss"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise FineTuneError(f"{self.state_path} is a malformed training state: {exc}") from exc

    def _save_state(
        self, model: PeftModel, optimizer: torch.optim.Optimizer, step: int, tokens: int, loss: float
    ) -> None:
        payload: dict[str, Any] = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "fingerprint": self.fingerprint,
            "step": step,
            "tokens": tokens,
            "loss": loss,
            "adapter": {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()},
            "optimizer": optimizer.state_dict(),
            "rng": torch.get_rng_state(),
        }
        save_atomically(self.state_path, payload)
