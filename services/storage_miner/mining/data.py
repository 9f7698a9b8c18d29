"""What the miner knows of its node's data: the submissions the node synced (their nodes rebuild the flow tree)
and the segments it stores (the data it can prove), read from the node store; and answer building from them.

A sector's 64 proof siblings come from three places (zerog.storage.flow_tree.FlowView.path):
* inside its segment: the segment's own sectors (the node stores the whole segment);
* inside its submission node above the segment: the segment's upload proof, which the node verified and kept
  (within a node the file's segment tree and the flow tree coincide);
* above its submission node: the roots of the other submitted nodes from the Submit logs, and empty subtrees.
So a miner proves every sector of every segment its node stores, whatever the other shards hold.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from services.storage_miner.flow import ShardConfig, first_segment
from services.storage_miner.mining.search import EMPTY, HELD, MISSING
from services.storage_miner.mining.state import SealedSegment
from services.storage_miner.store import SEGMENT_SUFFIX, NodeStore, TxRecord
from zerog.storage.flow_tree import SEGMENT_HEIGHT, FlowIndex, FlowNode, FlowView, inner_path, sector_leaves
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_CHUNKS, FileLayout, Proof, keccak256, zero_hash
from zerog.storage.pora import Answer, MineRange, MiningContext, build_answer, seed_of


class DataMissingError(LookupError):
    """The recalled sector lies in a segment this node does not (any more) store."""


@dataclass(frozen=True)
class StoredTx:
    """A synced submission: where it lies in the flow and its nodes."""

    uid: int
    seq: int
    start: int
    size: int
    nodes: tuple[tuple[bytes, int], ...]

    @property
    def layout(self) -> FileLayout:
        return FileLayout(self.size)

    @property
    def sectors(self) -> int:
        return sum(1 << height for _, height in self.nodes)

    @property
    def end(self) -> int:
        return self.start + self.sectors

    @property
    def dir_name(self) -> str:
        return f"{self.seq}_{self.uid}"

    def segment_start(self, seg_index: int) -> int:
        """Flow position of file-local segment `seg_index`'s first sector."""
        return self.start + seg_index * SEGMENT_CHUNKS

    def global_segment(self, seg_index: int) -> int:
        return first_segment(self.start) + seg_index


class NodeData:
    """Read-only queries on the node store (its own connection and lock)."""

    def __init__(self, store: NodeStore) -> None:
        self.store = store

    def fingerprint(self) -> tuple[int, ...]:
        """Changes whenever a submission or a segment is added or removed."""
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT (SELECT COUNT(*) FROM txs), (SELECT COALESCE(MAX(uid), 0) FROM txs), "
                "(SELECT COUNT(*) FROM segments), (SELECT COALESCE(SUM(uid * 4096 + seg_index), 0) FROM segments)"
            ).fetchone()
        return tuple(int(v) for v in row)

    def submissions(self) -> list[StoredTx]:
        """Every synced submission, in flow order."""
        with self.store.lock:
            rows = self.store.conn.execute(
                "SELECT uid, seq, start_entry, size, nodes FROM txs ORDER BY start_entry"
            ).fetchall()
        txs = []
        for row in rows:
            nodes = tuple((bytes.fromhex(root[2:]), int(height)) for height, root in json.loads(row["nodes"]))
            if row["size"] > 0 and nodes:
                txs.append(StoredTx(row["uid"], row["seq"], row["start_entry"], row["size"], nodes))
        return txs

    def stored_segments(self) -> set[tuple[int, int]]:
        """(uid, seg_index) of every segment the node's index says it stores."""
        with self.store.lock:
            rows = self.store.conn.execute("SELECT uid, seg_index FROM segments").fetchall()
        return {(r[0], r[1]) for r in rows}

    def present(self, tx: StoredTx, seg_index: int) -> bool:
        """The segment's file is on disk (a cheap check; reads verify the content)."""
        path = self.store.segments_dir / tx.dir_name / f"{seg_index}{SEGMENT_SUFFIX}"
        return path.is_file()

    def segment_proof(self, tx: StoredTx, seg_index: int) -> tuple[bytes, Proof] | None:
        """The root and upload proof the node's index keeps for a stored segment (no data read)."""
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT seg_root, proof FROM segments WHERE uid = ? AND seg_index = ?", (tx.uid, seg_index)
            ).fetchone()
        if row is None:
            return None
        return bytes.fromhex(row["seg_root"][2:]), Proof.from_json(json.loads(row["proof"]))

    def segment(self, tx: StoredTx, seg_index: int) -> tuple[bytes, Proof] | None:
        """The segment's padded bytes (data plus the zero sectors of the file's padding in it) and its upload
        proof, checked against the index by the store; None if the node does not hold it (any more)."""
        record: TxRecord | None = self.store.tx_by_seq(tx.seq)
        if record is None or record.uid != tx.uid:
            return None
        stored = self.store.read_segment(record, seg_index)
        if stored is None:
            return None
        data, proof = stored
        padded = tx.layout.segment_padded_chunks(seg_index) * CHUNK_SIZE
        return data + bytes(padded - len(data)), Proof.from_json(proof)


def flow_index(txs: list[StoredTx]) -> FlowIndex:
    return FlowIndex.from_submissions((tx.start, tx.nodes) for tx in txs)


class Prover:
    """Builds answers for one context from the node's data."""

    def __init__(self, data: NodeData, txs: list[StoredTx], view: FlowView) -> None:
        self.data = data
        self.view = view
        self.txs = [tx for tx in txs if tx.end <= view.length]
        self._starts = [tx.start for tx in self.txs]

    def tx_at(self, position: int) -> StoredTx | None:
        i = bisect_right(self._starts, position) - 1
        if i >= 0 and position < self.txs[i].end:
            return self.txs[i]
        return None

    def answer(self, context: MiningContext, miner_id: bytes, nonce: int, mine_range: MineRange) -> Answer:
        """The answer for `nonce`; raises DataMissingError if the node does not hold the recalled sector."""
        seed = seed_of(context.digest, miner_id, mine_range.start, mine_range.shard_id, mine_range.num_shard, nonce)
        position = mine_range.recall(seed)
        sector, inner = self.sector(position)
        return build_answer(context, miner_id, nonce, mine_range, sector, self.view.path(position, inner))

    def sector(self, position: int) -> tuple[bytes, list[bytes]]:
        """The sector at `position` and its siblings inside its submitted node."""
        node = self.view.node_at(position)
        tx = self.tx_at(position)
        if node is None or tx is None:
            return bytes(CHUNK_SIZE), []  # an empty sector: padding, or the reserved sector
        seg_index = (position - tx.start) // SEGMENT_CHUNKS
        if seg_index >= tx.layout.num_segments:
            # An all-padding segment (never uploaded): only files with a padding unit above a segment have one,
            # so its node is higher than a segment.
            above = self.padding_inner(tx, node, seg_index)
            if above is None:
                raise DataMissingError(f"flow position {position}: the padding segment's siblings are not stored")
            return bytes(CHUNK_SIZE), [zero_hash(level) for level in range(SEGMENT_HEIGHT)] + above
        held = self.data.segment(tx, seg_index)
        if held is None:
            raise DataMissingError(f"segment {seg_index} of tx {tx.seq} (flow position {position}) is not stored")
        segment, proof = held
        base = tx.segment_start(seg_index)
        offset = position - base
        sector = segment[offset * CHUNK_SIZE : (offset + 1) * CHUNK_SIZE]
        if node.height <= SEGMENT_HEIGHT:
            first = node.position - base
            leaves = sector_leaves(segment[first * CHUNK_SIZE : (first + (1 << node.height)) * CHUNK_SIZE])
            return sector, inner_path(leaves, position - node.position)
        # Above the segment, inside the node: the upload proof's siblings (the node is a perfect subtree of the
        # file's segment tree, so no level inside it was carried up).
        levels = node.height - SEGMENT_HEIGHT
        if len(proof.path) < levels or any(
            proof.path[level] != ((seg_index >> level) & 1 == 0) for level in range(levels)
        ):
            raise DataMissingError(f"the upload proof of segment {seg_index} of tx {tx.seq} does not fit its node")
        return sector, inner_path(sector_leaves(segment), offset) + list(proof.lemma[1 : 1 + levels])

    def padding_inner(self, tx: StoredTx, node: FlowNode, seg_index: int) -> list[bytes] | None:
        """Siblings inside `node` of a sector of the all-padding segment `seg_index` (never uploaded, all zero) up
        to the segment level; None when the node does not hold what they need. Inside the segment they are empty
        subtrees; above it, a sibling subtree is empty or holds a data segment this node stores, whose upload
        proof folds up to that subtree's root."""
        levels = node.height - SEGMENT_HEIGHT
        if levels <= 0:
            return []
        first = (node.position - tx.start) // SEGMENT_CHUNKS  # the node's first file-local segment
        relative = seg_index - first
        data_segments = tx.layout.num_segments
        siblings = []
        for level in range(levels):
            lo = first + (((relative >> level) ^ 1) << level)
            hi = lo + (1 << level)
            if lo >= data_segments:
                siblings.append(zero_hash(SEGMENT_HEIGHT + level))
                continue
            root = None
            for held in range(lo, min(hi, data_segments)):
                found = self.data.segment_proof(tx, held)
                if found is not None:
                    seg_root, proof = found
                    root = seg_root
                    for step in range(level):
                        sibling = proof.lemma[1 + step]
                        root = keccak256(root + sibling) if proof.path[step] else keccak256(sibling + root)
                    break
            if root is None:
                return None
            siblings.append(root)
        return siblings


def plan_spans(
    txs: list[StoredTx],
    length: int,
    shard: ShardConfig,
    sealed: dict[tuple[int, int], SealedSegment],
    prover: Prover,
) -> tuple[list[int], list[int], list[int], dict[int, int]]:
    """The search plan's spans over flow [0, length) (see `search.Plan`): empty gaps between submissions, and per
    segment of each submission HELD (sealed: its row in sealed.bin), EMPTY (an all-padding segment whose siblings
    are known) or MISSING (another shard's, or not stored). Counts are of this shard's segments."""
    starts: list[int] = []
    kinds: list[int] = []
    rows: list[int] = []
    counts = {MISSING: 0, HELD: 0, EMPTY: 0}

    def add(start: int, kind: int, row: int = -1) -> None:
        if kinds and kinds[-1] == kind and kind != HELD:
            return  # the previous span just grows
        starts.append(start)
        kinds.append(kind)
        rows.append(row)

    cursor = 0
    for tx in txs:
        if tx.end > length:
            break
        if tx.start > cursor:
            add(cursor, EMPTY)
        layout = tx.layout
        for seg_index in range(layout.num_segments_padded):
            seg_start = tx.segment_start(seg_index)
            if not shard.holds(tx.global_segment(seg_index)):
                add(seg_start, MISSING)
                continue
            if seg_index >= layout.num_segments:
                node = prover.view.node_at(seg_start)
                provable = node is not None and prover.padding_inner(tx, node, seg_index) is not None
                kind = EMPTY if provable else MISSING
                add(seg_start, kind)
            elif (found := sealed.get((tx.uid, seg_index))) is not None:
                kind = HELD
                add(seg_start, HELD, found.slot * SEGMENT_CHUNKS)
            else:
                kind = MISSING
                add(seg_start, MISSING)
            counts[kind] += 1
        cursor = tx.end
    if cursor < length or not starts:
        add(cursor, EMPTY)
    return starts, kinds, rows, counts


def best_range_start(segments: list[tuple[int, int]], flow_length: int, window: int, alignment: int) -> int:
    """Where a miner whose range covers `window` sectors (maxMiningLength · numShard) starts when the flow is longer:
    the start (a multiple of `alignment`, the pricing chunk, with the window inside the flow) whose window holds the
    most of its sealed `segments` ((position, sectors) each); 0 when the window covers the whole flow or nothing is
    sealed."""
    if flow_length <= window or not segments:
        return 0
    last_start = (flow_length - window) // alignment * alignment
    segments = sorted(segments)
    positions = [position for position, _ in segments]
    prefix = [0]
    for _, sectors in segments:
        prefix.append(prefix[-1] + sectors)
    best, best_start = -1, 0
    for position, _ in segments:
        start = min(position // alignment * alignment, last_start)
        held = prefix[bisect_left(positions, start + window)] - prefix[bisect_left(positions, start)]
        if held > best:
            best, best_start = held, start
    return best_start
