"""Upload and download files through 0G storage nodes, as the official SDK does, with every segment
proof-checked on the way down and uploads that resume where they stopped."""

from __future__ import annotations

import base64
import itertools
import mmap
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from zerog.chain import Deployment, send_transaction
from zerog.errors import ZeroGError
from zerog.storage.contracts import flow_contract, market_of
from zerog.storage.encryption import Decryptor, EncryptedView, Encryptor
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, SEGMENT_SIZE, FileLayout, FileTree, Proof, segment_root
from zerog.storage.rpc import IndexerClient, RpcError, StorageNodeClient

#: Segments per upload call (the official SDK's batch size is 10 too).
#: Gas a transaction may need beyond its estimate when it lands in a new epoch and makes the epoch's context
#: (Flow.submit, PoraMine.submit): a 64-level root fold with every frontier slot cold, plus the context's storage.
CONTEXT_GAS_RESERVE = 250_000
UPLOAD_BATCH_SEGMENTS = 10
#: Parallel requests: uploads wait on the node's verification, downloads are bound by our own hashing.
UPLOAD_THREADS = 4
DOWNLOAD_THREADS = max(2, os.cpu_count() or 1)
SYNC_TIMEOUT_SECONDS = 120
POLL_SECONDS = 0.2
#: The node's answer when a segment it is sent is already stored and the file complete.
FINALIZED_MARKER = "already uploaded and finalized"

Progress = Callable[[int], None]
T = TypeVar("T")


class StorageError(ZeroGError):
    """An upload or download could not complete."""


class FileNotFoundOnNetworkError(StorageError):
    """No storage node holds the requested root."""


@dataclass(frozen=True)
class Node:
    """A storage node and the shard it stores: global segment g lives here iff g % num_shard == shard_id."""

    client: StorageNodeClient
    shard_id: int
    num_shard: int

    @property
    def url(self) -> str:
        return self.client.url

    def holds(self, global_segment: int) -> bool:
        return global_segment % self.num_shard == self.shard_id


@dataclass(frozen=True)
class UploadResult:
    root: str
    tx_hash: str | None  # None when the network already had the file (nothing was paid)
    tx_seq: int
    size: int


def connect_nodes(urls: list[str]) -> list[Node]:
    nodes = []
    for url in urls:
        client = StorageNodeClient(url)
        config = client.shard_config()
        nodes.append(Node(client, int(config["shardId"]), int(config["numShard"])))
    return nodes


def nodes_from_indexer(indexer_url: str) -> list[Node]:
    """The indexer's trusted nodes, reduced to a set that covers every shard."""
    listing = IndexerClient(indexer_url).sharded_nodes()
    trusted = sorted(listing.get("trusted") or [], key=lambda n: (n["config"]["numShard"], n["config"]["shardId"]))
    return covering_set(
        [Node(StorageNodeClient(n["url"]), n["config"]["shardId"], n["config"]["numShard"]) for n in trusted]
    )


def covering_set(nodes: list[Node]) -> list[Node]:
    """Fewest nodes (coarsest shards first) such that every segment has a home."""
    if not nodes:
        raise StorageError("no storage nodes are known (is the indexer or node list configured?)")
    width = max(n.num_shard for n in nodes)
    covered: set[int] = set()
    chosen = []
    for node in nodes:
        residues = {r for r in range(width) if node.holds(r)}
        if not residues <= covered:
            chosen.append(node)
            covered |= residues
    if len(covered) < width:
        raise StorageError(f"the known nodes cover only {len(covered)} of {width} shards")
    return chosen


# ---------------------------------------------------------------- upload


def submit(
    w3: Web3, account: LocalAccount, deployment: Deployment, tree: FileTree, tags: bytes = b""
) -> tuple[str, int]:
    """Pay for and register `tree` in the Flow; returns (tx hash, tx seq)."""
    flow = flow_contract(w3, deployment)
    market = market_of(w3, deployment, flow)
    nodes = tree.submission_nodes()
    fee = sum(1 << height for _, height in nodes) * market.functions.pricePerSector().call()
    submission = ((tree.size, tags, [(root, height) for root, height in nodes]), account.address)
    receipt = send_transaction(
        w3,
        account,
        flow.functions.submit(submission),
        value=fee,
        decoder=deployment.error_decoder(),
        gas_reserve=CONTEXT_GAS_RESERVE,
    )
    (event,) = flow.events.Submit().process_receipt(receipt, errors=DISCARD)  # market/reward logs are not ours
    return receipt["transactionHash"].to_0x_hex(), int(event["args"]["submissionIndex"])


def upload(
    path: Path,
    nodes: list[Node],
    w3: Web3,
    account: LocalAccount,
    deployment: Deployment,
    *,
    tags: bytes = b"",
    progress: Progress | None = None,
    timeout: float = SYNC_TIMEOUT_SECONDS,
    encryption: Encryptor | None = None,
) -> UploadResult:
    """Submit (unless the network already knows the root), wait for the nodes to sync, push the missing
    segments with proofs, and wait until every node has finalized the file. With `encryption`, what is stored
    is the encrypted stream, produced segment by segment from the file as it is hashed and sent."""
    if encryption is None:
        tree = FileTree.from_path(path)
    else:
        with _mapped(path) as plain:
            tree = FileTree.from_reader(encryption.stream_size(len(plain)), encryption.view(plain).read)
    root = tree.root_hex
    infos = [node.client.file_info(root) for node in nodes]
    if all(info and info.get("finalized") for info in infos):
        _advance(progress, tree.size)
        return UploadResult(root, None, int(infos[0]["tx"]["seq"]), tree.size)
    known = next((info for info in infos if info), None)
    tx_hash = None
    if known is None:
        tx_hash, seq = submit(w3, account, deployment, tree, tags)
    else:
        seq = int(known["tx"]["seq"])  # an interrupted upload: pay nothing, send what is missing
    infos = [_wait_for(node, root, lambda info: info is not None, timeout, "sync the Submit log") for node in nodes]
    start_segment = int(infos[0]["tx"]["startEntryIndex"]) // SEGMENT_CHUNKS
    with _mapped(path) as plain:
        data = plain if encryption is None else encryption.view(plain)
        per_node = []
        for node, info in zip(nodes, infos, strict=True):
            if info["finalized"]:
                continue
            mine = [i for i in range(tree.num_segments) if node.holds(start_segment + i)]
            if info["uploadedSegNum"]:  # resuming: send only what the node lacks
                mine = [i for i in mine if not node.client.has_segment(root, i)]
            per_node.append(
                [(node, mine[i : i + UPLOAD_BATCH_SEGMENTS]) for i in range(0, len(mine), UPLOAD_BATCH_SEGMENTS)]
            )
        # Round-robin over the nodes, so every node is busy from the start.
        jobs = [job for batch in itertools.zip_longest(*per_node) for job in batch if job is not None]
        skipped = tree.size - sum(_segment_bytes(tree, i) for _, batch in jobs for i in batch)
        _advance(progress, skipped)

        def push(job: tuple[Node, list[int]]) -> None:
            node, batch = job
            segments = [_segment_payload(tree, data, i) for i in batch]
            try:
                node.client.upload_segments_by_tx_seq(segments, seq)
            except RpcError as exc:
                if FINALIZED_MARKER not in str(exc):
                    raise
            _advance(progress, sum(_segment_bytes(tree, i) for i in batch))

        _run_all(push, jobs, UPLOAD_THREADS)
    for node in nodes:
        _wait_for(node, root, lambda info: bool(info and info["finalized"]), timeout, "finalize the file")
    return UploadResult(root, tx_hash, seq, tree.size)


def _segment_bytes(layout: FileLayout, index: int) -> int:
    return min(SEGMENT_SIZE, layout.size - index * SEGMENT_SIZE)


def _segment_payload(tree: FileTree, data: memoryview | EncryptedView, index: int) -> dict[str, Any]:
    start = index * SEGMENT_SIZE
    chunk_bytes = tree.segment_chunks(index) * CHUNK_SIZE
    raw = bytes(data[start : start + chunk_bytes])
    raw += bytes(chunk_bytes - len(raw))  # the last chunk, zero-padded
    return {
        "root": tree.root_hex,
        "data": base64.b64encode(raw).decode(),
        "index": index,
        "proof": tree.proof(index).to_json(),
        "fileSize": tree.size,
    }


def _wait_for(
    node: Node, root: str, ready: Callable[[dict[str, Any] | None], bool], timeout: float, what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = node.client.file_info(root)
        if ready(info):
            assert info is not None
            return info
        if time.monotonic() > deadline:
            raise StorageError(f"storage node {node.url} did not {what} for {root} within {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


@contextmanager
def _mapped(path: Path) -> Iterator[memoryview]:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            yield view
        finally:
            view.release()


def _run_all(work: Callable[[T], None], items: Iterable[T], threads: int) -> None:
    """`work` over `items` on `threads` threads; the first failure cancels what has not started."""
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            pool.shutdown(cancel_futures=True)
            raise failed.exception()  # type: ignore[misc]


def _advance(progress: Progress | None, amount: int) -> None:
    if progress is not None and amount:
        progress(amount)


# ---------------------------------------------------------------- download


def file_info(nodes: list[Node], root: str) -> dict[str, Any]:
    """FileInfo of `root` from the first node that knows it finalized."""
    for node in nodes:
        try:
            info = node.client.file_info(root)
        except RpcError:
            continue
        if info and info.get("finalized"):
            return info
    raise FileNotFoundOnNetworkError(f"file {root} is not stored (finalized) on any storage node")


def download(
    root: str,
    out: Path,
    nodes: list[Node],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    decryptor: Decryptor | None = None,
) -> int:
    """Fetch every segment from a node of its shard, verify its proof against `root`, and write `out`
    atomically (temp file, fsync, rename). Returns the size written. With `decryptor`, each segment is
    decrypted as it arrives and `out` gets the plaintext (the header is not written)."""
    if out.exists() and not overwrite:
        raise StorageError(f"{out} exists (pass overwrite to replace it)")
    info = file_info(nodes, root)
    layout = FileLayout(int(info["tx"]["size"]))
    start_segment = int(info["tx"]["startEntryIndex"]) // SEGMENT_CHUNKS
    expected_root = bytes.fromhex(root.removeprefix("0x"))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        written = layout.size if decryptor is None else decryptor.plain_size(layout.size)
        os.ftruncate(fd, written)

        def fetch(index: int) -> None:
            data = _fetch_segment(nodes, root, expected_root, layout, start_segment, index)
            data, offset = data[: _segment_bytes(layout, index)], index * SEGMENT_SIZE
            if decryptor is not None:
                data, offset = decryptor.decrypt(data, offset)
            os.pwrite(fd, data, offset)
            _advance(progress, _segment_bytes(layout, index))

        _run_all(fetch, range(layout.num_segments), DOWNLOAD_THREADS)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp_name, out)
    finally:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return written


def head(root: str, nodes: list[Node], limit: int = SEGMENT_SIZE) -> bytes:
    """Up to `limit` first bytes of file `root`, from its first segment only (proof-checked)."""
    info = file_info(nodes, root)
    layout = FileLayout(int(info["tx"]["size"]))
    start_segment = int(info["tx"]["startEntryIndex"]) // SEGMENT_CHUNKS
    data = _fetch_segment(nodes, root, bytes.fromhex(root.removeprefix("0x")), layout, start_segment, 0)
    return data[: min(limit, layout.size)]


def _fetch_segment(
    nodes: list[Node], root: str, expected_root: bytes, layout: FileLayout, start_segment: int, index: int
) -> bytes:
    problems = []
    for node in nodes:
        if not node.holds(start_segment + index):
            continue
        try:
            segment = node.client.download_segment_with_proof(root, index)
            if segment is None:
                problems.append(f"{node.url}: not available")
                continue
            return verify_segment(segment, expected_root, layout, index)
        except (RpcError, ValueError) as exc:
            problems.append(f"{node.url}: {exc}")
    reasons = "; ".join(problems) or "no node stores its shard"
    raise StorageError(f"segment {index} of {root} could not be fetched and verified ({reasons})")


def verify_segment(segment: dict[str, Any], expected_root: bytes, layout: FileLayout, index: int) -> bytes:
    """The segment's data if it proves to be segment `index` of the file `expected_root`; else ValueError."""
    try:
        data = base64.b64decode(segment["data"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"segment {index}: data is not base64") from exc
    if segment.get("index") != index:
        raise ValueError(f"segment {index}: node sent segment {segment.get('index')}")
    if len(data) != layout.segment_chunks(index) * CHUNK_SIZE:
        raise ValueError(f"segment {index}: {len(data)} bytes, expected {layout.segment_chunks(index) * CHUNK_SIZE}")
    leaf = segment_root(data, layout.segment_padded_chunks(index))
    if not Proof.from_json(segment.get("proof") or {}).verify(expected_root, leaf, index, layout.num_segments_padded):
        raise ValueError(f"segment {index}: proof does not match root 0x{expected_root.hex()}")
    return data
