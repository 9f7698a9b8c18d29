"""Files larger than one submission, split as the official SDK splits them (`splitableUpload`): fragments of
`fragment_size` bytes (a power of two, at least a chunk; 4 GiB by default), the last one shorter, each an
independent file with its own root. The file is the fragments' concatenation in order, so a downloader needs
the list of roots (the official SDK's `Indexer.download([root, ...], path)`)."""

from __future__ import annotations

from dataclasses import dataclass

from zerog.storage.merkle import CHUNK_SIZE, next_pow2

#: The official SDK's default fragment size.
DEFAULT_FRAGMENT_SIZE = 4 * 1024**3


def fragment_size(requested: int) -> int:
    """The size the official SDK uses for a requested one: at least a chunk, rounded up to a power of two."""
    return next_pow2(max(requested, CHUNK_SIZE))


def split(size: int, requested: int = DEFAULT_FRAGMENT_SIZE) -> list[tuple[int, int]]:
    """(offset, size) of each fragment of a `size`-byte file."""
    step = fragment_size(requested)
    return [(offset, min(step, size - offset)) for offset in range(0, size, step)]


@dataclass(frozen=True)
class Fragment:
    """One stored fragment. `offset` is its first byte in the whole file: a stream that runs across the
    fragments (an encryption's CTR counter) continues from there."""

    root: str
    offset: int
    size: int
    tx_seq: int
