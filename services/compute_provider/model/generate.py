"""Text generation with a ByteLM: sampling (temperature, top-p, seed), stop sequences, streaming deltas,
and exact usage (one token per byte; every sampled token counts, the end-of-text token and stop sequences
included, since the model computed them).
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from services.compute_provider.model.checkpoint import Checkpoint, load_checkpoint
from services.compute_provider.model.network import EOT, ByteLM, KVCache
from zerog.compute.chat import render_chat


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass
class Generation:
    """One completion, consumed by iterating over its text deltas. Usage and the finish reason are kept up
    to date while it runs, so a caller that stops early (client gone) still knows what was computed."""

    generator: TextGenerator
    prompt: list[int]
    params: SamplingParams
    completion_tokens: int = 0
    finish_reason: str | None = None
    text: str = ""
    _started: bool = field(default=False, repr=False)

    @property
    def prompt_tokens(self) -> int:
        return len(self.prompt)

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("a generation runs once")
        self._started = True
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = [s for s in self.params.stop if s]
        pending = ""
        cut = False
        with self.generator.lock:
            for token in self.generator.sample(self.prompt, self.params):
                self.completion_tokens += 1
                if token == EOT:
                    self.finish_reason = "stop"
                    break
                pending += decoder.decode(bytes((token,)))
                hit = min((i for i in (pending.find(s) for s in stops) if i >= 0), default=-1)
                if hit >= 0:
                    pending, cut = pending[:hit], True
                    self.finish_reason = "stop"
                    break
                safe = len(pending) - _held_back(pending, stops)
                if safe > 0:
                    yield from self._emit(pending[:safe])
                    pending = pending[safe:]
            else:
                self.finish_reason = "length"
        if not cut:  # a byte sequence cut short by EOT or the length limit shows as U+FFFD
            pending += decoder.decode(b"", final=True)
        if pending:
            yield from self._emit(pending)

    def _emit(self, delta: str) -> Iterator[str]:
        self.text += delta
        yield delta

    def run(self) -> str:
        """Generates to the end; returns the text."""
        for _ in self:
            pass
        return self.text


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Length of the longest suffix of `text` that could still grow into a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if stop.startswith(text[-size:]):
                longest = size
                break
    return longest


class TextGenerator:
    """A loaded model; `lock` serializes generations (one CPU model, one at a time)."""

    def __init__(self, model: ByteLM, name: str, meta: dict[str, object] | None = None) -> None:
        self.model = model.eval()
        self.name = name
        self.meta = dict(meta or {})
        self.lock = threading.Lock()

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, name: str) -> TextGenerator:
        return cls(checkpoint.model(), name, checkpoint.meta)

    @classmethod
    def load(cls, path: Path, name: str) -> TextGenerator:
        return cls.from_checkpoint(load_checkpoint(path), name)

    @property
    def block_size(self) -> int:
        return self.model.config.block_size

    @staticmethod
    def encode(text: str) -> list[int]:
        return list(text.encode("utf-8"))

    @staticmethod
    def chat_prompt(messages: Sequence[tuple[str, str]]) -> str:
        return render_chat(list(messages))

    def generation(self, prompt: str, params: SamplingParams) -> Generation:
        return Generation(self, self.encode(prompt), params)

    @torch.inference_mode()
    def sample(self, prompt: list[int], params: SamplingParams) -> Iterator[int]:
        """Token ids, one per step, until EOT or `max_tokens`. Callers hold `lock`."""
        rng = torch.Generator()
        if params.seed is not None:
            rng.manual_seed(params.seed)
        else:
            rng.seed()
        block = self.block_size
        history = list(prompt) or [EOT]
        context = history[-(block - 1) :]
        logits, past = self.model(torch.tensor([context]))
        position = len(context)
        for _ in range(params.max_tokens):
            token = _pick(logits[0, -1], params, rng)
            yield token
            if token == EOT:
                return
            history.append(token)
            if position >= block:
                # Window full: start again from the most recent half block.
                context = history[-(block // 2) :]
                logits, past = self.model(torch.tensor([context]))
                position = len(context)
            else:
                logits, past = self._step(token, past, position)
                position += 1

    def _step(self, token: int, past: KVCache, position: int) -> tuple[torch.Tensor, KVCache]:
        return self.model(torch.tensor([[token]]), past, start=position)


def _pick(logits: torch.Tensor, params: SamplingParams, rng: torch.Generator) -> int:
    if params.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < params.top_p
        sorted_probs = torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))
        return int(order[torch.multinomial(sorted_probs, 1, generator=rng)])
    return int(torch.multinomial(probs, 1, generator=rng))
