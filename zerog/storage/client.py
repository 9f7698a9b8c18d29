"""Upload and download files through 0G storage nodes, as the official SDK does, with every segment
proof-checked on the way down and uploads that resume where they stopped."""

from __future__ import annotations

import base64
import hashlib
import itertools
import mmap
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from zerog.chain import Deployment, send_transaction
from zerog.errors import ZeroGError
from zerog.storage.contracts import flow_contract, market_of
from zerog.storage.encryption import Decryptor, EncryptedView, Encryptor, Header
from zerog.storage.fragments import DEFAULT_FRAGMENT_SIZE, Fragment, split
from zerog.storage.journal import SentSubmission, SubmitJournal, encrypted_upload_id, find_paid
from zerog.storage.merkle import (
    CHUNK_SIZE,
    SEGMENT_CHUNKS,
    SEGMENT_SIZE,
    FileLayout,
    FileTree,
    Proof,
    decode_segment,
)
from zerog.storage.rpc import IndexerClient, RpcError, StorageNodeClient

#: Segments per upload call (the official SDK's batch size is 10 too).
#: Gas a transaction may need beyond its estimate when it lands in a new epoch and makes the epoch's context
#: (Flow.submit, PoraMine.submit): a 64-level root fold with every frontier slot cold, plus the context's storage.
CONTEXT_GAS_RESERVE = 250_000
UPLOAD_BATCH_SEGMENTS = 10
#: Fragments paid for in one transaction (the official SDK's batch size).
SUBMIT_BATCH = 10
#: Parallel requests: uploads wait on the node's verification. Downloads keep several requests in flight per
#: core, so that every node serves while we hash (the hashing releases the GIL).
UPLOAD_THREADS = 4
DOWNLOAD_THREADS = 4 * max(2, os.cpu_count() or 1)
#: Segments per JSON-RPC batch request of a download.
DOWNLOAD_BATCH_SEGMENTS = 4
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
    fragments: list[Fragment]  # one, unless the file is larger than a fragment
    tx_hash: str | None  # of the last payment; None when nothing was paid (the network had it, or a retry)
    size: int
    header: Header | None = None  # of an encrypted file: a retry's is the first attempt's

    @property
    def root(self) -> str:
        return self.fragments[0].root

    @property
    def tx_seq(self) -> int:
        return self.fragments[0].tx_seq

    @property
    def roots(self) -> list[str]:
        return [f.root for f in self.fragments]


def connect_nodes(urls: list[str]) -> list[Node]:
    nodes = []
    for url in urls:
        client = StorageNodeClient(url)
        config = client.shard_config()
        nodes.append(Node(client, int(config["shardId"]), int(config["numShard"])))
    return nodes


def indexer_nodes(indexer_url: str) -> list[Node]:
    """Every trusted node the indexer lists, coarsest shards first."""
    listing = IndexerClient(indexer_url).sharded_nodes()
    trusted = sorted(listing.get("trusted") or [], key=lambda n: (n["config"]["numShard"], n["config"]["shardId"]))
    return [Node(StorageNodeClient(n["url"]), n["config"]["shardId"], n["config"]["numShard"]) for n in trusted]


def nodes_from_indexer(indexer_url: str) -> list[Node]:
    """The indexer's trusted nodes, reduced to a set that covers every shard: an upload goes to these only (the
    other nodes of a shard fetch the file from them: replication)."""
    return covering_set(indexer_nodes(indexer_url))


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
    w3: Web3,
    account: LocalAccount,
    deployment: Deployment,
    trees: list[FileTree],
    tags: bytes = b"",
    journal: SubmitJournal | None = None,
) -> tuple[str, list[int]]:
    """Pay for and register `trees` in the Flow in one transaction (`submit`, or `batchSubmit` for several);
    returns (tx hash, their tx seqs). The journal records the transaction as soon as it is out."""
    flow = flow_contract(w3, deployment)
    market = market_of(w3, deployment, flow)
    submissions = [
        ((tree.size, tags, [(root, height) for root, height in tree.submission_nodes()]), account.address)
        for tree in trees
    ]
    sectors = sum(1 << height for tree in trees for _, height in tree.submission_nodes())
    call = flow.functions.submit(submissions[0]) if len(trees) == 1 else flow.functions.batchSubmit(submissions)
    on_sent = None
    if journal is not None:
        on_sent = lambda tx_hash: journal.record(  # noqa: E731 - a one-line hook
            [tree.root_hex for tree in trees], SentSubmission(tx_hash, account.address)
        )
    receipt = send_transaction(
        w3,
        account,
        call,
        value=sectors * market.functions.pricePerSector().call(),
        decoder=deployment.error_decoder(),
        gas_reserve=CONTEXT_GAS_RESERVE,
        on_sent=on_sent,
    )
    events = flow.events.Submit().process_receipt(receipt, errors=DISCARD)  # market/reward logs are not ours
    return receipt["transactionHash"].to_0x_hex(), [int(event["args"]["submissionIndex"]) for event in events]


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
    journal: SubmitJournal | None = None,
    fragment_size: int = DEFAULT_FRAGMENT_SIZE,
    encryption: Encryptor | None = None,
) -> UploadResult:
    """Split the file into fragments (one unless it is larger than `fragment_size`), pay once for those no
    submission of this submitter or the nodes' knows yet (one transaction), wait for the nodes to sync, push
    the missing segments with proofs, and wait until every node has finalized every fragment. With `encryption`,
    what is stored is the encrypted stream (header, then ciphertext: the header in the first fragment, the
    counter running on across fragments), produced range by range from the file as it is hashed and sent; with
    a journal too, a retry of an unfinished upload of the same content (same key or recipient, same submitter)
    reuses the first attempt's nonce and ephemeral key instead of `encryption`'s, so it is the same file."""
    resume = None
    with _mapped(path) as plain:
        if encryption is not None and journal is not None:
            resume = encrypted_upload_id(encryption, hashlib.sha256(plain).digest(), account.address)
            encryption = journal.encryption(resume, encryption)
        data = plain if encryption is None else encryption.view(plain)
        parts = split(len(data), fragment_size)
        trees = [_fragment_tree(data, offset, size) for offset, size in parts]
        seqs: list[int | None] = []
        for tree in trees:
            infos = [node.client.file_info(tree.root_hex) for node in nodes]
            known = next((int(info["tx"]["seq"]) for info in infos if info), None)
            if known is None:  # nobody knows it yet: perhaps paid already, its Submit not synced
                node_roots = [root for root, _ in tree.submission_nodes()]
                known = find_paid(w3, deployment, account.address, tree.root_hex, node_roots, journal)
            seqs.append(known)
        unpaid = [i for i, seq in enumerate(seqs) if seq is None]
        tx_hash = None
        for batch in (unpaid[i : i + SUBMIT_BATCH] for i in range(0, len(unpaid), SUBMIT_BATCH)):
            tx_hash, paid = submit(w3, account, deployment, [trees[i] for i in batch], tags, journal)
            for i, seq in zip(batch, paid, strict=True):
                seqs[i] = seq
        jobs = []
        for (offset, _), tree in zip(parts, trees, strict=True):
            jobs += _upload_jobs(tree, offset, nodes, timeout)
        skipped = len(data) - sum(_segment_bytes(tree, i) for _, tree, _, _, batch in jobs for i in batch)
        _advance(progress, skipped)

        def push(job: tuple[Node, FileTree, int, int, list[int]]) -> None:
            node, tree, offset, seq, batch = job
            segments = [_segment_payload(tree, data, offset, i) for i in batch]
            try:
                node.client.upload_segments_by_tx_seq(segments, seq)
            except RpcError as exc:
                if FINALIZED_MARKER not in str(exc):
                    raise
            _advance(progress, sum(_segment_bytes(tree, i) for i in batch))

        _run_all(push, jobs, UPLOAD_THREADS)
        size = len(data)
    for tree in trees:
        for node in nodes:
            _wait_for(node, tree.root_hex, lambda info: bool(info and info["finalized"]), timeout, "finalize the file")
        if journal is not None:
            journal.forget(tree.root_hex)
    if journal is not None and resume is not None:
        journal.forget_encryption(resume)  # finalized: uploading the file again is a new file, fresh randomness
    fragments = [
        Fragment(tree.root_hex, offset, part, int(seq))  # type: ignore[arg-type] - all paid by now
        for (offset, part), tree, seq in zip(parts, trees, seqs, strict=True)
    ]
    return UploadResult(fragments, tx_hash, size, None if encryption is None else encryption.header)


def _fragment_tree(data: memoryview | EncryptedView, offset: int, size: int) -> FileTree:
    if isinstance(data, memoryview):
        return FileTree.from_bytes(data[offset : offset + size])
    return FileTree.from_reader(size, lambda start, end: data.read(offset + start, offset + end))


def _upload_jobs(
    tree: FileTree, offset: int, nodes: list[Node], timeout: float
) -> list[tuple[Node, FileTree, int, int, list[int]]]:
    """Batches of the segments each node lacks, round-robin over the nodes (every node is busy from the start).
    Each node is sent the submission it names for the root: a root paid twice has one answer on every node."""
    root = tree.root_hex
    per_node = []
    for node in nodes:
        info = _wait_for(node, root, lambda info: info is not None, timeout, "sync the Submit log")
        if info["finalized"]:
            continue
        seq, start_segment = int(info["tx"]["seq"]), int(info["tx"]["startEntryIndex"]) // SEGMENT_CHUNKS
        mine = [i for i in range(tree.num_segments) if node.holds(start_segment + i)]
        if info["uploadedSegNum"]:  # resuming: send only what the node lacks
            mine = [i for i in mine if not node.client.has_segment(root, i)]
        per_node.append(
            [
                (node, tree, offset, seq, mine[i : i + UPLOAD_BATCH_SEGMENTS])
                for i in range(0, len(mine), UPLOAD_BATCH_SEGMENTS)
            ]
        )
    return [job for batch in itertools.zip_longest(*per_node) for job in batch if job is not None]


def _segment_bytes(layout: FileLayout, index: int) -> int:
    return min(SEGMENT_SIZE, layout.size - index * SEGMENT_SIZE)


def _segment_payload(tree: FileTree, data: memoryview | EncryptedView, offset: int, index: int) -> dict[str, Any]:
    start = offset + index * SEGMENT_SIZE
    chunk_bytes = tree.segment_chunks(index) * CHUNK_SIZE
    raw = bytes(data[start : min(start + chunk_bytes, offset + tree.size)])
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


@dataclass(frozen=True)
class StoredFragment:
    """A fragment as the nodes store it: where its segments sit in the flow, where its bytes go in the file."""

    root: str
    offset: int
    layout: FileLayout
    start_segment: int

    @property
    def expected_root(self) -> bytes:
        return bytes.fromhex(self.root.removeprefix("0x"))


def locate(nodes: list[Node], roots: list[str]) -> list[StoredFragment]:
    """The fragments of a file (one root, or the list of its fragments' roots) at their offsets in it."""
    located, offset = [], 0
    for root in roots:
        info = file_info(nodes, root)
        size = int(info["tx"]["size"])
        start = int(info["tx"]["startEntryIndex"]) // SEGMENT_CHUNKS
        located.append(StoredFragment(root, offset, FileLayout(size), start))
        offset += size
    return located


def download(
    roots: str | list[str],
    out: Path,
    nodes: list[Node],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    offset: int = 0,
    length: int | None = None,
    decryptor: Decryptor | None = None,
) -> int:
    """Fetch the segments of the file `roots` names (its root, or its fragments' roots in order) that cover
    bytes [offset, offset + length) (all of it by default), each from a node of its shard, verify each proof
    against its root, and write those bytes to `out` atomically (temp file, fsync, rename). Returns the bytes
    written. With `decryptor`, offset and length count plaintext bytes (after the header), each segment is
    decrypted as it arrives and `out` gets the plaintext."""
    if out.exists() and not overwrite:
        raise StorageError(f"{out} exists (pass overwrite to replace it)")
    fragments = locate(nodes, [roots] if isinstance(roots, str) else roots)
    wanted = _ranges(fragments, offset, length, decryptor)
    total = sum(hi - lo for _, _, lo, hi in wanted)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        os.ftruncate(fd, total)

        def deliver(job: tuple[StoredFragment, int, int, int], data: bytes) -> None:
            os.pwrite(fd, *_piece(job, data, offset, decryptor))
            _advance(progress, job[3] - job[2])

        _fetch_all(nodes, wanted, deliver)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp_name, out)
    finally:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return total


def read_range(
    roots: str | list[str], nodes: list[Node], offset: int, length: int, decryptor: Decryptor | None = None
) -> bytes:
    """Bytes [offset, offset + length) of the file `roots` names, from only the segments that cover them,
    each proof-checked; with `decryptor`, plaintext bytes of an encrypted file (its header is the decryptor's)."""
    fragments = locate(nodes, [roots] if isinstance(roots, str) else roots)
    return _read(nodes, fragments, offset, length, decryptor)


def _read(
    nodes: list[Node], fragments: list[StoredFragment], offset: int, length: int, decryptor: Decryptor | None
) -> bytes:
    wanted = _ranges(fragments, offset, length, decryptor)
    out = bytearray(sum(hi - lo for _, _, lo, hi in wanted))

    def deliver(job: tuple[StoredFragment, int, int, int], data: bytes) -> None:
        piece, at = _piece(job, data, offset, decryptor)
        out[at : at + len(piece)] = piece

    _fetch_all(nodes, wanted, deliver)
    return bytes(out)


def _piece(
    job: tuple[StoredFragment, int, int, int], data: bytes, offset: int, decryptor: Decryptor | None
) -> tuple[bytes | memoryview, int]:
    """The wanted bytes of a fetched segment (decrypted with `decryptor`) and where they go in the output, which
    starts at byte `offset` of the file (of the plaintext, with `decryptor`)."""
    fragment, index, lo, hi = job
    base = fragment.offset + index * SEGMENT_SIZE
    piece: bytes | memoryview = memoryview(data)[lo - base : hi - base]
    at = lo
    if decryptor is not None:
        piece, at = decryptor.decrypt(piece, lo)  # CTR: any range decrypts alone, at its plaintext offset
    return piece, at - offset


def head(root: str, nodes: list[Node], limit: int = SEGMENT_SIZE) -> bytes:
    """Up to `limit` first bytes of file `root`, from its first segment only (proof-checked)."""
    fragments = locate(nodes, [root])  # asked once: its size bounds the read
    return _read(nodes, fragments, 0, min(limit, fragments[0].layout.size, SEGMENT_SIZE), None)


def _ranges(
    fragments: list[StoredFragment], offset: int, length: int | None, decryptor: Decryptor | None = None
) -> list[tuple[StoredFragment, int, int, int]]:
    """(fragment, segment index, first byte, end byte) in file coordinates of every segment overlapping
    [offset, offset + length), clipped to it; the range must lie inside the file. With `decryptor`, offset and
    length count plaintext bytes, which start after the header."""
    skip = 0 if decryptor is None else decryptor.header.size
    size = sum(f.layout.size for f in fragments) - skip
    end = size if length is None else offset + length
    if not 0 <= offset <= end <= size:
        raise StorageError(f"bytes [{offset}, {end}) are not inside the file's {size} bytes")
    offset, end = offset + skip, end + skip
    wanted = []
    for fragment in fragments:
        lo, hi = max(offset, fragment.offset), min(end, fragment.offset + fragment.layout.size)
        if lo >= hi:
            continue
        first, last = (lo - fragment.offset) // SEGMENT_SIZE, (hi - 1 - fragment.offset) // SEGMENT_SIZE
        for index in range(first, last + 1):
            base = fragment.offset + index * SEGMENT_SIZE
            wanted.append((fragment, index, max(lo, base), min(hi, base + SEGMENT_SIZE)))
    return wanted


def _fetch_all(
    nodes: list[Node],
    wanted: list[tuple[StoredFragment, int, int, int]],
    deliver: Callable[[tuple[StoredFragment, int, int, int], bytes], None],
) -> None:
    """Every wanted segment, verified, to `deliver`: batches of DOWNLOAD_BATCH_SEGMENTS per JSON-RPC batch
    request to the first node of their shard (a request costs the node more than a segment does); a segment
    missing or bad in its batch is tried on every node of its shard."""
    per_node: dict[tuple[Node, str], list[tuple[StoredFragment, int, int, int]]] = {}
    for job in wanted:
        fragment, index = job[0], job[1]
        home = next((n for n in nodes if n.holds(fragment.start_segment + index)), None)
        if home is None:
            raise StorageError(f"segment {index} of {fragment.root}: no known node stores its shard")
        per_node.setdefault((home, fragment.root), []).append(job)
    batches = [
        (node, jobs[i : i + DOWNLOAD_BATCH_SEGMENTS])
        for (node, _), jobs in per_node.items()
        for i in range(0, len(jobs), DOWNLOAD_BATCH_SEGMENTS)
    ]

    def fetch(batch: tuple[Node, list[tuple[StoredFragment, int, int, int]]]) -> None:
        node, jobs = batch
        fragment = jobs[0][0]
        try:
            answers: list[Any] = node.client.download_segments_with_proof(fragment.root, [job[1] for job in jobs])
        except RpcError:
            answers = [None] * len(jobs)
        for job, answer in zip(jobs, answers, strict=True):
            data = None
            if isinstance(answer, dict):
                with suppress(ValueError):
                    data = verify_segment(answer, fragment.expected_root, fragment.layout, job[1])
            deliver(job, data if data is not None else _fetch_segment(nodes, fragment, job[1]))

    _run_all(fetch, batches, DOWNLOAD_THREADS)


def _fetch_segment(nodes: list[Node], fragment: StoredFragment, index: int) -> bytes:
    problems = []
    for node in nodes:
        if not node.holds(fragment.start_segment + index):
            continue
        try:
            segment = node.client.download_segment_with_proof(fragment.root, index)
            if segment is None:
                problems.append(f"{node.url}: not available")
                continue
            return verify_segment(segment, fragment.expected_root, fragment.layout, index)
        except (RpcError, ValueError) as exc:
            problems.append(f"{node.url}: {exc}")
    reasons = "; ".join(problems) or "no node stores its shard"
    raise StorageError(f"segment {index} of {fragment.root} could not be fetched and verified ({reasons})")


def verify_segment(segment: dict[str, Any], expected_root: bytes, layout: FileLayout, index: int) -> bytes:
    """The segment's data if it proves to be segment `index` of the file `expected_root`; else ValueError."""
    if segment.get("index") != index:
        raise ValueError(f"segment {index}: node sent segment {segment.get('index')}")
    text = segment.get("data")
    if not isinstance(text, str):
        raise ValueError(f"segment {index}: data is not base64")
    try:  # strict base64 decoded and hashed in C, without the GIL: the bulk of a download's CPU
        data, leaf = decode_segment(text, CHUNK_SIZE, layout.segment_chunks(index), layout.segment_padded_chunks(index))
    except ValueError as exc:
        raise ValueError(f"segment {index}: {exc}") from exc
    if not Proof.from_json(segment.get("proof") or {}).verify(expected_root, leaf, index, layout.num_segments_padded):
        raise ValueError(f"segment {index}: proof does not match root 0x{expected_root.hex()}")
    return data
