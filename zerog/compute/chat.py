"""The chat format of the provider's byte-level models, one definition for the SDK and the provider: the prompt a
provider renders for a chat request, and the token sequence a conversation is trained as (the base model's corpus
and fine-tuning both).

A token is one UTF-8 byte (ids 0..255), or EOT (256), which ends an assistant's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

#: The end-of-text token: the model emits it when an answer is complete.
EOT = 256

SYSTEM_TAG = "<|system|>\n"
USER_TAG = "<|user|>\n"
ASSISTANT_TAG = "<|assistant|>\n"
TAGS = {"system": SYSTEM_TAG, "user": USER_TAG, "assistant": ASSISTANT_TAG}

#: (role, content); role is a key of TAGS.
Message = tuple[str, str]

_NEWLINE = list(b"\n")


class EncodedChat(NamedTuple):
    """A conversation's token ids, and for each token whether the model is trained to predict it."""

    tokens: list[int]
    targets: list[bool]


def render_chat(messages: Sequence[Message]) -> str:
    """The chat format the provider renders: one tagged block per message, then the assistant's tag."""
    return "".join(f"{TAGS[role]}{content}\n" for role, content in messages) + ASSISTANT_TAG


def encode_chat(messages: Sequence[Message]) -> EncodedChat:
    """A conversation as it is trained: each message's tag and content, EOT after an assistant's content, a newline
    between messages. Each answer thus follows exactly the prompt `render_chat` gives for the messages before it
    (an earlier answer there ends with a newline instead of its EOT). The targets are the assistant's content and
    its EOT: tags and the other roles' content are context."""
    tokens: list[int] = []
    targets: list[bool] = []
    for i, (role, content) in enumerate(messages):
        context = (_NEWLINE if i else []) + list(TAGS[role].encode())
        body = list(content.encode()) + ([EOT] if role == "assistant" else [])
        tokens += context + body
        targets += [False] * len(context) + [role == "assistant"] * len(body)
    return EncodedChat(tokens, targets)
