"""Storage mining (PoRA) off chain: the definitions of contracts/interfaces/IPoraMine.sol in Python, shared by
the miner daemon (services/storage_miner/mining/) and the tests. The flow tree a miner proves against is in
zerog/storage/flow_tree.py.

Definitions (the contract's NatSpec is the reference; tests check both sides agree):

* miner id = keccak256(abi.encode(owner, salt));
* range: start .. start + mineLength with mineLength = min(flowLength, maxMiningLength · numShard), start a multiple of
  the pricing chunk and the range inside the flow; the shard's sectors in it are numbered 0 .. shardSectors − 1 in
  flow order;
* seed = keccak256(abi.encode(contextDigest, minerId, start, shardId, numShard, nonce));
  recall = the shard sector number uint64(seed) % shardSectors;
* seal of the sector at `position`: s_i = d_i ^ m_i, m_0 = keccak256(abi.encode(minerId, position)),
  m_i = keccak256(s_(i−1)) over its eight 32-byte words;
* quality = keccak256(seed ‖ sealed sector) as an integer, at most
  target · shardSectors / min(flowLength, maxMiningLength).

Batch helper `seal_rows` seals many sectors with keccak_rows (zerog/storage/flow_tree.py): one C call per word with
the GIL released.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from eth_abi import encode
from eth_utils import to_canonical_address

from zerog.storage.flow_tree import PROOF_DEPTH, SEGMENT_HEIGHT, keccak_rows, root_of_path
from zerog.storage.merkle import CHUNK_SIZE, HASH_SIZE, SEGMENT_CHUNKS, keccak256

#: 32-byte words in a sector.
SECTOR_WORDS = CHUNK_SIZE // HASH_SIZE
MAX_UINT256 = 2**256 - 1
MAX_UINT64 = 2**64 - 1
#: Most shards a flow can be split into (PoraLib.MAX_NUM_SHARD).
MAX_NUM_SHARD = 1 << 32
#: Bytes of the seed input before the nonce: abi.encode(contextDigest, minerId, start, shardId, numShard).
SEED_PREFIX_BYTES = 5 * HASH_SIZE


class MiningRangeError(ValueError):
    """A mining range the contract rejects; `error` names the contract's custom error."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


# ---------------------------------------------------------------- ids, seeds, quality


def miner_id_of(owner: str, salt: bytes) -> bytes:
    """keccak256(abi.encode(owner, salt)): the id `owner` registers with `salt`."""
    return keccak256(encode(["address", "bytes32"], [to_canonical_address(owner), _word(salt)]))


def target_of(difficulty: int) -> int:
    """The target of a difficulty: (2^256 − 1) // difficulty."""
    if difficulty < 1:
        raise ValueError("difficulty must be at least 1")
    return MAX_UINT256 // difficulty


def seed_prefix(context_digest: bytes, miner_id: bytes, start: int, shard_id: int, num_shard: int) -> bytes:
    """The first 160 bytes of every seed input of one miner in one context (the nonce's word follows)."""
    return encode(
        ["bytes32", "bytes32", "uint256", "uint256", "uint256"],
        [_word(context_digest), _word(miner_id), start, shard_id, num_shard],
    )


def seed_of(context_digest: bytes, miner_id: bytes, start: int, shard_id: int, num_shard: int, nonce: int) -> bytes:
    return keccak256(seed_prefix(context_digest, miner_id, start, shard_id, num_shard) + nonce.to_bytes(32, "big"))


def quality_of(seed: bytes, sealed: bytes) -> int:
    """keccak256(seed ‖ sealed sector) as an integer."""
    if len(sealed) != CHUNK_SIZE:
        raise ValueError(f"a sealed sector has {CHUNK_SIZE} bytes, not {len(sealed)}")
    return int.from_bytes(keccak256(seed + sealed), "big")


# ---------------------------------------------------------------- range and recall


@dataclass(frozen=True)
class MineRange:
    """The shard's part of a miner's range (PoraLib.Range)."""

    start: int
    mine_length: int
    first_segment: int
    shard_id: int
    num_shard: int
    shard_sectors: int
    full_length: int

    @property
    def end(self) -> int:
        return self.start + self.mine_length

    @classmethod
    def of(
        cls, start: int, shard_id: int, num_shard: int, flow_length: int, max_mining_length: int, alignment: int
    ) -> MineRange:
        """The range the contract derives (`alignment`: the pricing chunk); raises MiningRangeError with the
        contract's error name."""
        if not (0 < num_shard <= MAX_NUM_SHARD and num_shard & (num_shard - 1) == 0 and 0 <= shard_id < num_shard):
            raise MiningRangeError("MineInvalidShard", f"shard {shard_id}/{num_shard} is not a valid shard")
        if start % alignment:
            raise MiningRangeError("MineRangeNotAligned", f"range start {start} is not a multiple of {alignment}")
        mine_length = min(flow_length, max_mining_length * num_shard)
        if start > flow_length - mine_length:
            raise MiningRangeError(
                "MineRangeOutsideFlow",
                f"a range of {mine_length} sectors from {start} does not end inside the flow of {flow_length}",
            )
        segments = -(-mine_length // SEGMENT_CHUNKS)
        first = (shard_id - start // SEGMENT_CHUNKS) % num_shard
        if first >= segments:
            raise MiningRangeError(
                "MineEmptyShardRange",
                f"[{start}, {start + mine_length}) holds no segment of shard {shard_id}/{num_shard}",
            )
        count = (segments - 1 - first) // num_shard + 1
        last = first + (count - 1) * num_shard
        shard_sectors = (count - 1) * SEGMENT_CHUNKS + min(SEGMENT_CHUNKS, mine_length - last * SEGMENT_CHUNKS)
        return cls(start, mine_length, first, shard_id, num_shard, shard_sectors, min(flow_length, max_mining_length))

    def target(self, base_target: int) -> int:
        """The target an answer in this range must meet: base · shardSectors / min(flowLength, maxMiningLength)."""
        return base_target * self.shard_sectors // self.full_length

    def contains(self, position: int) -> bool:
        if not self.start <= position < self.end:
            return False
        segment = (position - self.start) // SEGMENT_CHUNKS
        return segment >= self.first_segment and (segment - self.first_segment) % self.num_shard == 0

    def recall(self, seed: bytes) -> int:
        """The flow position `seed` recalls."""
        k = int.from_bytes(seed[-8:], "big") % self.shard_sectors
        return self.position_of(k)

    def position_of(self, k: int) -> int:
        """Flow position of the shard's k-th sector in the range."""
        segment = self.first_segment + (k >> SEGMENT_HEIGHT) * self.num_shard
        return self.start + (segment << SEGMENT_HEIGHT) + (k & (SEGMENT_CHUNKS - 1))

    def recall_many(self, seeds: np.ndarray) -> np.ndarray:
        """`recall` of each 32-byte row of `seeds`, as uint64 positions."""
        low = seeds[:, HASH_SIZE - 8 :].copy().view(">u8").reshape(-1).astype(np.uint64)
        k = low % np.uint64(self.shard_sectors)
        segment = np.uint64(self.first_segment) + (k >> np.uint64(SEGMENT_HEIGHT)) * np.uint64(self.num_shard)
        return np.uint64(self.start) + (segment << np.uint64(SEGMENT_HEIGHT)) + (k & np.uint64(SEGMENT_CHUNKS - 1))


# ---------------------------------------------------------------- sealing


def seal_sector(data: bytes, miner_id: bytes, position: int) -> bytes:
    """The sector `data` sealed for `miner_id` at flow `position` (one sector, plain Python)."""
    if len(data) != CHUNK_SIZE:
        raise ValueError(f"a sector has {CHUNK_SIZE} bytes, not {len(data)}")
    mask = keccak256(_word(miner_id) + position.to_bytes(32, "big"))
    out = bytearray()
    for i in range(SECTOR_WORDS):
        word = bytes(a ^ b for a, b in zip(data[i * HASH_SIZE : (i + 1) * HASH_SIZE], mask, strict=True))
        out += word
        mask = keccak256(word)
    return bytes(out)


def unseal_sector(sealed: bytes, miner_id: bytes, position: int) -> bytes:
    """Inverse of `seal_sector`: every mask comes from the sealed words, so no word waits for another."""
    if len(sealed) != CHUNK_SIZE:
        raise ValueError(f"a sealed sector has {CHUNK_SIZE} bytes, not {len(sealed)}")
    masks = [keccak256(_word(miner_id) + position.to_bytes(32, "big"))]
    masks += [keccak256(sealed[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i in range(SECTOR_WORDS - 1)]
    return b"".join(
        bytes(a ^ b for a, b in zip(sealed[i * HASH_SIZE : (i + 1) * HASH_SIZE], masks[i], strict=True))
        for i in range(SECTOR_WORDS)
    )


def positions_be(positions: np.ndarray) -> np.ndarray:
    """uint64 positions as (n, 8) big-endian bytes."""
    return np.ascontiguousarray(positions, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)


def seal_rows(data: np.ndarray, miner_id: bytes, positions: np.ndarray) -> np.ndarray:
    """`seal_sector` of every (256-byte) row of `data` at the matching position, vectorized."""
    count = data.shape[0]
    keys = np.zeros((count, 2 * HASH_SIZE), dtype=np.uint8)
    keys[:, :HASH_SIZE] = np.frombuffer(_word(miner_id), dtype=np.uint8)
    keys[:, 2 * HASH_SIZE - 8 :] = positions_be(positions)
    mask = keccak_rows(keys)
    out = np.empty((count, CHUNK_SIZE), dtype=np.uint8)
    for i in range(SECTOR_WORDS):
        word = data[:, i * HASH_SIZE : (i + 1) * HASH_SIZE] ^ mask
        out[:, i * HASH_SIZE : (i + 1) * HASH_SIZE] = word
        if i + 1 < SECTOR_WORDS:
            mask = keccak_rows(word)
    return out


def seal_bytes(data: bytes, miner_id: bytes, first_position: int) -> bytes:
    """Consecutive sectors starting at flow position `first_position`, sealed (len(data) a sector multiple)."""
    if len(data) % CHUNK_SIZE:
        raise ValueError("sealing needs whole sectors")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, CHUNK_SIZE)
    positions = np.arange(first_position, first_position + rows.shape[0], dtype=np.uint64)
    return seal_rows(rows, miner_id, positions).tobytes()


# ---------------------------------------------------------------- context and answer


@dataclass(frozen=True)
class MiningContext:
    """IFlow.MineContext."""

    epoch: int
    mine_start: int
    flow_root: bytes
    flow_length: int
    block_digest: bytes
    digest: bytes

    @classmethod
    def from_call(cls, value: Any) -> MiningContext:
        """From web3's decoding of `getContext()` (a tuple or a dict)."""
        names = ("epoch", "mineStart", "flowRoot", "flowLength", "blockDigest", "digest")
        fields = [value[n] for n in names] if isinstance(value, dict) else list(value)
        epoch, mine_start, flow_root, flow_length, block_digest, digest = fields
        return cls(int(epoch), int(mine_start), bytes(flow_root), int(flow_length), bytes(block_digest), bytes(digest))


@dataclass(frozen=True)
class Answer:
    """IPoraMine.Answer."""

    context_digest: bytes
    miner_id: bytes
    nonce: int
    start_position: int
    shard_id: int
    num_shard: int
    recall_position: int
    sealed_data: bytes
    merkle_proof: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if len(self.sealed_data) != CHUNK_SIZE:
            raise ValueError(f"sealed data must be {CHUNK_SIZE} bytes")
        if len(self.merkle_proof) != PROOF_DEPTH:
            raise ValueError(f"a flow proof has {PROOF_DEPTH} siblings, not {len(self.merkle_proof)}")

    @property
    def seed(self) -> bytes:
        return seed_of(
            self.context_digest, self.miner_id, self.start_position, self.shard_id, self.num_shard, self.nonce
        )

    @property
    def quality(self) -> int:
        return quality_of(self.seed, self.sealed_data)

    def to_abi(self) -> tuple[Any, ...]:
        words = [self.sealed_data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(SECTOR_WORDS)]
        return (
            self.context_digest,
            self.miner_id,
            self.nonce,
            self.start_position,
            self.shard_id,
            self.num_shard,
            self.recall_position,
            words,
            list(self.merkle_proof),
        )

    def replace(self, **changes: Any) -> Answer:
        return dataclasses.replace(self, **changes)


def build_answer(
    context: MiningContext,
    miner_id: bytes,
    nonce: int,
    mine_range: MineRange,
    sector: bytes,
    siblings: Sequence[bytes],
) -> Answer:
    """The answer for `nonce`, given the recalled (unsealed) `sector` and its 64 `siblings`; checks that they lead
    to the context's flow root."""
    seed = seed_of(context.digest, miner_id, mine_range.start, mine_range.shard_id, mine_range.num_shard, nonce)
    position = mine_range.recall(seed)
    root = root_of_path(keccak256(sector), position, siblings)
    if root != context.flow_root:
        raise ValueError(f"the sector at {position} and its proof lead to 0x{root.hex()}, not the context's root")
    return Answer(
        context.digest,
        miner_id,
        nonce,
        mine_range.start,
        mine_range.shard_id,
        mine_range.num_shard,
        position,
        seal_sector(sector, miner_id, position),
        tuple(siblings),
    )


def _word(value: bytes) -> bytes:
    if len(value) != HASH_SIZE:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return bytes(value)
