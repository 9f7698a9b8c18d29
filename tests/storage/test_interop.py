"""Our storage network and the official 0G TS SDK, unmodified, in both directions (through `zg up`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from chain_node.process import wait_until
from tests.conftest import tool_env
from tests.storage.sdk import official_sdk
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.cli import cli
from zerog.storage.client import nodes_from_indexer, submit, upload
from zerog.storage.merkle import SEGMENT_SIZE, FileTree

SDK_ACCOUNT = 7


def zg(settings, *args: str):
    result = CliRunner().invoke(cli, ["--json", *args], env=tool_env(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("size", "task_size"),
    [
        (1000, None),  # one segment: the second shard holds none of it
        (4 * SEGMENT_SIZE - 10, None),  # two segments per shard
        (3 * SEGMENT_SIZE + 5, "4"),  # odd segment count: the SDK needs taskSize >= segments per shard
    ],
)
def test_official_upload__then_our_download(up_network, tmp_path: Path, size: int, task_size: str | None) -> None:
    original = tmp_path / "theirs.bin"
    original.write_bytes(os.urandom(size))
    key = dev_account(SDK_ACCOUNT).key.to_0x_hex()
    args = ["upload", str(original), up_network.rpc_url, key, up_network.indexer_url]
    result = official_sdk(*args, *([task_size] if task_size else []))
    assert result["root"] == FileTree.from_path(original).root_hex
    copy = tmp_path / "ours.bin"
    zg(up_network, "storage", "download", result["root"], str(copy))
    assert copy.read_bytes() == original.read_bytes()


def test_our_upload__then_official_download(up_network, tmp_path: Path) -> None:
    original = tmp_path / "ours.bin"
    original.write_bytes(os.urandom(2 * SEGMENT_SIZE + 77))
    root = json.loads(zg(up_network, "storage", "upload", str(original)).output)["root"]
    copy = tmp_path / "theirs.bin"
    official_sdk("download", root, str(copy), up_network.indexer_url)
    assert copy.read_bytes() == original.read_bytes()


def test_fragments__ours_to_official_multi_root_download_and_back(up_network, tmp_path: Path) -> None:
    """A file split in fragments (small ones here; 4 GiB by default) either way: the official SDK's split and
    its multi-root download match ours."""
    original = tmp_path / "large.bin"
    original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 99))
    fragment = str(2 * SEGMENT_SIZE - 1)  # rounded up to 2 segments by both
    uploaded = json.loads(zg(up_network, "storage", "upload", str(original), "--fragment-size", fragment).output)
    assert len(uploaded["fragments"]) == 2
    copy = tmp_path / "theirs.bin"
    official_sdk("download", uploaded["root"], str(copy), up_network.indexer_url)
    assert copy.read_bytes() == original.read_bytes()

    theirs = tmp_path / "theirs-large.bin"
    theirs.write_bytes(os.urandom(4 * SEGMENT_SIZE + 5))
    key = dev_account(SDK_ACCOUNT).key.to_0x_hex()
    result = official_sdk("upload", str(theirs), up_network.rpc_url, key, up_network.indexer_url, "4", fragment)
    assert len(result["root"].split(",")) == 3
    ours = tmp_path / "ours-large.bin"
    zg(up_network, "storage", "download", result["root"], str(ours))
    assert ours.read_bytes() == theirs.read_bytes()


def test_paid_twice__every_node_names_the_same_tx_and_the_official_download_works(up_network, tmp_path: Path) -> None:
    """A first upload finalizes one shard only and the root is paid again (what the official SDK does for a root
    it sees unfinalized): both nodes must answer with the same tx, else its download fails ("No storage node
    holds segment with index 1")."""
    w3 = connect(up_network.rpc_url)
    deployment = Deployment.for_settings(up_network, w3.eth.chain_id)
    nodes = nodes_from_indexer(up_network.indexer_url)
    account = dev_account(SDK_ACCOUNT)
    original = tmp_path / "twice.bin"
    original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 11))
    tree = FileTree.from_path(original)
    upload(original, nodes[:1], w3, account, deployment)  # pays; only the first shard gets (and finalizes) it
    _, (again,) = submit(w3, account, deployment, [tree])  # the second payment
    for node in nodes:
        assert wait_until(lambda node=node: node.client.file_info_by_tx_seq(again) is not None, 60)
    assert len({node.client.file_info(tree.root_hex)["tx"]["seq"] for node in nodes}) == 1

    assert upload(original, nodes, w3, account, deployment).tx_hash is None  # completes the other shard
    copy = tmp_path / "theirs.bin"
    official_sdk("download", tree.root_hex, str(copy), up_network.indexer_url)
    assert copy.read_bytes() == original.read_bytes()
