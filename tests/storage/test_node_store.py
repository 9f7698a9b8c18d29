"""The node's store without a chain: submissions and segments in SQLite and files, rollback, crash
recovery, and the identity checks on a data dir (shard, Flow deployment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.storage_miner.flow import ShardConfig, Submission, root_from_submission_nodes
from services.storage_miner.store import NodeStore, TxDroppedError, TxRecord
from zerog.errors import ConfigError
from zerog.storage.merkle import SEGMENT_SIZE, FileTree

FLOW = "0x00000000000000000000000000000000000000F1@0xaa"
CHAIN_ID = 16688


ONE_SHARD = ShardConfig(0, 1)


def open_store(tmp_path: Path, shard: ShardConfig = ONE_SHARD, flow: str = FLOW) -> NodeStore:
    return NodeStore.open(tmp_path / "node.db", tmp_path / "segments", shard, flow, CHAIN_ID)


def add(store: NodeStore, tree: FileTree, seq: int, block: int, start_entry: int = 1024) -> TxRecord:
    nodes = tuple(tree.submission_nodes())
    sub = Submission(
        seq, root_from_submission_nodes(nodes), start_entry, tree.size, b"", nodes, "0xsender", block,
        f"0xblock{block}", f"0xtx{seq}", 0,
    )  # fmt: skip
    with store.lock:
        store.conn.execute("BEGIN IMMEDIATE")
        store.add_submission(store.conn, sub)
        store.conn.execute("COMMIT")
    tx = store.tx_by_seq(seq)
    assert tx is not None
    return tx


def put(store: NodeStore, tx: TxRecord, tree: FileTree, data: bytes, index: int) -> bool:
    chunk = data[index * SEGMENT_SIZE : (index + 1) * SEGMENT_SIZE]
    return store.write_segment(tx, index, chunk, tree.segment_roots[index], tree.proof(index).to_json())


@pytest.fixture
def three_segments() -> tuple[bytes, FileTree]:
    data = bytes(range(256)) * 3 * 1024
    return data, FileTree.from_bytes(data)


def test_write_read__finalizes_when_all_segments_of_the_shard_are_stored(tmp_path: Path, three_segments) -> None:
    data, tree = three_segments
    store = open_store(tmp_path, ShardConfig(1, 2))
    tx = add(store, tree, seq=0, block=5)  # flow segments 1, 2, 3: this shard holds local 0 and 2
    assert (tx.needed, tx.finalized) == (2, False)

    assert put(store, tx, tree, data, 0) is False
    assert put(store, tx, tree, data, 0) is False  # duplicate: not counted twice
    assert put(store, tx, tree, data, 2) is True

    tx = store.tx_by_seq(0)
    assert tx is not None and (tx.stored, tx.finalized) == (2, True)
    assert store.read_segment(tx, 2) == (data[2 * SEGMENT_SIZE :], tree.proof(2).to_json())
    assert store.read_segment(tx, 1) is None


def test_read__damaged_file_is_not_served(tmp_path: Path, three_segments) -> None:
    data, tree = three_segments
    store = open_store(tmp_path)
    tx = add(store, tree, seq=0, block=5)
    put(store, tx, tree, data, 1)
    path = store.segment_path(tx, 1)

    content = path.read_bytes()
    path.write_bytes(bytes([content[0] ^ 1]) + content[1:])  # same size, other content

    assert store.read_segment(tx, 1) is None


def test_rollback__forgets_submissions_and_their_files(tmp_path: Path, three_segments) -> None:
    data, tree = three_segments
    store = open_store(tmp_path)
    kept, dropped = add(store, tree, seq=0, block=5), add(store, tree, seq=1, block=9, start_entry=4096)
    put(store, kept, tree, data, 0)
    put(store, dropped, tree, data, 0)

    with store.lock:
        store.conn.execute("BEGIN IMMEDIATE")
        store.rollback(store.conn, 9)
        store.conn.execute("COMMIT")
    assert store.has_garbage
    store.collect_garbage()

    assert store.tx_by_seq(1) is None and store.next_tx_seq() == 1
    assert not store.segment_path(dropped, 0).parent.exists()
    assert store.read_segment(kept, 0) is not None
    with pytest.raises(TxDroppedError):
        put(store, dropped, tree, data, 1)
    assert not store.segment_path(dropped, 1).exists()


def test_tx_by_root__first_finalized_else_first_and_later_ones_copied(tmp_path: Path) -> None:
    data = b"x" * 1000
    tree = FileTree.from_bytes(data)
    store = open_store(tmp_path)
    for seq in range(2):
        add(store, tree, seq=seq, block=5 + seq, start_entry=1024 * (seq + 1))

    assert store.tx_by_root(tree.root).seq == 0
    assert put(store, store.tx_by_seq(1), tree, data + bytes(24), 0) is True
    assert store.tx_by_seq(0).finalized  # open when seq 1 finalized: given its segment
    later = add(store, tree, seq=2, block=7, start_entry=1024 * 3)
    assert (later.finalized, later.stored) == (True, 1)  # synced after: finalized from the stored one
    assert store.read_segment(later, 0)[0] == data + bytes(24)


def test_two_shards__double_payment_answers_the_same_tx_on_both(tmp_path: Path, three_segments) -> None:
    """A partial first upload finalizes it on shard 0 only; the root is paid again. Both nodes must name the
    same tx, or a downloader places segments with the wrong start (the official SDK's "No storage node holds
    segment with index 1")."""
    data, tree = three_segments
    stores = [open_store(tmp_path / f"s{i}", ShardConfig(i, 2)) for i in range(2)]
    for store in stores:
        add(store, tree, seq=0, block=5, start_entry=0)  # flow segments 0, 1, 2
    for index in (0, 2):
        put(stores[0], stores[0].tx_by_seq(0), tree, data, index)
    for store in stores:
        add(store, tree, seq=1, block=6, start_entry=3 * 1024)  # flow segments 3, 4, 5: the shards swap
    assert [s.tx_by_root(tree.root).seq for s in stores] == [0, 0]
    assert not stores[0].tx_by_seq(1).finalized  # needs segment 1, which it never held

    put(stores[1], stores[1].tx_by_seq(0), tree, data, 1)  # the uploader follows getFileInfo: tx 0
    assert [(s.tx_by_root(tree.root).seq, s.tx_by_root(tree.root).finalized) for s in stores] == [(0, True)] * 2
    aligned = add(stores[0], tree, seq=2, block=7, start_entry=4 * 1024)  # flow segments 4, 5, 6
    assert (aligned.finalized, aligned.stored) == (True, 2)


def test_recover__drops_temp_files_orphans_and_rows_without_files(tmp_path: Path, three_segments) -> None:
    data, tree = three_segments
    store = open_store(tmp_path)
    tx = add(store, tree, seq=0, block=5)
    for index in range(3):
        put(store, tx, tree, data, index)
    tmp = store.segment_path(tx, 0).with_name(".0.abc.tmp")
    tmp.write_bytes(b"half")
    orphan = tmp_path / "segments" / "7_99"
    orphan.mkdir()
    store.segment_path(tx, 1).unlink()
    store.close()

    store = open_store(tmp_path)

    assert not tmp.exists() and not orphan.exists()
    tx = store.tx_by_seq(0)
    assert tx is not None and (tx.stored, tx.finalized) == (2, False)
    assert store.read_segment(tx, 1) is None
    assert put(store, tx, tree, data, 1) is True


def test_identity__another_shard_is_refused(tmp_path: Path) -> None:
    open_store(tmp_path, ShardConfig(0, 2)).close()

    with pytest.raises(ConfigError, match="holds shard 0/2"):
        open_store(tmp_path, ShardConfig(1, 2))


def test_identity__another_flow_deployment_forgets_everything(tmp_path: Path, three_segments) -> None:
    data, tree = three_segments
    store = open_store(tmp_path)
    tx = add(store, tree, seq=0, block=5)
    put(store, tx, tree, data, 0)
    store.close()

    store = open_store(tmp_path, flow=FLOW.replace("@0xaa", "@0xbb"))  # same address, redeployed

    assert store.tx_by_seq(0) is None and store.next_tx_seq() == 0
    assert list((tmp_path / "segments").iterdir()) == []
