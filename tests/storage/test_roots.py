"""File roots and submission nodes are byte-identical to the official 0G TS SDK on boundary sizes."""

from __future__ import annotations

import base64
import os
import random
from pathlib import Path

import pytest

from tests.storage.sdk import official_sdk
from zerog.storage.merkle import (
    CHUNK_SIZE,
    SEGMENT_SIZE,
    FileLayout,
    FileTree,
    decode_segment,
    keccak256,
    padded_chunks,
    split_nodes,
    zero_hash,
)

KIB, MIB = 1024, 1024 * 1024
#: 1920 chunks pad to 1024+512+256+128: the four-node submission.
FOUR_NODES = 1920 * 256 - 100
SIZES = [
    1,
    255,
    256,
    257,
    SEGMENT_SIZE - 1,
    SEGMENT_SIZE,
    SEGMENT_SIZE + 1,
    MIB + 1,
    FOUR_NODES,
    1_300_000,
    4 * MIB + 1,
]


def pattern(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_roots__equal_the_official_sdk(tmp_path: Path) -> None:
    files = []
    for seed, size in enumerate(SIZES):
        path = tmp_path / f"f{size}.bin"
        path.write_bytes(pattern(size, seed))
        files.append(path)
    theirs = official_sdk("root", *map(str, files))["roots"]
    ours = [FileTree.from_path(path).root_hex for path in files]
    assert ours == theirs


def test_roots__known_vectors() -> None:
    # Computed once with the official SDK: 1 byte 0x01, and bytes i % 251.
    assert FileTree.from_bytes(b"\x01").root_hex == (
        "0xd824f453688dd43b32a73fde006eb8bec9f94441674e975dba8202d531ff07fa"
    )
    tree = FileTree.from_bytes(bytes(i % 251 for i in range(SEGMENT_SIZE + 1)))
    assert tree.root_hex == "0x1458412a6ece9f4f9dc83ade0c68037378ef3e10fe484cea5d451cc10c9212d0"
    assert [h for _, h in tree.submission_nodes()] == [10, 7]
    assert tree.submission_nodes()[1][0].hex() == "ccbcdbc37fd2c6dd3f67f5e88b1358108db019d506e6bf8d8ef630ee5b390533"
    assert zero_hash(10).hex() == "e68d02859bb6211cec64f52368b77d422de3b8eac34bf615942b814b643301b5"


@pytest.mark.parametrize(("chunks", "padded"), [(1, 1), (3, 3), (17, 18), (600, 640), (1025, 1152), (16385, 18432)])
def test_padding__follows_the_flow_rule(chunks: int, padded: int) -> None:
    assert padded_chunks(chunks) == padded


def test_submission_nodes__four_nodes_at_most_and_cover_the_padding() -> None:
    tree = FileTree.from_bytes(pattern(FOUR_NODES, 7))
    assert [h for _, h in tree.submission_nodes()] == [10, 9, 8, 7]
    for chunks in range(1, 20_000, 37):
        nodes = split_nodes(padded_chunks(chunks))
        assert len(nodes) <= 4 and sum(nodes) == padded_chunks(chunks)


def test_proofs__every_segment_verifies_and_tampering_fails() -> None:
    tree = FileTree.from_bytes(os.urandom(1_300_000))
    for index in range(tree.num_segments_padded):
        proof = tree.proof(index)
        assert proof.verify(tree.root, tree.segment_roots[index], index, tree.num_segments_padded)
        assert not proof.verify(tree.root, tree.segment_roots[index - 1], index, tree.num_segments_padded)
        if proof.path:
            assert not proof.verify(tree.root, tree.segment_roots[index], (index + 1) % 5, tree.num_segments_padded)


def test_parallel_and_serial_roots_agree(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(64 * SEGMENT_SIZE + 12345))
    assert FileTree.from_path(path, threads=2).root == FileTree.from_path(path, threads=1).root


def reference_root(data: bytes, padded: int) -> bytes:
    """One hash at a time (the scalar keccak), against the C code's four at a time."""
    leaves = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)]
    nodes = [keccak256(leaf) for leaf in leaves] + [keccak256(bytes(CHUNK_SIZE))] * (padded - len(leaves))
    while len(nodes) > 1:
        nodes = [keccak256(nodes[i] + nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)] + nodes[len(nodes) // 2 * 2 :]
    return nodes[0]


@pytest.mark.parametrize(("chunks", "padded"), [(1, 1), (3, 4), (5, 8), (7, 7), (13, 16), (1023, 1024), (1024, 1024)])
def test_decode_segment__base64_and_root_as_one_hash_at_a_time(chunks: int, padded: int) -> None:
    data = pattern(chunks * CHUNK_SIZE, chunks)
    assert decode_segment(base64.b64encode(data).decode(), CHUNK_SIZE, chunks, padded) == (
        data,
        reference_root(data, padded),
    )


THREE_CHUNKS = base64.b64encode(bytes(3 * CHUNK_SIZE)).decode()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (base64.b64encode(bytes(4 * CHUNK_SIZE)).decode(), "1024 bytes, expected 768"),
        (THREE_CHUNKS[:-1], "not base64"),
        ("-" + THREE_CHUNKS[1:], "not base64"),
        (THREE_CHUNKS[:10] + "=" + THREE_CHUNKS[11:], "not base64"),
        ("é" * len(THREE_CHUNKS), "not base64"),
    ],
)
def test_decode_segment__rejects_what_is_not_strict_base64_of_the_size(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        decode_segment(text, CHUNK_SIZE, 3, 4)


def test_empty_file__is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        FileTree.from_path(tmp_path / "empty")
    with pytest.raises(ValueError, match="empty file"):
        FileLayout(0)
