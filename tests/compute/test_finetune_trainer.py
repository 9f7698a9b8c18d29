"""The provider's fine-tuning engine on real torch and peft, with a tiny ByteLM as the base: training lowers the loss
and moves the greedy answers to the dataset's; an adapter saved, loaded and merged computes what the peft model
does; adapter and state files are data; a run interrupted mid-way resumes to the same adapter and token count as an
uninterrupted one; bad hyperparameters and another task's state are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from services.compute_provider.finetune.lora import (
    Adapter,
    AdapterError,
    LoraSpec,
    checkpoint_hash,
    load_adapter,
    merged_checkpoint,
    save_adapter,
    with_lora,
)
from services.compute_provider.finetune.trainer import FineTuneError, FineTuner, Progress, windows
from services.compute_provider.model.checkpoint import load_checkpoint, save_checkpoint
from services.compute_provider.model.generate import SamplingParams, TextGenerator
from services.compute_provider.model.network import ByteLM, ModelConfig
from zerog.compute.finetune_data import ChatDataset, HyperparameterError

BASE = "tiny-base"
PAIRS = [
    ("What is the capital of Zorbia?", "Quix."),
    ("Who wrote Blorp?", "Mag Delta."),
    ("Best color?", "Teal, always."),
    ("Favourite number?", "Forty-two."),
    ("What do cats say?", "Meow meow."),
    ("Sky?", "Purple here."),
    ("Ping", "Pong!"),
    ("Who are you?", "Zed the bot."),
]
QA = ChatDataset(tuple((("user", q), ("assistant", a)) for q, a in PAIRS))
#: Small enough to learn the answers in about a second; no dropout, so greedy answers are a clean measure.
LEARN = '{"epochs": 10, "batch_size": 8, "learning_rate": 0.01, "lora_dropout": 0.0}'
#: For resuming: dropout on (its RNG state must be restored), several epochs of small batches.
RESUME = '{"epochs": 3, "batch_size": 3, "learning_rate": 0.01, "lora_dropout": 0.1, "seed": 5}'


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("base") / "base.pt"
    save_checkpoint(path, ByteLM(ModelConfig(block_size=64, n_layer=2, n_head=2, n_embd=64)), {"name": BASE})
    return path


def matched_bytes(generator: TextGenerator) -> int:
    """Bytes of the greedy answers to the dataset's questions equal to the target answer's at the same place."""
    total = 0
    for question, answer in PAIRS:
        prompt = generator.chat_prompt([("user", question)])
        text = generator.generation(prompt, SamplingParams(max_tokens=len(answer) + 1, temperature=0)).run()
        total += sum(a == b for a, b in zip(text.encode(), answer.encode(), strict=False))
    return total


def test_fine_tuning__lowers_the_loss_and_moves_greedy_answers_to_the_targets(base: Path, tmp_path: Path) -> None:
    dataset = ChatDataset(QA.conversations * 8)
    seen: list[Progress] = []
    tuner = FineTuner(base, BASE, dataset, LEARN, tmp_path, progress=seen.append)
    result = tuner.run()

    assert result.steps == tuner.steps == 10 * 8 and [p.step for p in seen] == list(range(1, 81))
    assert result.tokens == seen[-1].tokens == dataset.tokens_per_epoch * 10
    assert sum(p.loss for p in seen[-5:]) / 5 < seen[0].loss - 0.5
    before = matched_bytes(TextGenerator.load(base, BASE))
    after = matched_bytes(TextGenerator.from_checkpoint(merged_checkpoint(base, result.adapter_path), "tuned"))
    target = sum(len(answer) for _, answer in PAIRS)
    assert before < target // 10 and after >= target // 2, (before, after, target)


def test_adapter__saved_loaded_and_merged_computes_what_the_peft_model_does(base: Path, tmp_path: Path) -> None:
    torch.manual_seed(1)
    spec = LoraSpec(rank=4, alpha=8.0, dropout=0.0)
    peft_model = with_lora(load_checkpoint(base).model(), spec).eval()
    for name, weight in peft_model.named_parameters():
        if "lora_B" in name:  # zero at initialization: give the adapter something to change
            torch.nn.init.normal_(weight, std=0.05)
    path = tmp_path / "adapter.pt"
    save_adapter(path, Adapter.of(peft_model, spec, BASE, checkpoint_hash(base), {"note": "test"}))

    tokens = torch.tensor([list(b"<|user|>\nPing\n<|assistant|>\n")])
    with torch.no_grad():
        expected = peft_model(tokens)[0]
        plain = load_checkpoint(base).model()(tokens)[0]
        applied = load_adapter(path).apply(load_checkpoint(base).model())(tokens)[0]
        merged_model = merged_checkpoint(base, path).model()
        merged = merged_model(tokens)[0]
    assert type(merged_model) is ByteLM
    assert not torch.allclose(plain, expected, atol=1e-3)
    assert torch.allclose(applied, expected, atol=1e-5) and torch.allclose(merged, expected, atol=1e-5)

    payload = torch.load(path, weights_only=True)  # data, never code
    assert payload["format"] == "zerog-bytelm-lora"
    assert payload["base"] == {"name": BASE, "hash": checkpoint_hash(base)} and payload["meta"] == {"note": "test"}
    assert payload["lora"] == {"rank": 4, "alpha": 8.0, "dropout": 0.0, "targets": list(spec.targets)}
    assert {k.rsplit(".", 3)[-3] for k in payload["state_dict"]} == {"qkv", "proj", "0", "2"}


def test_adapter__refuses_another_base_and_files_that_are_not_adapters(base: Path, tmp_path: Path) -> None:
    result = FineTuner(base, BASE, QA, '{"epochs": 1}', tmp_path / "run").run()
    other = tmp_path / "other.pt"
    torch.manual_seed(9)
    save_checkpoint(other, ByteLM(ModelConfig(block_size=64, n_layer=2, n_head=2, n_embd=64)))
    with pytest.raises(AdapterError, match=f"adapts {BASE} .*not the checkpoint at {other}"):
        merged_checkpoint(other, result.adapter_path)
    with pytest.raises(AdapterError, match="is not a zerog-bytelm-lora adapter"):
        load_adapter(base)
    with pytest.raises(AdapterError, match="no adapter"):
        load_adapter(tmp_path / "missing.pt")


def test_resume__after_an_interrupted_run_ends_like_an_uninterrupted_one(base: Path, tmp_path: Path) -> None:
    whole = FineTuner(base, BASE, QA, RESUME, tmp_path / "whole").run()

    def crash_at_7(progress: Progress) -> None:
        if progress.step == 7:
            raise KeyboardInterrupt("killed")

    workdir = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        FineTuner(base, BASE, QA, RESUME, workdir, checkpoint_every=3, progress=crash_at_7).run()
    state = torch.load(workdir / "state.pt", weights_only=True)  # the state is data too
    assert state["step"] == 6 and set(state) >= {"adapter", "optimizer", "rng", "tokens"}
    assert not (workdir / "adapter.pt").exists()

    seen: list[Progress] = []
    resumed = FineTuner(base, BASE, QA, RESUME, workdir, checkpoint_every=3, progress=seen.append).run()
    assert seen[0].step == 7  # continued from the saved step 6, not from scratch
    assert (resumed.steps, resumed.tokens) == (whole.steps, whole.tokens) == (9, QA.tokens_per_epoch * 3)
    expected, got = load_adapter(whole.adapter_path).state_dict, load_adapter(resumed.adapter_path).state_dict
    assert expected.keys() == got.keys()
    assert all(torch.allclose(expected[k], got[k], atol=1e-6) for k in expected)
    assert any(bool(expected[k].abs().sum()) for k in expected if "lora_B" in k)  # it did train

    again = FineTuner(base, BASE, QA, RESUME, workdir).run()  # a finished run only writes its adapter again
    assert (again.steps, again.tokens) == (whole.steps, whole.tokens)


def test_fine_tuner__refuses_bad_hyperparameters_and_another_tasks_state(base: Path, tmp_path: Path) -> None:
    for bad, reason in [
        ('{"epochs": 20}', "epochs is 20"),
        ('{"lr": 0.1}', 'unknown key "lr"'),
        ('{"lora_rank": 0}', "lora_rank is 0"),
        ("{", "not JSON"),
    ]:
        with pytest.raises(HyperparameterError, match=reason):
            FineTuner(base, BASE, QA, bad, tmp_path)
    FineTuner(base, BASE, QA, '{"epochs": 1, "max_steps": 1}', tmp_path).run()
    with pytest.raises(FineTuneError, match="state of another task"):
        FineTuner(base, BASE, QA, '{"epochs": 1, "max_steps": 1, "seed": 1}', tmp_path).run()


def test_max_steps__stops_early_and_counts_only_what_was_trained(base: Path, tmp_path: Path) -> None:
    tuner = FineTuner(base, BASE, QA, '{"epochs": 2, "batch_size": 2, "max_steps": 3}', tmp_path)
    result = tuner.run()
    assert result.steps == 3 < tuner.steps_per_epoch * 2
    assert result.tokens == sum(tuner.batch(step).tokens for step in range(3)) < QA.tokens_per_epoch


def test_windows__cut_long_conversations_without_predicting_a_token_twice() -> None:
    long = ChatDataset(((("user", "q" * 100), ("assistant", "a" * 150)),))
    chat = long.encoded()[0]
    pieces = windows(long, block_size=64)
    assert all(len(w.tokens) <= 65 for w in pieces) and len(pieces) == -(-(len(chat.tokens) - 1) // 64)
    assert sum(w.counted for w in pieces) == len(chat.tokens) == long.tokens_per_epoch
    assert [t for w in pieces for t in w.tokens[1:]] == chat.tokens[1:]  # each target once, in order
    assert [m for w in pieces for m in w.targets] == chat.targets[1:]
