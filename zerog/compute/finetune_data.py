"""What a fine-tuning task trains on, checked by the user's client before it pays and again by the provider: a JSONL
chat dataset, the hyperparameters (the JSON string recorded on chain), and the fee they make.

Dataset: one JSON object per line, ``{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}``,
with at least one user and one assistant message, the last from the assistant; blank lines are skipped.

What is trained and counted: each conversation is one token sequence in the provider's chat format
(`zerog.compute.chat.encode_chat`): every message's tag and content as UTF-8 bytes, an EOT after each assistant
answer, a newline between messages. The whole sequence goes through the model, forward and backward; the loss is
on the assistant's answers and their EOTs only, the rest being context: a small model spends its capacity on
answering, not on predicting the user's questions. Tokens per epoch = the sum of the sequences' lengths; a task
trains tokens per epoch × epochs (fewer only if it stops at `max_steps`) and costs that × the price per token.
E.g. ``[user "Hi", assistant "Hello"]`` is ``"<|user|>\\nHi\\n<|assistant|>\\nHello"`` + EOT: 32 tokens.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

from zerog.compute.chat import TAGS, EncodedChat, Message, encode_chat
from zerog.errors import ZeroGError

#: Largest dataset (lines of the file) and message content (UTF-8 bytes) accepted by default.
MAX_LINES = 100_000
MAX_CONTENT_BYTES = 16_384
#: Largest hyperparameters string, in bytes: FineTuningServing.MAX_HYPERPARAMETERS.
MAX_HYPERPARAMETERS_BYTES = 512
#: How many problems an error lists (a broken file would otherwise make a message as long as itself).
MAX_REPORTED = 5

Conversation = tuple[Message, ...]


class DatasetError(ZeroGError):
    """The dataset is not a valid chat dataset; `problems` holds (line number, what is wrong) of the first few."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class HyperparameterError(ZeroGError):
    """The hyperparameters are not valid JSON, have an unknown key, or a value of the wrong type or range."""


@dataclass(frozen=True)
class ChatDataset:
    conversations: tuple[Conversation, ...]

    def __len__(self) -> int:
        return len(self.conversations)

    def encoded(self) -> list[EncodedChat]:
        """Each conversation's token sequence and targets, as the provider trains them."""
        return [encode_chat(conversation) for conversation in self.conversations]

    @cached_property
    def tokens_per_epoch(self) -> int:
        return sum(len(chat.tokens) for chat in self.encoded())


def parse_dataset(
    data: bytes, max_bytes: int, *, max_lines: int = MAX_LINES, max_content_bytes: int = MAX_CONTENT_BYTES
) -> ChatDataset:
    """The conversations of a JSONL chat dataset; DatasetError listing the first problems (with their line
    numbers) otherwise."""
    if len(data) > max_bytes:
        raise DatasetError(f"the dataset is {len(data)} bytes, at most {max_bytes} are accepted")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline ending the last line
    if len(lines) > max_lines:
        raise DatasetError(f"the dataset has {len(lines)} lines, at most {max_lines} are accepted")
    conversations: list[Conversation] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            conversations.append(_conversation(line, max_content_bytes))
        except _Invalid as exc:
            problems.append((number, str(exc)))
    if problems:
        listed = "; ".join(f"line {number}: {problem}" for number, problem in problems[:MAX_REPORTED])
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise DatasetError(f"invalid dataset: {listed}{more}", problems[:MAX_REPORTED])
    if not conversations:
        raise DatasetError("the dataset has no conversation")
    return ChatDataset(tuple(conversations))


class _Invalid(ValueError):
    """What is wrong with one line (or the hyperparameters)."""


def _conversation(line: bytes, max_content_bytes: int) -> Conversation:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Invalid(f"not UTF-8 (byte {exc.start + 1})") from exc
    record = _object(text)
    _no_unknown_keys(record, {"messages"}, "")
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Invalid('"messages" must be a non-empty list')
    conversation: list[Message] = []
    for index, message in enumerate(messages, start=1):
        where = f"message {index}"
        if not isinstance(message, dict):
            raise _Invalid(f"{where} is not a JSON object")
        _no_unknown_keys(message, {"role", "content"}, f"{where}: ")
        role, content = message.get("role"), message.get("content")
        if role not in TAGS:
            raise _Invalid(f"{where}: role {json.dumps(role)} is not one of {', '.join(TAGS)}")
        if not isinstance(content, str):
            raise _Invalid(f"{where}: content must be a string")
        try:
            size = len(content.encode())
        except UnicodeEncodeError as exc:  # a lone surrogate escaped in the JSON
            raise _Invalid(f"{where}: content is not valid Unicode (character {exc.start + 1})") from exc
        if size > max_content_bytes:
            raise _Invalid(f"{where}: content is {size} bytes, at most {max_content_bytes} are accepted")
        conversation.append((role, content))
    roles = [role for role, _ in conversation]
    for needed in ("user", "assistant"):
        if needed not in roles:
            raise _Invalid(f"no {needed} message")
    if roles[-1] != "assistant":
        raise _Invalid(f"the last message is the {roles[-1]}'s, it must be the assistant's")
    return tuple(conversation)


def _object(text: str) -> dict[str, Any]:
    """A JSON object, strictly: no duplicate keys, no NaN or Infinity."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        record = dict(items)
        if len(record) < len(items):
            duplicates = sorted(key for key, count in Counter(key for key, _ in items).items() if count > 1)
            raise _Invalid(f"duplicate key {', '.join(map(json.dumps, duplicates))}")
        return record

    def constant(name: str) -> Any:
        raise _Invalid(f"{name} is not a number")

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise _Invalid("not JSON this parser reads: nested too deeply") from exc
    if not isinstance(value, dict):
        raise _Invalid("not a JSON object")
    return value


def _no_unknown_keys(record: dict[str, Any], known: set[str], where: str) -> None:
    if unknown := sorted(set(record) - known):
        raise _Invalid(f"{where}unknown key {', '.join(map(json.dumps, unknown))} (known: {', '.join(sorted(known))})")


#: Each hyperparameter's type and inclusive range.
_RANGES: dict[str, tuple[type, float, float]] = {
    "epochs": (int, 1, 10),
    "learning_rate": (float, 1e-6, 1.0),
    "batch_size": (int, 1, 64),
    "lora_rank": (int, 1, 64),
    "lora_alpha": (float, 0.1, 1024),
    "lora_dropout": (float, 0.0, 0.5),
    "max_steps": (int, 1, 100_000),
    "seed": (int, 0, 2**32 - 1),
}


@dataclass(frozen=True)
class Hyperparameters:
    """How a task trains. `max_steps` is a safety bound: training stops there even if epochs remain.

    The defaults fit the bundled base model (measured on 100 generated chats, 3 epochs): a learning rate of 1e-2
    reached a held-out loss of 0.39 against 0.50 at 3e-3 and 0.74 at 3e-2; LoRA dropout 0.05 gained nothing
    measurable (0.387) and cost 40% more time per step on CPU, so it is off."""

    epochs: int = 3
    learning_rate: float = 1e-2
    batch_size: int = 8
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    max_steps: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        _check([_problem(f.name, getattr(self, f.name)) for f in fields(self)])
        for f in fields(self):
            if _RANGES[f.name][0] is float:  # 1 and 1.0 are the same learning rate: one canonical JSON
                object.__setattr__(self, f.name, float(getattr(self, f.name)))

    def to_json(self) -> str:
        """Every value, canonically (sorted keys, no spaces): what a provider records of how it trained."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def parse_hyperparameters(text: str) -> Hyperparameters:
    """Hyperparameters from their JSON object, the defaults for what it omits (an empty string: all defaults);
    HyperparameterError naming every problem otherwise."""
    size = len(text.encode())
    if size > MAX_HYPERPARAMETERS_BYTES:
        raise HyperparameterError(f"hyperparameters are {size} bytes, at most {MAX_HYPERPARAMETERS_BYTES}")
    if not text.strip():
        return Hyperparameters()
    try:
        record = _object(text)
    except _Invalid as exc:
        raise HyperparameterError(f"invalid hyperparameters: {exc}") from exc
    unknown = sorted(set(record) - set(_RANGES))
    _check(
        [f"unknown key {', '.join(map(json.dumps, unknown))} (known: {', '.join(_RANGES)})" if unknown else None]
        + [_problem(name, value) for name, value in record.items() if name in _RANGES]
    )
    return Hyperparameters(**record)


def _problem(name: str, value: Any) -> str | None:
    kind, low, high = _RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int if kind is int else int | float):
        return f"{name} must be {'an integer' if kind is int else 'a number'}, not {json.dumps(value, default=repr)}"
    if not low <= value <= high:  # NaN too
        return f"{name} is {value}, it must be between {low:g} and {high:g}"
    return None


def _check(problems: list[str | None]) -> None:
    if found := [p for p in problems if p]:
        raise HyperparameterError(f"invalid hyperparameters: {'; '.join(found)}")


def estimate_fee(dataset: ChatDataset, epochs: int, price_per_token: int) -> int:
    """The most a task can cost (wei): the dataset's tokens × epochs × the price per token."""
    _check([_problem("epochs", epochs)])
    if price_per_token < 0:
        raise ValueError(f"price per token {price_per_token} is negative")
    return dataset.tokens_per_epoch * epochs * price_per_token
