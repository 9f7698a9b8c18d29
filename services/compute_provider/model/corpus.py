"""The training corpus, made by the project itself (no downloads): the repository's own documentation, the
docstrings of the `zerog` package, and generated chat transcripts about the stack in the chat format the
provider uses, so the model learns to answer and to stop.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator
from pathlib import Path

import zerog
from services.compute_provider.model.network import EOT
from zerog.compute.chat import Message, encode_chat

#: The SDK's package folder (its docstrings are part of the corpus) and the checkout around it.
PACKAGE_ROOT = Path(zerog.__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent

#: (question variants, answer): facts about the stack the generated transcripts teach.
FACTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("What is 0G?", "What is zerog?", "Tell me about 0G."),
        "0G is a modular AI operating system: a chain, storage, compute and data availability network.",
    ),
    (
        ("What is the chain id of the local network?", "Which chain id does zg up use?"),
        "The local network runs chain id 16688 on http://127.0.0.1:8545.",
    ),
    (
        ("How do I start everything?", "How do I start the network?"),
        "Run make up, or zg up: it starts the chain, deploys the contracts and starts every daemon.",
    ),
    (("How do I run the tests?",), "Run make test: it runs ape test tests against real anvil nodes."),
    (
        ("How do I get test tokens?", "Where is the faucet?"),
        "Open the faucet at http://127.0.0.1:8600 or run zg faucet claim ADDRESS.",
    ),
    (
        ("How do I pay for inference?", "How does compute payment work?"),
        "Deposit into the Ledger, transfer funds to a provider, then every request carries a signed voucher.",
    ),
    (
        ("What is a voucher?",),
        "A voucher is an EIP-712 signature over the cumulative amount you owe a provider, with a nonce.",
    ),
    (
        ("What is a receipt?",),
        "A receipt is the provider's signature over the request hash, the token usage and the fee.",
    ),
    (
        ("How do I get my money back?", "How do refunds work?"),
        "Request a refund with zg compute refund; after the timelock it returns to your ledger balance.",
    ),
    (
        ("Can a provider take more than I signed?",),
        "No. The contract pays a provider at most the cumulative amount in your latest signed voucher.",
    ),
    (
        ("How does storage work?", "How are files stored?"),
        "Files are split into 256 byte chunks; a merkle root identifies the file and nodes store segments.",
    ),
    (("What is a segment?",), "A segment is 1024 chunks of 256 bytes, 256 KiB."),
    (("What port does the storage node use?",), "The storage node serves JSON-RPC on port 5678."),
    (("What port does the compute provider use?",), "The compute provider serves the OpenAI API on port 8700."),
    (
        ("Which models do you serve?", "What model is this?"),
        "I am zg-bytelm-tiny, a small byte-level transformer trained on CPU by the 0G stack itself.",
    ),
    (("Hello", "Hi", "Hello!", "Hi there"), "Hello! Ask me about the 0G stack: chain, storage or compute."),
    (("Who are you?",), "I am a tiny model served by a 0G compute provider."),
    (("What is data availability?",), "DA makes sure data was published: signers attest to erasure coded blobs."),
    (("How do I list providers?",), "Run zg compute ls to list the registered inference services."),
    (("Say something.", "Tell me a fact."), "The 0G stack runs on one laptop: one command starts it all."),
)


def documents(repo_root: Path = REPO_ROOT) -> list[str]:
    """The project's own text: README, docs/*.md, and the docstrings of the zerog package, sorted by path."""
    texts: list[str] = []
    for path in [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]:
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    texts.append(doc)
    return texts


def transcripts(count: int, seed: int = 0) -> Iterator[list[int]]:
    """`count` generated one- or two-turn chats, as token ids, each answer ending with EOT, each chat with a
    newline (they are concatenated)."""
    rng = random.Random(seed)
    for _ in range(count):
        history: list[Message] = []
        for _turn in range(rng.choice((1, 1, 2))):
            questions, answer = rng.choice(FACTS)
            question = rng.choice(questions)
            if rng.random() < 0.3:
                question = question.lower()
            history += [("user", question), ("assistant", answer)]
        yield encode_chat(history).tokens + list(b"\n")


def build_corpus(transcript_count: int = 3000, seed: int = 0) -> list[int]:
    """Token ids of the whole corpus: documents (separated by EOT) interleaved with chat transcripts."""
    rng = random.Random(seed)
    pieces: list[list[int]] = [list(doc.encode()) + [EOT] for doc in documents()]
    pieces += list(transcripts(transcript_count, seed))
    rng.shuffle(pieces)
    return [token for piece in pieces for token in piece]
