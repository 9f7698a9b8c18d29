"""Our storage network and KV node and the official 0G TS SDK, unmodified, in both directions (through `zg up`)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from coincurve import PrivateKey

from chain_node.process import wait_until
from tests.conftest import tool_env
from tests.storage.sdk import official_sdk
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.cli import cli
from zerog.storage.client import nodes_from_indexer, submit, upload
from zerog.storage.encryption import ECIES_HEADER_SIZE, SYMMETRIC_HEADER_SIZE
from zerog.storage.kv import KvClient, StreamData, stream_tags
from zerog.storage.merkle import SEGMENT_SIZE, FileTree
from zerog.storage.rpc import StorageNodeClient

SDK_ACCOUNT = 7


def zg(settings, *args: str):
    result = CliRunner().invoke(cli, ["--json", *args], env=tool_env(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def finalized_on(url: str, root: str) -> bool:
    info = StorageNodeClient(url).file_info(root, True)
    return bool(info and info.get("finalized"))


@pytest.mark.parametrize(
    "size",
    [
        1000,  # one segment: the second shard holds none of it
        4 * SEGMENT_SIZE - 10,  # two segments per shard
        3 * SEGMENT_SIZE + 5,  # an odd count: the shards' shares differ (the SDK drops a task over two half-shards)
    ],
)
def test_official_upload__default_options__then_our_download(up_network, tmp_path: Path, size: int) -> None:
    """The official SDK with its default options: it picks the fewest nodes (the full replica `zg up` runs), and
    replication then fills both shards from it."""
    original = tmp_path / "theirs.bin"
    original.write_bytes(os.urandom(size))
    key = dev_account(SDK_ACCOUNT).key.to_0x_hex()
    result = official_sdk("upload", str(original), up_network.rpc_url, key, up_network.indexer_url)
    assert result["root"] == FileTree.from_path(original).root_hex
    copy = tmp_path / "ours.bin"
    zg(up_network, "storage", "download", result["root"], str(copy))
    assert copy.read_bytes() == original.read_bytes()
    network = json.loads(up_network.network_file.read_text())
    for node in ("storage-0", "storage-1"):
        assert wait_until(lambda n=node: finalized_on(network[n], result["root"]), 30, 0.2), f"{node} never got it"


def test_our_upload__then_official_download(up_network, tmp_path: Path) -> None:
    original = tmp_path / "ours.bin"
    original.write_bytes(os.urandom(2 * SEGMENT_SIZE + 77))
    root = json.loads(zg(up_network, "storage", "upload", str(original)).output)["root"]
    copy = tmp_path / "theirs.bin"
    official_sdk("download", root, str(copy), up_network.indexer_url)
    assert copy.read_bytes() == original.read_bytes()


# ---------------------------------------------------------------- KV streams


def kv_result(settings, tx_seq: int, timeout: float = 60) -> str:
    client = KvClient(settings.kv_url)
    assert wait_until(lambda: client.transaction_result(tx_seq) is not None, timeout, 0.2), f"tx {tx_seq} not replayed"
    return client.transaction_result(tx_seq)


def test_kv__official_batcher_writes__our_node_and_cli_read(up_network) -> None:
    stream = "0x" + (bytes([0x51]) * 32).hex()
    key = dev_account(SDK_ACCOUNT).key.to_0x_hex()
    args = [up_network.rpc_url, key, up_network.indexer_url, stream, b"hello".hex() + "=" + b"world".hex()]
    written = official_sdk("kv-put", *args)
    assert kv_result(up_network, written["txSeq"]) == "Commit"
    theirs = official_sdk("kv-get", up_network.kv_url, stream, b"hello".hex())
    assert base64.b64decode(theirs["data"]) == b"world" and theirs["version"] == written["txSeq"]
    assert json.loads(zg(up_network, "storage", "kv", "get", stream, "hello").output)["value"] == "world"


def test_kv__our_cli_writes__official_client_reads(up_network) -> None:
    stream = "0x" + (bytes([0x52]) * 32).hex()
    out = json.loads(zg(up_network, "storage", "kv", "put", stream, "k1", "v1").output)
    assert out["result"] == "Commit"
    zg(up_network, "storage", "kv", "put", "--hex", stream, "6b32", "00ff")
    theirs = official_sdk("kv-get", up_network.kv_url, stream, b"k1".hex())
    assert base64.b64decode(theirs["data"]) == b"v1" and theirs["version"] == out["txSeq"]
    rows = json.loads(zg(up_network, "storage", "kv", "ls", stream).output)
    assert [(r["key"], r["value"]) for r in rows] == [("k1", "v1"), ("k2", "0x00ff")]
    # Only the stream's admin (the first writer, dev account 0) or its writers may write.
    stranger = tool_env(up_network, ZG_PRIVATE_KEY=dev_account(9).key.to_0x_hex())
    denied = CliRunner().invoke(cli, ["--json", "storage", "kv", "put", stream, "k1", "x"], env=stranger)
    assert denied.exit_code == 1 and '"WritePermissionDenied' in denied.output


def test_kv__data_never_uploaded__skipped_and_later_txs_replay(up_network) -> None:
    stream = bytes([0x53]) * 32
    w3 = connect(up_network.rpc_url)
    blob = StreamData(writes=[(stream, b"lost", b"never uploaded")]).encode()
    deployment = Deployment.for_settings(up_network, w3.eth.chain_id)
    _, (seq,) = submit(w3, dev_account(0), deployment, [FileTree.from_bytes(blob)], stream_tags([stream]))
    out = json.loads(zg(up_network, "storage", "kv", "put", "0x" + stream.hex(), "after", "ok").output)
    assert out["result"] == "Commit" and out["txSeq"] > seq
    assert KvClient(up_network.kv_url).transaction_result(seq) == "DownloadFailed"


def test_kv__blob_over_the_limit__recorded_unfetched_and_later_txs_replay(up_network) -> None:
    stream = bytes([0x54]) * 32
    w3 = connect(up_network.rpc_url)
    blob = StreamData(writes=[(stream, b"big", bytes(up_network.kv_max_blob_bytes))]).encode()
    deployment = Deployment.for_settings(up_network, w3.eth.chain_id)
    # Never uploaded: a fetch would end in DownloadFailed after ZG_KV_FETCH_TIMEOUT, not in this result.
    _, (seq,) = submit(w3, dev_account(0), deployment, [FileTree.from_bytes(blob)], stream_tags([stream]))
    out = json.loads(zg(up_network, "storage", "kv", "put", "0x" + stream.hex(), "after", "ok").output)
    assert out["result"] == "Commit" and out["txSeq"] > seq
    limit = up_network.kv_max_blob_bytes
    result = KvClient(up_network.kv_url).transaction_result(seq)
    assert result == f"DataParseError: data too large: {len(blob)} bytes, this node's limit is {limit}"


# ---------------------------------------------------------------- encryption (docs/storage-wire.md §5)

RECIPIENT = 0  # the `zg` default signer: `--decrypt` uses its key
AES_KEY = "0x" + bytes(range(32)).hex()


def recipient_public_key() -> str:
    return "0x" + PrivateKey(bytes(dev_account(RECIPIENT).key)).public_key.format(compressed=False).hex()


@pytest.mark.parametrize(
    ("encryption", "size", "header_size"),
    [
        ({"type": "ecies", "recipientPubKey": None}, 4 * SEGMENT_SIZE - 100, ECIES_HEADER_SIZE),
        ({"type": "aes256", "key": AES_KEY}, 1000, SYMMETRIC_HEADER_SIZE),
    ],
)
def test_official_encrypted_upload__then_our_peek_and_decrypting_download(
    up_network, tmp_path: Path, encryption: dict, size: int, header_size: int
) -> None:
    original = tmp_path / "secret.bin"
    original.write_bytes(os.urandom(size))
    if encryption["type"] == "ecies":
        encryption["recipientPubKey"] = recipient_public_key()
    key = dev_account(SDK_ACCOUNT).key.to_0x_hex()
    args = ["upload", str(original), up_network.rpc_url, key, up_network.indexer_url, "", "", json.dumps(encryption)]
    root = official_sdk(*args)["root"]
    peeked = json.loads(zg(up_network, "storage", "peek", root).output)
    assert peeked["encrypted"] and peeked["headerSize"] == header_size
    stored = tmp_path / "stored.bin"
    zg(up_network, "storage", "download", root, str(stored))  # no flag: the stored bytes as they are
    assert stored.stat().st_size == size + header_size
    assert FileTree.from_path(stored).root_hex == root
    flag = ["--decrypt"] if encryption["type"] == "ecies" else ["--decrypt-key", AES_KEY]
    plain = tmp_path / "plain.bin"
    zg(up_network, "storage", "download", root, str(plain), *flag)
    assert plain.read_bytes() == original.read_bytes()


@pytest.mark.parametrize("version", [1, 2])
def test_our_encrypted_upload__then_official_decrypting_download(up_network, tmp_path: Path, version: int) -> None:
    original = tmp_path / "secret.bin"
    original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 9))
    recipient_key = dev_account(RECIPIENT).key.to_0x_hex()
    flag, decryption = {
        1: (["--encrypt-key", AES_KEY], {"symmetricKey": AES_KEY}),
        2: (["--encrypt-to", recipient_public_key()], {"privateKey": recipient_key}),
    }[version]
    uploaded = json.loads(zg(up_network, "storage", "upload", str(original), *flag).output)
    assert uploaded["encryption"]["version"] == version
    copy = tmp_path / "theirs.bin"
    official_sdk("download-blob", uploaded["root"], str(copy), up_network.indexer_url, json.dumps(decryption))
    assert copy.read_bytes() == original.read_bytes()


def zg_fails(settings, *args: str, **env: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=tool_env(settings, **env))
    assert result.exit_code != 0, result.output
    return result.output


def test_decrypting_download__bad_input_fails_clearly_and_writes_nothing(up_network, tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"just text, long enough to hold any header: " + os.urandom(100))
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"\x02" + bytes(PrivateKey().public_key.format(compressed=True))[:20])
    secret = tmp_path / "secret.bin"
    secret.write_bytes(os.urandom(5000))
    plain_root, truncated_root, secret_root = (
        json.loads(zg(up_network, "storage", "upload", str(path), *flag).output)["root"]
        for path, flag in [(plain, []), (truncated, []), (secret, ["--encrypt-to", recipient_public_key()])]
    )
    out = tmp_path / "out.bin"
    assert "not an encrypted file" in zg_fails(up_network, "storage", "download", plain_root, str(out), "--decrypt")
    assert "truncated v2" in zg_fails(up_network, "storage", "download", truncated_root, str(out), "--decrypt")
    assert "truncated v2" in json.loads(zg(up_network, "storage", "peek", truncated_root).output).get("reason", "")
    wrong_kind = zg_fails(up_network, "storage", "download", secret_root, str(out), "--decrypt-key", AES_KEY)
    assert "needs the recipient's private key" in wrong_kind
    both = zg_fails(up_network, "storage", "download", secret_root, str(out), "--decrypt", "--decrypt-key", AES_KEY)
    assert "exclude each other" in both
    assert not out.exists() and not list(tmp_path.glob(".out.bin.*"))
    # A wrong private key is not detectable (AES-CTR, no MAC): the output is noise of the right size.
    other = dev_account(9).key.to_0x_hex()
    result = CliRunner().invoke(
        cli, ["storage", "download", secret_root, str(out), "--decrypt"], env=tool_env(up_network, ZG_PRIVATE_KEY=other)
    )
    assert result.exit_code == 0 and "cannot tell a wrong key" in result.output
    assert out.stat().st_size == 5000 and out.read_bytes() != secret.read_bytes()


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


def test_encrypted_fragments__header_in_the_first_counter_runs_on(up_network, tmp_path: Path) -> None:
    """Encryption composes with fragments as in the official clients: the stream (header ‖ ciphertext) is split,
    so only fragment 0 starts with the header, and a multi-root decrypting download gives the file back."""
    original = tmp_path / "large-secret.bin"
    original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 99))
    args = [str(original), "--fragment-size", str(2 * SEGMENT_SIZE), "--encrypt-key", AES_KEY]
    uploaded = json.loads(zg(up_network, "storage", "upload", *args).output)
    roots = [f["root"] for f in uploaded["fragments"]]
    assert len(roots) == 2 and uploaded["size"] == original.stat().st_size + SYMMETRIC_HEADER_SIZE
    assert json.loads(zg(up_network, "storage", "peek", roots[0]).output)["encrypted"]
    plain = tmp_path / "plain.bin"
    zg(up_network, "storage", "download", ",".join(roots), str(plain), "--decrypt-key", AES_KEY)
    assert plain.read_bytes() == original.read_bytes()
