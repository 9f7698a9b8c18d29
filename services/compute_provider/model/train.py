"""Training a ByteLM on the project's own corpus, on CPU, deterministically (fixed seed and step count).

`ensure_model` is what the provider and `zg compute model train` call: it returns the checkpoint path,
training and caching it first if it is missing. A file lock makes concurrent callers (two providers starting
at once) train it only once.
"""

from __future__ import annotations

import fcntl
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from services.compute_provider.model.checkpoint import load_checkpoint, save_checkpoint
from services.compute_provider.model.corpus import build_corpus
from services.compute_provider.model.network import ByteLM, ModelConfig

log = logging.getLogger(__name__)

#: Progress callback: (step, steps, loss).
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained model: its shape and the training schedule."""

    config: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 600
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 20
    transcripts: int = 3000
    seed: int = 0
    threads: int = 2


#: Named recipes; the default model of the provider is the first.
RECIPES: dict[str, Recipe] = {
    # ~0.48M parameters; about 1.5 minutes on 2 idle CPU cores (final loss ~0.7 nats/byte: it answers the
    # corpus's questions about the stack word for word and writes README-like text otherwise).
    "zg-bytelm-tiny": Recipe(config=ModelConfig(block_size=128, n_layer=4, n_head=4, n_embd=96)),
    # For tests: trains in a few seconds, answers in gibberish.
    "zg-bytelm-test": Recipe(
        config=ModelConfig(block_size=64, n_layer=1, n_head=2, n_embd=32), steps=25, batch_size=16, transcripts=300
    ),
}


def train(recipe: Recipe, progress: Progress | None = None) -> tuple[ByteLM, dict[str, object]]:
    """Trains a fresh model by `recipe`; returns it (eval mode) and what to record in its checkpoint."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(recipe.threads)
    try:
        torch.manual_seed(recipe.seed)
        generator = torch.Generator().manual_seed(recipe.seed)
        data = torch.tensor(build_corpus(recipe.transcripts, recipe.seed), dtype=torch.long)
        block = recipe.config.block_size
        if len(data) <= block + 1:
            raise ValueError(f"corpus of {len(data)} tokens is shorter than one block of {block}")
        model = ByteLM(recipe.config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.01)
        offsets = torch.arange(block)
        started = time.monotonic()
        loss_value = math.nan
        model.train()
        for step in range(recipe.steps):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(recipe.learning_rate, step, recipe.steps, recipe.warmup_steps)
            starts = torch.randint(len(data) - block - 1, (recipe.batch_size,), generator=generator)
            index = starts.unsqueeze(1) + offsets
            loss = model.loss(data[index], data[index + 1])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            loss_value = float(loss.item())
            if progress is not None:
                progress(step + 1, recipe.steps, loss_value)
        model.eval()
        meta: dict[str, object] = {
            "steps": recipe.steps,
            "batch_size": recipe.batch_size,
            "seed": recipe.seed,
            "corpus_tokens": len(data),
            "final_loss": loss_value,
            "train_seconds": round(time.monotonic() - started, 1),
            "parameters": model.num_parameters(),
            "torch": str(torch.__version__),
        }
        return model, meta
    finally:
        torch.set_num_threads(previous_threads)


def learning_rate(peak: float, step: int, steps: int, warmup_steps: int) -> float:
    """At `step` of `steps`: linear warm-up to `peak`, then cosine decay to a tenth of it."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def recipe_for(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError as exc:
        known = ", ".join(sorted(RECIPES))
        raise ValueError(f"no training recipe for model {name!r} (known: {known}); give a checkpoint path") from exc


def ensure_model(path: Path, name: str, *, force: bool = False, progress: Progress | None = None) -> tuple[Path, bool]:
    """The checkpoint at `path`, trained by the recipe `name` first if missing (or if `force`).
    Returns (path, trained_now)."""
    recipe = recipe_for(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # someone else training the same model: wait for theirs
        if path.is_file() and not force:
            return path, False
        log.info("training %s into %s (%d steps)", name, path, recipe.steps)
        model, meta = train(recipe, progress)
        save_checkpoint(path, model, {"name": name, **meta})
        load_checkpoint(path)  # what we wrote must load
        log.info("trained %s: loss %.3f in %ss", name, meta["final_loss"], meta["train_seconds"])
        return path, True
