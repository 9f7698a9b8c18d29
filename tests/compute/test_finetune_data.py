"""The SDK's side of fine-tuning, no torch: a chat dataset parses into conversations whose token count is exactly the
chat format's bytes plus one EOT per answer; every kind of bad line is reported with its line number; the size and
line limits hold; hyperparameters are checked in one place (types, ranges, unknown keys) and the fee follows."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO_ROOT
from zerog.compute.chat import ASSISTANT_TAG, EOT, USER_TAG, encode_chat, render_chat
from zerog.compute.finetune_data import (
    MAX_HYPERPARAMETERS_BYTES,
    MAX_REPORTED,
    DatasetError,
    HyperparameterError,
    Hyperparameters,
    estimate_fee,
    parse_dataset,
    parse_hyperparameters,
)


def line(*messages: tuple[str, str]) -> str:
    return json.dumps({"messages": [{"role": role, "content": content} for role, content in messages]})


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_dataset__parses_conversations_and_counts_bytes_plus_one_eot_per_answer() -> None:
    data = jsonl(
        line(("user", "Hi"), ("assistant", "Hello")),
        "",  # blank lines are skipped
        line(("system", "Be brief."), ("user", "2+2?"), ("assistant", "4"), ("user", "Sûr ?"), ("assistant", "Oui")),
    )
    dataset = parse_dataset(data, max_bytes=len(data))
    assert dataset.conversations == (
        (("user", "Hi"), ("assistant", "Hello")),
        (("system", "Be brief."), ("user", "2+2?"), ("assistant", "4"), ("user", "Sûr ?"), ("assistant", "Oui")),
    )
    # "<|user|>\nHi\n<|assistant|>\nHello" + EOT
    first = len(USER_TAG) + 2 + 1 + len(ASSISTANT_TAG) + 5 + 1
    assert first == 32
    # tags and contents in UTF-8 ("û" is 2 bytes), 4 newlines between the 5 messages, an EOT after each of 2 answers
    tagged = "<|system|>\nBe brief.<|user|>\n2+2?<|assistant|>\n4<|user|>\nSûr ?<|assistant|>\nOui"
    second = len(tagged.encode()) + 4 + 2
    assert dataset.tokens_per_epoch == first + second
    assert estimate_fee(dataset, 3, 7) == (first + second) * 3 * 7


def test_encode_chat__is_the_served_prompt_then_the_answer_and_eot() -> None:
    """Each answer is trained right after the prompt the provider renders for the messages before it; only the
    answers and their EOTs are targets."""
    messages = [("user", "Hi"), ("assistant", "Hello")]
    chat = encode_chat(messages)
    prompt = render_chat(messages[:1]).encode()
    assert chat.tokens == [*prompt, *b"Hello", EOT]
    assert chat.targets == [False] * len(prompt) + [True] * 6
    two = encode_chat([*messages, ("user", "Again"), ("assistant", "Bye")])
    second_turn = [*b"\n", *USER_TAG.encode(), *b"Again\n", *ASSISTANT_TAG.encode(), *b"Bye", EOT]
    assert two.tokens == chat.tokens + second_turn
    assert two.targets == chat.targets + [False] * (len(second_turn) - 4) + [True] * 4


BAD_LINES = {
    "not JSON": ("{nope", "not JSON"),
    "not an object": ("[1, 2]", "not a JSON object"),
    "no messages": ('{"conversation": []}', 'unknown key "conversation"'),
    "empty messages": ('{"messages": []}', '"messages" must be a non-empty list'),
    "message not an object": ('{"messages": ["hi"]}', "message 1 is not a JSON object"),
    "unknown role": (line(("user", "q"), ("bot", "a")), 'message 2: role "bot" is not one of system, user, assistant'),
    "content not a string": ('{"messages": [{"role": "user", "content": 3}]}', "message 1: content must be a string"),
    "extra message key": (
        '{"messages": [{"role": "user", "content": "q", "name": "x"}]}',
        'message 1: unknown key "name"',
    ),
    "no assistant": (line(("system", "s"), ("user", "q")), "no assistant message"),
    "no user": (line(("system", "s"), ("assistant", "a")), "no user message"),
    "last not assistant": (line(("user", "q"), ("assistant", "a"), ("user", "q2")), "the last message is the user's"),
    "duplicate key": ('{"messages": [], "messages": []}', 'duplicate key "messages"'),
    "content too long": (line(("user", "q"), ("assistant", "x" * 101)), "message 2: content is 101 bytes, at most 100"),
    "lone surrogate": (
        '{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "a"}]}',
        "message 1: content is not valid Unicode",
    ),
}


@pytest.mark.parametrize("kind", BAD_LINES)
def test_dataset__reports_each_kind_of_bad_line_with_its_number(kind: str) -> None:
    bad, problem = BAD_LINES[kind]
    good = line(("user", "q"), ("assistant", "a"))
    data = jsonl(good, "", bad, good)
    with pytest.raises(DatasetError, match="invalid dataset: line 3: ") as caught:
        parse_dataset(data, max_bytes=10_000, max_content_bytes=100)
    assert len(caught.value.problems) == 1
    number, found = caught.value.problems[0]
    assert number == 3 and problem in found


def test_dataset__not_utf8_is_reported_with_its_line() -> None:
    good = line(("user", "q"), ("assistant", "a")).encode()
    with pytest.raises(DatasetError, match=r"line 2: not UTF-8 \(byte 3\)"):
        parse_dataset(good + b'\n{"\xff": 1}\n', max_bytes=10_000)


def test_dataset__lists_the_first_problems_and_counts_the_rest() -> None:
    data = jsonl(*["[]"] * (MAX_REPORTED + 3))
    with pytest.raises(DatasetError, match=r"line 1: .*line 5: not a JSON object \(and 3 more\)$") as caught:
        parse_dataset(data, max_bytes=10_000)
    assert [number for number, _ in caught.value.problems] == list(range(1, MAX_REPORTED + 1))


def test_dataset__limits_its_size_and_lines_and_needs_a_conversation() -> None:
    data = jsonl(*[line(("user", "q"), ("assistant", "a"))] * 3)
    assert len(parse_dataset(data, max_bytes=len(data))) == 3
    with pytest.raises(DatasetError, match=f"the dataset is {len(data)} bytes, at most {len(data) - 1}"):
        parse_dataset(data, max_bytes=len(data) - 1)
    assert len(parse_dataset(data, max_bytes=len(data), max_lines=3)) == 3  # the final newline ends line 3
    with pytest.raises(DatasetError, match="the dataset has 3 lines, at most 2"):
        parse_dataset(data, max_bytes=len(data), max_lines=2)
    with pytest.raises(DatasetError, match="no conversation"):
        parse_dataset(b"\n  \n", max_bytes=100)


def test_hyperparameters__defaults_values_and_canonical_json() -> None:
    assert parse_hyperparameters("") == parse_hyperparameters("{}") == Hyperparameters()
    chosen = parse_hyperparameters('{"epochs": 2, "learning_rate": 1, "lora_rank": 4, "seed": 7}')
    assert (chosen.epochs, chosen.learning_rate, chosen.lora_rank, chosen.seed) == (2, 1.0, 4, 7)
    assert chosen.batch_size == Hyperparameters().batch_size
    assert parse_hyperparameters(chosen.to_json()) == chosen
    assert json.loads(chosen.to_json())["learning_rate"] == 1.0  # 1 and 1.0: one canonical form


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"epochs": 0}', "epochs is 0, it must be between 1 and 10"),
        ('{"epochs": 11}', "epochs is 11, it must be between 1 and 10"),
        ('{"epochs": 3.0}', "epochs must be an integer, not 3.0"),
        ('{"epochs": true}', "epochs must be an integer, not true"),
        ('{"learning_rate": "0.01"}', 'learning_rate must be a number, not "0.01"'),
        ('{"learning_rate": 0}', "learning_rate is 0, it must be between 1e-06 and 1"),
        ('{"lora_rank": 65}', "lora_rank is 65"),
        ('{"lora_dropout": 0.9}', "lora_dropout is 0.9"),
        ('{"batch_size": 0}', "batch_size is 0"),
        ('{"max_steps": 0}', "max_steps is 0"),
        ('{"seed": -1}', "seed is -1"),
        ('{"epoch": 3}', 'unknown key "epoch" (known: epochs, '),
        ('{"epochs": 1, "epochs": 2}', 'duplicate key "epochs"'),
        ('{"learning_rate": NaN}', "NaN is not a number"),
        ("[3]", "not a JSON object"),
        ("epochs=3", "not JSON"),
    ],
)
def test_hyperparameters__rejects_bad_values_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(HyperparameterError, match="invalid hyperparameters: ") as caught:
        parse_hyperparameters(text)
    assert problem in str(caught.value)


def test_hyperparameters__names_every_problem_and_bounds_the_string() -> None:
    with pytest.raises(HyperparameterError) as caught:
        parse_hyperparameters('{"epochs": 0, "batch_size": 100, "momentum": 0.9}')
    assert all(p in str(caught.value) for p in ("epochs is 0", "batch_size is 100", 'unknown key "momentum"'))
    with pytest.raises(HyperparameterError, match=f"at most {MAX_HYPERPARAMETERS_BYTES}"):
        parse_hyperparameters(json.dumps({"epochs": 1, "pad": "x" * MAX_HYPERPARAMETERS_BYTES}))
    with pytest.raises(HyperparameterError, match="epochs is 0"):
        Hyperparameters(epochs=0)  # constructed directly: the same checks


def test_hyperparameters__limit_is_the_contracts() -> None:
    source = (REPO_ROOT / "contracts" / "compute" / "FineTuningServing.sol").read_text()
    assert f"MAX_HYPERPARAMETERS = {MAX_HYPERPARAMETERS_BYTES};" in source


def test_estimate_fee__checks_epochs_and_price() -> None:
    data = jsonl(line(("user", "Hi"), ("assistant", "Hello")))
    dataset = parse_dataset(data, max_bytes=len(data))
    assert estimate_fee(dataset, 1, 10**9) == 32 * 10**9
    with pytest.raises(HyperparameterError, match="epochs is 11"):
        estimate_fee(dataset, 11, 1)
    with pytest.raises(ValueError, match="negative"):
        estimate_fee(dataset, 1, -1)
