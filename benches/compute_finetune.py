"""Fine-tuning throughput on CPU: the bundled base model with a LoRA adapter against the same model fully fine-tuned
(every parameter trained), in the same run, on the same batches.

    .venv/bin/python benches/compute_finetune.py [--conversations 100] [--epochs 1] [--threads 1] [--repeats 3]

The base model is the provider's default (zg-bytelm-tiny), trained into the model cache first if missing. The
dataset is generated: one- or two-turn chats about made-up products, some with a system message, some longer than
a block (so they are cut into windows), validated by the SDK's parser. Default hyperparameters but the epochs.
Reported, tokens/s = tokens trained (the dataset's tokens × epochs) / wall seconds, median of the repeats:
- LoRA, engine:      FineTuner.run, as the provider runs it (state checkpoints, adapter file, setup included);
- LoRA, loop:        the engine's training step on a LoRA-wrapped model, nothing else;
- full, loop:        the same step, batches and learning rates on the plain model, every parameter trained.
The final loss (last step) is for orientation only: both loops use LoRA's default learning rate, too high when every
parameter trains.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from services.compute_provider.config import ProviderSettings, model_path  # noqa: E402
from services.compute_provider.finetune.lora import with_lora  # noqa: E402
from services.compute_provider.finetune.trainer import FineTuner, train_step  # noqa: E402
from services.compute_provider.model.train import ensure_model  # noqa: E402
from zerog.compute.finetune_data import ChatDataset, parse_dataset  # noqa: E402
from zerog.config import load_settings  # noqa: E402

PRODUCTS = ("lamp", "kettle", "bicycle", "umbrella", "notebook", "chair", "teapot", "backpack", "clock", "scarf")
COLORS = ("red", "teal", "amber", "violet", "grey", "olive")


def generated_dataset(count: int, seed: int = 0) -> ChatDataset:
    """`count` chats as a JSONL file, parsed as a user's client and the provider do."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": "You are the shop assistant of Quixotic Goods. Be precise."})
        for _turn in range(rng.choice((1, 1, 2))):
            product, color = rng.choice(PRODUCTS), rng.choice(COLORS)
            price, stock = rng.randint(5, 500), rng.randint(0, 40)
            question = f"How much is the {color} {product} (item {i})?"
            answer = f"The {color} {product} costs {price} tokens; {stock} are in stock."
            if rng.random() < 0.2:
                answer += f" It ships in {rng.randint(1, 9)} days and comes with a {rng.randint(1, 5)} year warranty."
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        lines.append(json.dumps({"messages": messages}))
    data = ("\n".join(lines) + "\n").encode()
    return parse_dataset(data, max_bytes=len(data))


def loop_seconds(tuner: FineTuner, lora: bool) -> tuple[float, float]:
    """Seconds and final loss of the engine's steps over `tuner`'s batches, LoRA or every parameter."""
    torch.manual_seed(tuner.hyperparameters.seed)
    model = tuner.base.model()
    if lora:
        model = with_lora(model, tuner.spec)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], weight_decay=0.0)
    model.train()
    loss = float("nan")
    started = time.perf_counter()
    for step in range(tuner.steps):
        loss = train_step(model, optimizer, tuner.batch(step), tuner.learning_rate_at(step))
    return time.perf_counter() - started, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(ProviderSettings)
    name = settings.compute_model_name
    base, _ = ensure_model(model_path(settings), name)
    dataset = generated_dataset(args.conversations)
    hyperparameters = json.dumps({"epochs": args.epochs})
    torch.set_num_threads(args.threads)
    rows: dict[str, list[tuple[float, float]]] = {"LoRA, engine": [], "LoRA, loop": [], "full, loop": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            started = time.perf_counter()
            tuner = FineTuner(base, name, dataset, hyperparameters, Path(tmp) / str(repeat), threads=args.threads)
            result = tuner.run()
            rows["LoRA, engine"].append((time.perf_counter() - started, result.loss))
            rows["LoRA, loop"].append(loop_seconds(tuner, lora=True))
            rows["full, loop"].append(loop_seconds(tuner, lora=False))
    tokens = dataset.tokens_per_epoch * args.epochs
    if result.tokens != tokens:
        raise SystemExit(f"the engine counted {result.tokens} tokens, the dataset has {tokens}")
    lora_model = with_lora(tuner.base.model(), tuner.spec)
    trainable = sum(p.numel() for p in lora_model.parameters() if p.requires_grad)
    print(
        f"base {name} ({tuner.base.model().num_parameters():,} parameters; LoRA rank {tuner.spec.rank}: "
        f"{trainable:,} trained), {len(dataset)} conversations, {dataset.tokens_per_epoch:,} tokens per epoch, "
        f"{args.epochs} epoch(s), {tuner.steps} steps of {tuner.hyperparameters.batch_size}, "
        f"{args.threads} torch thread(s), median of {args.repeats}"
    )
    print(f"{'':<16} {'tokens/s':>10} {'seconds':>9} {'final loss':>11}")
    speed = {}
    for label, runs in rows.items():
        seconds = statistics.median(s for s, _ in runs)
        speed[label] = tokens / seconds
        print(f"{label:<16} {speed[label]:>10,.0f} {seconds:>9.3f} {runs[-1][1]:>11.3f}")
    print(f"LoRA / full (loops): {speed['LoRA, loop'] / speed['full, loop']:.2f}x")


if __name__ == "__main__":
    main()
