"""Our storage client end to end on `zg up`: resumed uploads pay once, downloads verify every segment
and fall back to honest nodes, outputs are atomic, and bad input fails clearly."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from coincurve import PrivateKey

from tests.conftest import tool_env
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.cli import cli
from zerog.storage.client import (
    FileNotFoundOnNetworkError,
    Node,
    Progress,
    StorageError,
    UploadResult,
    download,
    nodes_from_indexer,
    read_range,
    submit,
    upload,
)
from zerog.storage.encryption import SYMMETRIC_HEADER_SIZE, Decryptor, Encryptor
from zerog.storage.journal import SentSubmission, SubmitJournal, find_paid
from zerog.storage.merkle import SEGMENT_SIZE, FileTree
from zerog.storage.rpc import StorageNodeClient

UPLOADER = 5


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def network(up_network):
    w3 = connect(up_network.rpc_url)
    return (
        up_network,
        w3,
        Deployment.for_settings(up_network, w3.eth.chain_id),
        nodes_from_indexer(up_network.indexer_url),
    )


def test_upload__interrupted_then_resumed_pays_once(network, tmp_path: Path) -> None:
    settings, w3, deployment, nodes = network
    original = tmp_path / "big.bin"
    original.write_bytes(os.urandom(80 * SEGMENT_SIZE - 3))  # 40 segments per shard: four batches each
    root = FileTree.from_path(original).root_hex
    account = dev_account(UPLOADER)
    batches = []

    def stop_after_first_batch(amount: int) -> None:
        batches.append(amount)
        if len(batches) == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        upload(original, nodes, w3, account, deployment, progress=stop_after_first_batch)
    balance = w3.eth.get_balance(account.address)
    infos = [node.client.file_info(root) for node in nodes]
    assert all(info is not None for info in infos)
    assert not all(info["finalized"] for info in infos)

    sent = []
    result = upload(original, nodes, w3, account, deployment, progress=sent.append)
    assert result.tx_hash is None  # the Submit of the first attempt is reused: nothing paid twice
    assert w3.eth.get_balance(account.address) == balance
    assert sent[0] > 0  # segments the nodes already had were skipped
    assert all(node.client.file_info(root)["finalized"] for node in nodes)
    out = tmp_path / "copy.bin"
    download(result.root, out, nodes)
    assert out.read_bytes() == original.read_bytes()


def test_encrypted_upload__interrupted_then_resumed_pays_once(network, tmp_path: Path) -> None:
    """Each attempt draws fresh randomness, as `zg storage upload --encrypt-to` does: the journal gives the retry
    the first attempt's, so it is the same root, paid once, and the recipient decrypts it."""
    settings, w3, deployment, nodes = network
    original = tmp_path / "secret.bin"
    original.write_bytes(os.urandom(80 * SEGMENT_SIZE))  # 40 segments per shard: four batches each
    account, recipient = dev_account(UPLOADER), PrivateKey()
    journal = SubmitJournal(tmp_path / "journal")

    def attempt(progress: Progress) -> UploadResult:
        encryption = Encryptor.ecies(recipient.public_key.format())
        return upload(
            original, nodes, w3, account, deployment, progress=progress, journal=journal, encryption=encryption
        )

    def stop(amount: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        attempt(stop)
    (paid,) = [path.stem for path in journal.directory.glob("0x*.json")]  # the first attempt's transaction
    assert not all(node.client.file_info(paid)["finalized"] for node in nodes)
    balance = w3.eth.get_balance(account.address)
    sent: list[int] = []
    result = attempt(sent.append)
    assert result.root == paid and result.tx_hash is None and w3.eth.get_balance(account.address) == balance
    assert sent[0] > 0  # segments the nodes already had were skipped
    assert not list(journal.directory.iterdir())  # finalized: the ephemeral secret is gone with the rest
    out = tmp_path / "plain.bin"
    assert result.header is not None
    download(result.root, out, nodes, decryptor=Decryptor.for_header(result.header, private_key=recipient.secret))
    assert out.read_bytes() == original.read_bytes()


def test_upload__paid_but_never_synced_is_not_paid_again(network, tmp_path: Path) -> None:
    """The payment lands but the nodes do not see it in time (or the process dies): the retry finds the journaled
    transaction, or on another machine the Submit log, and pays nothing."""
    settings, w3, deployment, nodes = network
    original = tmp_path / "paid.bin"
    original.write_bytes(os.urandom(SEGMENT_SIZE + 7))
    account = dev_account(UPLOADER)
    journal = SubmitJournal(tmp_path / "journal")
    tree = FileTree.from_path(original)
    tx_hash, _ = submit(w3, account, deployment, [tree], journal=journal)  # paid; the upload never ran
    assert journal.get(tree.root_hex) == SentSubmission(tx_hash, account.address)
    balance = w3.eth.get_balance(account.address)

    result = upload(original, nodes, w3, account, deployment, journal=SubmitJournal(tmp_path / "elsewhere"))
    assert result.tx_hash is None and w3.eth.get_balance(account.address) == balance
    node_roots = [root for root, _ in tree.submission_nodes()]
    assert find_paid(w3, deployment, account.address, tree.root_hex, node_roots, journal) == result.tx_seq
    unknown = journal.directory / f"{'0x' + '12' * 32}.json"
    unknown.write_text(json.dumps({"tx_hash": "0x" + "34" * 32, "submitter": account.address}))
    assert find_paid(w3, deployment, account.address, "0x" + "12" * 32, [bytes(32)], journal) is None
    assert not unknown.exists()  # a transaction the chain never saw is forgotten


def test_fragments__batch_paid_downloaded_and_read_in_ranges(network, tmp_path: Path, monkeypatch) -> None:
    settings, w3, deployment, nodes = network
    original = tmp_path / "large.bin"
    original.write_bytes(os.urandom(5 * SEGMENT_SIZE + 1234))
    result = upload(original, nodes, w3, dev_account(UPLOADER), deployment, fragment_size=3 * SEGMENT_SIZE)
    step = 4 * SEGMENT_SIZE  # rounded up to a power of two, as the official SDK does
    assert [(f.offset, f.size) for f in result.fragments] == [(0, step), (step, SEGMENT_SIZE + 1234)]
    assert result.roots[1] == FileTree.from_bytes(original.read_bytes()[step:]).root_hex
    assert result.fragments[1].tx_seq == result.fragments[0].tx_seq + 1  # one batchSubmit

    whole = tmp_path / "whole.bin"
    assert download(result.roots, whole, nodes) == original.stat().st_size
    assert whole.read_bytes() == original.read_bytes()
    data = original.read_bytes()
    for offset, length in [(0, 1), (step - 10, 20), (SEGMENT_SIZE + 5, 2 * SEGMENT_SIZE), (len(data) - 3, 3)]:
        assert read_range(result.roots, nodes, offset, length) == data[offset : offset + length]
    with pytest.raises(StorageError, match="not inside"):
        read_range(result.roots, nodes, len(data) - 3, 4)

    fetched: list[int] = []
    real = StorageNodeClient.download_segments_with_proof

    def counting(self: StorageNodeClient, root: str, indices: list[int]):
        fetched.extend(indices)
        return real(self, root, indices)

    monkeypatch.setattr(StorageNodeClient, "download_segments_with_proof", counting)
    assert read_range(result.root, nodes, 2 * SEGMENT_SIZE + 1, 100) == data[2 * SEGMENT_SIZE + 1 :][:100]
    monkeypatch.undo()
    assert fetched == [2]  # only the segment covering the range

    part = tmp_path / "part.bin"
    cli = run_zg(
        settings, "--json", "storage", "download", ",".join(result.roots), str(part),
        "--offset", str(step - 5), "--length", "10",
    )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert part.read_bytes() == data[step - 5 : step + 5]


def test_encrypted_range_read__plaintext_bytes_from_the_covering_segments_only(
    network, tmp_path: Path, monkeypatch
) -> None:
    settings, w3, deployment, nodes = network
    original = tmp_path / "secret.bin"
    original.write_bytes(os.urandom(4 * SEGMENT_SIZE))
    key = os.urandom(32)
    result = upload(original, nodes, w3, dev_account(UPLOADER), deployment, encryption=Encryptor.symmetric(key))
    assert result.header is not None
    decryptor = Decryptor.for_header(result.header, symmetric_key=key)
    data = original.read_bytes()
    offset = 2 * SEGMENT_SIZE - SYMMETRIC_HEADER_SIZE - 10  # stored bytes [2 segments - 10, + 20): segments 1, 2

    fetched: list[int] = []
    real = StorageNodeClient.download_segments_with_proof

    def counting(self: StorageNodeClient, root: str, indices: list[int]):
        fetched.extend(indices)
        return real(self, root, indices)

    monkeypatch.setattr(StorageNodeClient, "download_segments_with_proof", counting)
    assert read_range(result.root, nodes, offset, 20, decryptor) == data[offset : offset + 20]
    monkeypatch.undo()
    assert sorted(fetched) == [1, 2]
    with pytest.raises(StorageError, match=f"not inside the file's {len(data)} bytes"):
        read_range(result.root, nodes, len(data) - 3, 4, decryptor)

    part = tmp_path / "part.bin"
    args = [result.root, str(part), "--decrypt-key", key.hex(), "--offset", str(len(data) - 5)]
    cli = run_zg(settings, "--json", "storage", "download", *args)  # to the end
    assert cli.exit_code == 0, cli.output
    assert part.read_bytes() == data[-5:] and json.loads(cli.output)["size"] == 5


class LyingNode(BaseHTTPRequestHandler):
    """A storage node that forwards to an honest one but flips a byte of every segment it serves."""

    upstream = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = httpx.post(self.upstream, content=body, headers={"content-type": "application/json"}).json()
        for answer in reply if isinstance(reply, list) else [reply]:  # batches too
            result = answer.get("result")
            if isinstance(result, dict) and "data" in result:
                data = bytearray(base64.b64decode(result["data"]))
                data[0] ^= 0xFF
                result["data"] = base64.b64encode(bytes(data)).decode()
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def liar(network) -> Iterator[Node]:
    _, _, _, nodes = network
    honest = nodes[0]
    handler = type("Liar", (LyingNode,), {"upstream": honest.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Node(StorageNodeClient(f"http://127.0.0.1:{server.server_port}"), honest.shard_id, honest.num_shard)
    finally:
        server.shutdown()


def test_download__bad_data_falls_back_to_an_honest_node(network, liar: Node, tmp_path: Path) -> None:
    settings, w3, deployment, nodes = network
    original = tmp_path / "f.bin"
    original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 5))
    result = upload(original, nodes, w3, dev_account(UPLOADER), deployment)
    out = tmp_path / "out.bin"
    download(result.root, out, [liar, *nodes])
    assert out.read_bytes() == original.read_bytes()


def test_download__only_bad_data_fails_and_leaves_nothing(network, liar: Node, tmp_path: Path) -> None:
    settings, w3, deployment, nodes = network
    original = tmp_path / "f.bin"
    original.write_bytes(os.urandom(2 * SEGMENT_SIZE + 9))
    result = upload(original, nodes, w3, dev_account(UPLOADER), deployment)
    others = [n for n in nodes if n.shard_id != liar.shard_id]
    out = tmp_path / "out.bin"
    with pytest.raises(StorageError, match="proof does not match root"):
        download(result.root, out, [liar, *others])
    assert list(tmp_path.iterdir()) == [original]  # no output, no temp file


def test_download__unknown_root_and_existing_output(network, tmp_path: Path) -> None:
    _, _, _, nodes = network
    with pytest.raises(FileNotFoundOnNetworkError, match="not stored"):
        download("0x" + "ab" * 32, tmp_path / "x", nodes)
    existing = tmp_path / "exists"
    existing.write_text("keep me")
    with pytest.raises(StorageError, match="exists"):
        download("0x" + "ab" * 32, existing, nodes)
    assert existing.read_text() == "keep me"


def run_zg(settings, *args: str):
    return CliRunner().invoke(cli, list(args), env=tool_env(settings))


def test_cli__upload_info_download_and_errors(network, tmp_path: Path) -> None:
    settings = network[0]
    original = tmp_path / "cli.bin"
    original.write_bytes(os.urandom(5000))
    uploaded = run_zg(settings, "--json", "storage", "upload", str(original), "--tags", "0xabcd")
    assert uploaded.exit_code == 0, uploaded.output
    root = json.loads(uploaded.output)["root"]
    info = run_zg(settings, "storage", "info", root)
    assert info.exit_code == 0 and "finalized" in info.output and "size 5000" in info.output
    again = run_zg(settings, "--json", "storage", "upload", str(original))
    assert json.loads(again.output)["txHash"] is None  # already stored: no second payment

    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    result = run_zg(settings, "storage", "upload", str(empty))
    assert result.exit_code == 1 and "empty" in result.output
    result = run_zg(settings, "storage", "download", "0x" + "cd" * 32, str(tmp_path / "nope"))
    assert result.exit_code == 1 and "not stored" in result.output
    result = run_zg(settings, "storage", "download", "0x1234", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "not a 32-byte hex root" in result.output
    result = run_zg(settings, "storage", "info", "0x" + "cd" * 32)
    assert result.exit_code == 1 and "not known" in result.output
