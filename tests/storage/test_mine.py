"""Contract tests of PoraMine (`ape test`): miner ids, answers proven against real data submitted to the real Flow
(built by zerog/storage/pora.py, so the SDK and the contract are checked against each other), every revert,
rewards through ChunkLinearReward, and the difficulty rule."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from scripts.deploy import deploy_mine
from tests.storage.conftest import PRICE, SECTORS_PER_CHUNK, ZERO_ADDRESS, Storage
from tests.storage.memory_flow import MemoryFlow
from zerog.storage.flow_tree import FlowView
from zerog.storage.merkle import SEGMENT_CHUNKS, FileTree
from zerog.storage.pora import (
    MAX_UINT256,
    Answer,
    MineRange,
    MiningContext,
    MiningRangeError,
    miner_id_of,
    quality_of,
    seal_sector,
    seed_of,
    unseal_sector,
)

BLOCKS_PER_EPOCH = 12
TARGET_ANSWERS = 3
MAX_MINING_LENGTH = 1 << 20
#: 0G's verification cost per PoRA proof: ours must stay below it.
GAS_BUDGET = 410_000
SALT = keccak(text="node 0")
#: Released reward needs time: submissions are this many seconds old when answers claim.
AGE_SECONDS = 100
#: File sizes giving every kind of sector: a 3-segment file (nodes of height 11, 10, 8) and a small file that
#: shares its segment with the flow padding.
BIG_FILE = 3 * SEGMENT_CHUNKS * 256 + 999
SMALL_FILE = 5000


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


@dataclass(frozen=True)
class Candidate:
    """What `Mining.find` filters nonces by, before it builds their proofs."""

    nonce: int
    recall_position: int
    quality: int


@dataclass
class Mining:
    """A storage stack with PoraMine, real files in the flow, and a registered miner."""

    storage: Storage
    mine: Any
    chain: Any
    miner: Any
    beneficiary: Any
    data: MemoryFlow
    miner_id: bytes

    @property
    def flow(self) -> Any:
        return self.storage.flow

    def put(self, size: int, seed: int, user: Any) -> int:
        """Submits a random file of `size` bytes; returns its flow position."""
        blob = random.Random(seed).randbytes(size)
        nodes = FileTree.from_bytes(blob).submission_nodes()
        sectors = sum(1 << h for _, h in nodes)
        sub = ((size, b"", list(nodes)), user.address)
        receipt = self.flow.submit(sub, sender=user, value=sectors * PRICE)
        [event] = self.flow.Submit.from_receipt(receipt)
        self.data.add(event.startPos, blob, nodes)
        return event.startPos

    def open_epoch(self, age: int = AGE_SECONDS) -> tuple[MiningContext, FlowView]:
        """Mines to the next epoch (`age` seconds later) and makes its context; the view checks the root."""
        epoch = self.flow.epoch() + 1
        first = self.flow.firstBlock() + epoch * BLOCKS_PER_EPOCH
        self.chain.mine(first - self.chain.blocks.head.number - 1)
        self.chain.pending_timestamp = self.chain.pending_timestamp + age
        self.flow.makeContext(sender=self.miner)
        context = MiningContext.from_call(self.flow.getContext())
        assert context.epoch == epoch
        view = self.data.index().at(context.flow_length)
        assert view.root() == context.flow_root  # the SDK's flow tree is the contract's
        return context, view

    def range(self, context: MiningContext, start: int = 0, shard_id: int = 0, num_shard: int = 1) -> MineRange:
        return MineRange.of(start, shard_id, num_shard, context.flow_length, MAX_MINING_LENGTH, SECTORS_PER_CHUNK)

    def answer(self, context: MiningContext, view: FlowView, nonce: int, **range_args: int) -> Answer:
        return self.data.answer(view, context, self.miner_id, nonce, self.range(context, **range_args))

    def find(
        self, context: MiningContext, view: FlowView, wanted: Callable[[Candidate], bool], **range_args: int
    ) -> Answer:
        """The answer of the first nonce satisfying `wanted`."""
        mine_range = self.range(context, **range_args)
        for nonce in range(20_000):
            seed = seed_of(
                context.digest, self.miner_id, mine_range.start, mine_range.shard_id, mine_range.num_shard, nonce
            )
            position = mine_range.recall(seed)
            sealed = seal_sector(self.data.sector(position), self.miner_id, position)
            if wanted(Candidate(nonce, position, quality_of(seed, sealed))):
                answer = self.data.answer(view, context, self.miner_id, nonce, mine_range)
                assert (answer.recall_position, answer.sealed_data) == (position, sealed)
                return answer
        raise AssertionError("no nonce gives the wanted answer")

    def good(self, context: MiningContext, view: FlowView, after: int = -1) -> Answer:
        """The answer of the first nonce above `after` that meets the current target."""
        target = self.range(context).target(self.mine.target())
        return self.find(context, view, lambda a: a.nonce > after and a.quality <= target)

    def submit(self, answer: Answer, sender: Any = None) -> Any:
        return self.mine.submit(answer.to_abi(), sender=sender or self.miner)


@pytest.fixture
def create_mining(
    create_storage: Callable[..., Storage], admin: Any, miner: Any, beneficiary: Any, user: Any, chain: Any
) -> Callable[..., Mining]:
    def create(
        difficulty: int = 1, target_answers: int = TARGET_ANSWERS, files: bool = True, blocks_per_epoch: int = 0
    ) -> Mining:
        storage = create_storage(blocks_per_epoch=blocks_per_epoch or BLOCKS_PER_EPOCH)
        deployed = deploy_mine(
            admin,
            storage.flow,
            storage.reward,
            difficulty=difficulty,
            target_answers=target_answers,
            max_mining_length=MAX_MINING_LENGTH,
        )
        mine = deployed["PoraMine"][0]
        mine.register(SALT, beneficiary, sender=miner)
        mining = Mining(storage, mine, chain, miner, beneficiary, MemoryFlow(), miner_id_of(miner.address, SALT))
        if files:
            mining.put(BIG_FILE, 1, user)
            mining.put(SMALL_FILE, 2, user)
        return mining

    return create


@pytest.fixture
def mining(create_mining: Callable[..., Mining]) -> Mining:
    return create_mining()


@pytest.fixture
def mining_one_sector(create_mining: Callable[..., Mining], user: Any) -> tuple[Mining, int]:
    """A flow of one 2048-sector file (at 2048) and a one-sector file right after it, at a pricing-chunk start, that
    ends the flow; and that sector's position."""
    mining = create_mining(files=False)
    assert mining.put(SECTORS_PER_CHUNK * 256, 1, user) == SECTORS_PER_CHUNK
    last = mining.put(1, 2, user)
    assert last == 2 * SECTORS_PER_CHUNK
    return mining, last


# ---------------------------------------------------------------- constructor


def test_constructor__reads_flow_and_reward_parameters(mining: Mining) -> None:
    mine, storage = mining.mine, mining.storage

    assert mine.flow() == storage.flow.address
    assert mine.reward() == storage.reward.address
    assert mine.blocksPerEpoch() == storage.flow.blocksPerEpoch() == BLOCKS_PER_EPOCH
    assert mine.sectorsPerPricingChunk() == storage.reward.sectorsPerPricingChunk() == SECTORS_PER_CHUNK
    assert mine.target() == MAX_UINT256
    assert mine.difficulty() == 1
    assert mine.targetAnswersPerEpoch() == TARGET_ANSWERS
    assert mine.maxMiningLength() == MAX_MINING_LENGTH
    assert tuple(mine.epochAnswers()) == (0, 0)
    assert storage.reward.hasRole(storage.reward.MINE_ROLE(), mine.address)


def test_constructor__difficulty_sets_target(create_mining: Callable[..., Mining]) -> None:
    mine = create_mining(difficulty=1000, files=False).mine

    assert mine.target() == MAX_UINT256 // 1000
    assert mine.difficulty() == 1000


@pytest.mark.parametrize(
    ("index", "value", "error"),
    [
        (0, ZERO_ADDRESS, "MineZeroAddress()"),
        (1, ZERO_ADDRESS, "MineZeroAddress()"),
        (2, 0, "MineInvalidDifficulty()"),
        (3, 0, "MineInvalidTargetAnswers(uint256,uint256)"),
        (3, 2**32, "MineInvalidTargetAnswers(uint256,uint256)"),
        (4, 0, "MineInvalidMaxMiningLength(uint256,uint256)"),
        (4, 1000, "MineInvalidMaxMiningLength(uint256,uint256)"),
        (4, 2**64 + 1024, "MineInvalidMaxMiningLength(uint256,uint256)"),
    ],
)
def test_constructor__invalid_argument_reverts(
    project: Any, chain: Any, admin: Any, user: Any, index: int, value: Any, error: str
) -> None:
    args: list[Any] = [user.address, admin.address, 1, TARGET_ANSWERS, MAX_MINING_LENGTH]
    args[index] = value
    data = (
        project.PoraMine.contract_type.deployment_bytecode.bytecode
        + encode(["address", "address", "uint256", "uint256", "uint256"], args).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": admin.address, "data": data})
    assert bytes.fromhex(str(info.value.data)[2:10]) == _selector(error)


def test_constructor__pricing_chunk_not_a_segment_multiple_reverts(
    project: Any, chain: Any, admin: Any, create_storage: Callable[..., Storage], create_reward: Callable[..., Any]
) -> None:
    """Range starts are pricing-chunk multiples: a chunk that is not a segment multiple would break the shards."""
    flow = create_storage().flow
    reward = create_reward(sectors_per_chunk=SEGMENT_CHUNKS + 512)
    args = [flow.address, reward.address, 1, TARGET_ANSWERS, MAX_MINING_LENGTH]
    data = (
        project.PoraMine.contract_type.deployment_bytecode.bytecode
        + encode(["address", "address", "uint256", "uint256", "uint256"], args).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": admin.address, "data": data})
    assert bytes.fromhex(str(info.value.data)[2:10]) == _selector("MineInvalidPricingChunk(uint256)")


# ---------------------------------------------------------------- miner ids


def test_register__binds_id_to_owner_and_salt(create_mining: Callable[..., Mining], stranger: Any) -> None:
    mine = create_mining(files=False).mine
    salt = keccak(text="another node")

    receipt = mine.register(salt, stranger, sender=stranger)

    miner_id = miner_id_of(stranger.address, salt)
    [event] = mine.MinerRegistered.from_receipt(receipt)
    assert event.event_arguments == {"minerId": miner_id, "owner": stranger.address, "beneficiary": stranger.address}
    assert mine.minerIdOf(stranger, salt) == miner_id
    assert tuple(mine.minerOf(miner_id)) == (stranger.address, stranger.address)
    assert tuple(mine.minerOf(keccak(text="unknown"))) == (ZERO_ADDRESS, ZERO_ADDRESS)


def test_register__same_owner_and_salt_twice_reverts(mining: Mining, stranger: Any) -> None:
    with ape.reverts(mining.mine.MineMinerExists, minerId=mining.miner_id):
        mining.mine.register(SALT, stranger, sender=mining.miner)
    # Another owner with the same salt gets its own id.
    mining.mine.register(SALT, stranger, sender=stranger)
    assert mining.mine.minerOf(miner_id_of(stranger.address, SALT))[0] == stranger.address


def test_register__zero_beneficiary_reverts(mining: Mining, stranger: Any) -> None:
    with ape.reverts(mining.mine.MineZeroAddress):
        mining.mine.register(SALT, ZERO_ADDRESS, sender=stranger)


def test_set_beneficiary__owner_changes_it(mining: Mining, stranger: Any) -> None:
    receipt = mining.mine.setBeneficiary(mining.miner_id, stranger, sender=mining.miner)

    [event] = mining.mine.BeneficiaryUpdated.from_receipt(receipt)
    assert event.event_arguments == {
        "minerId": mining.miner_id,
        "previousBeneficiary": mining.beneficiary.address,
        "beneficiary": stranger.address,
    }
    assert tuple(mining.mine.minerOf(mining.miner_id)) == (mining.miner.address, stranger.address)


def test_set_beneficiary__not_owner_or_unknown_or_zero_reverts(mining: Mining, stranger: Any) -> None:
    with ape.reverts(mining.mine.MineNotMinerOwner, minerId=mining.miner_id, caller=stranger.address):
        mining.mine.setBeneficiary(mining.miner_id, stranger, sender=stranger)
    unknown = keccak(text="unknown")
    with ape.reverts(mining.mine.MineUnknownMiner, minerId=unknown):
        mining.mine.setBeneficiary(unknown, stranger, sender=stranger)
    with ape.reverts(mining.mine.MineZeroAddress):
        mining.mine.setBeneficiary(mining.miner_id, ZERO_ADDRESS, sender=mining.miner)


# ---------------------------------------------------------------- accepted answers and rewards


def test_submit__valid_answer_pays_beneficiary_pull_payment(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    reward = mining.storage.reward
    pricing_index = answer.recall_position // SECTORS_PER_CHUNK

    receipt = mining.submit(answer)

    assert receipt.gas_used <= GAS_BUDGET, receipt.gas_used
    [accepted] = mining.mine.AnswerAccepted.from_receipt(receipt)
    assert accepted.event_arguments == {
        "epoch": context.epoch,
        "minerId": mining.miner_id,
        "nonce": 0,
        "recallPosition": answer.recall_position,
        "pricingIndex": pricing_index,
        "answerIndex": 0,
    }
    [paid] = reward.RewardDistributed.from_receipt(receipt)
    assert paid.pricingIndex == pricing_index
    assert paid.beneficiary == mining.beneficiary.address
    assert paid.minerId == mining.miner_id
    assert paid.amount > 0
    assert reward.balanceOf(mining.beneficiary) == paid.amount
    assert reward.rewards(pricing_index)[1] == paid.amount
    assert mining.mine.isAnswered(context.epoch, mining.miner_id, 0)
    assert tuple(mining.mine.epochAnswers()) == (context.epoch, 1)

    # Pull payment: the beneficiary withdraws once; the reward cannot be claimed twice.
    before = mining.beneficiary.balance
    withdrawn = reward.withdraw(sender=mining.beneficiary)
    fee = withdrawn.gas_used * withdrawn.gas_price
    assert mining.beneficiary.balance == before + paid.amount - fee
    with ape.reverts(reward.RewardNothingToWithdraw, account=mining.beneficiary.address):
        reward.withdraw(sender=mining.beneficiary)


def test_submit__returns_the_credited_reward(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 1)

    credited = mining.mine.submit.call(answer.to_abi(), sender=mining.miner)

    assert credited > 0


@pytest.mark.parametrize(
    "kind",
    ["padding", "reserved sector", "node above a segment", "segment-sized node", "node below a segment"],
)
def test_submit__proves_every_kind_of_sector(mining: Mining, kind: str) -> None:
    context, view = mining.open_epoch()

    def wanted(answer: Candidate) -> bool:
        node = view.node_at(answer.recall_position)
        if kind == "padding":
            return node is None and answer.recall_position != 0
        if kind == "reserved sector":
            return answer.recall_position == 0
        if kind == "node above a segment":
            return node is not None and node.height > 10
        if kind == "segment-sized node":
            return node is not None and node.height == 10
        return node is not None and node.height < 10

    answer = mining.find(context, view, wanted)
    receipt = mining.submit(answer)

    assert len(mining.mine.AnswerAccepted.from_receipt(receipt)) == 1


def test_submit__first_answer_of_an_epoch_makes_its_context(mining: Mining) -> None:
    """The miner can predict the new context (block hash before the epoch, flow root, flow length); submit makes it."""
    flow, chain = mining.flow, mining.chain
    epoch = flow.epoch() + 1
    mine_start = flow.firstBlock() + epoch * BLOCKS_PER_EPOCH
    chain.mine(mine_start - chain.blocks.head.number - 1)
    chain.pending_timestamp = chain.pending_timestamp + AGE_SECONDS
    length = flow.tree()[0]
    view = mining.data.index().at(length)
    block_digest = bytes(chain.provider.web3.eth.get_block(mine_start - 1)["hash"])
    digest = keccak(encode(["bytes32", "bytes32", "uint256"], [block_digest, view.root(), length]))
    context = MiningContext(epoch, mine_start, view.root(), length, block_digest, digest)
    answer = mining.answer(context, view, 7)

    receipt = mining.submit(answer)

    [new_epoch] = flow.NewEpoch.from_receipt(receipt)
    assert new_epoch.index == epoch and new_epoch.context == digest
    assert len(mining.mine.AnswerAccepted.from_receipt(receipt)) == 1
    assert receipt.gas_used <= GAS_BUDGET, receipt.gas_used


def test_submit__one_shard_of_two_recalls_only_its_segments(mining: Mining) -> None:
    context, view = mining.open_epoch()
    for nonce in range(8):
        answer = mining.answer(context, view, nonce, shard_id=1, num_shard=2)
        assert (answer.recall_position // SEGMENT_CHUNKS) % 2 == 1

    target = mining.range(context, shard_id=1, num_shard=2).target(mining.mine.target())  # about 0.43 of the max
    good = mining.find(context, view, lambda a: a.quality <= target, shard_id=1, num_shard=2)

    mining.submit(good)

    assert tuple(mining.mine.epochAnswers()) == (context.epoch, 1)


# ---------------------------------------------------------------- bad answers


def test_submit__unknown_miner_id_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0).replace(miner_id=keccak(text="nobody"))

    with ape.reverts(mining.mine.MineUnknownMiner, minerId=answer.miner_id):
        mining.submit(answer)


def test_submit__someone_elses_miner_id_reverts(mining: Mining, stranger: Any) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)

    with ape.reverts(mining.mine.MineNotMinerOwner, minerId=mining.miner_id, caller=stranger.address):
        mining.submit(answer, sender=stranger)


def test_submit__data_sealed_for_another_miner_id_reverts(mining: Mining, stranger: Any) -> None:
    """A copied answer under the copier's own id: its seed recalls elsewhere, and where it recalls the same sector
    the sealed data unseals to garbage for that id."""
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    salt = keccak(text="copier")
    mining.mine.register(salt, stranger, sender=stranger)
    copier = miner_id_of(stranger.address, salt)
    mine_range = mining.range(context)
    nonce = next(
        n
        for n in range(100_000)
        if mine_range.recall(seed_of(context.digest, copier, 0, 0, 1, n)) == answer.recall_position
    )
    copied = answer.replace(miner_id=copier, nonce=nonce)

    with ape.reverts(mining.mine.MineInvalidProof, flowRoot=context.flow_root):
        mining.submit(copied, sender=stranger)
    with ape.reverts(mining.mine.MineWrongRecallPosition):
        mining.submit(answer.replace(miner_id=copier, nonce=nonce + 1), sender=stranger)


def test_submit__stale_context_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    mining.open_epoch()
    current = mining.flow.getContext().digest

    with ape.reverts(mining.mine.MineStaleContext, given=context.digest, current=current):
        mining.submit(answer)


def test_submit__stale_context_reverts_when_epoch_passed_without_context(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    mining.chain.mine(BLOCKS_PER_EPOCH)  # the next epoch began; submit itself makes its context

    with ape.reverts(mining.mine.MineStaleContext, given=context.digest):
        mining.submit(answer)


def test_submit__replayed_answer_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 5)
    mining.submit(answer)

    with ape.reverts(mining.mine.MineAnswerReplayed, minerId=mining.miner_id, epoch=context.epoch, nonce=5):
        mining.submit(answer)


def test_submit__same_nonce_in_next_epoch_is_a_new_answer(mining: Mining) -> None:
    context, view = mining.open_epoch()
    mining.submit(mining.answer(context, view, 5))
    context, view = mining.open_epoch()

    mining.submit(mining.answer(context, view, 5))

    assert mining.mine.isAnswered(context.epoch, mining.miner_id, 5)


def test_submit__full_epoch_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    for nonce in range(TARGET_ANSWERS):
        mining.submit(mining.answer(context, view, nonce))

    with ape.reverts(mining.mine.MineEpochFull, epoch=context.epoch, maxAnswers=TARGET_ANSWERS):
        mining.submit(mining.answer(context, view, TARGET_ANSWERS))


@pytest.mark.parametrize(
    ("start", "shard_id", "num_shard", "error", "args"),
    [
        (0, 0, 3, "MineInvalidShard", {"shardId": 0, "numShard": 3}),
        (0, 2, 2, "MineInvalidShard", {"shardId": 2, "numShard": 2}),
        (0, 0, 0, "MineInvalidShard", {"shardId": 0, "numShard": 0}),
        (0, 0, 2**33, "MineInvalidShard", {"shardId": 0, "numShard": 2**33}),
        (512, 0, 1, "MineRangeNotAligned", {"startPosition": 512, "alignment": SECTORS_PER_CHUNK}),
        (SEGMENT_CHUNKS, 0, 1, "MineRangeNotAligned", {"startPosition": SEGMENT_CHUNKS}),
        (SECTORS_PER_CHUNK, 0, 1, "MineRangeOutsideFlow", {"startPosition": SECTORS_PER_CHUNK}),
        (2**255, 0, 1, "MineRangeOutsideFlow", {"startPosition": 2**255}),
        (0, 15, 16, "MineEmptyShardRange", {"startPosition": 0, "shardId": 15, "numShard": 16}),
    ],
)
def test_submit__invalid_range_reverts(
    mining: Mining, start: int, shard_id: int, num_shard: int, error: str, args: dict[str, int]
) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0).replace(start_position=start, shard_id=shard_id, num_shard=num_shard)

    with ape.reverts(getattr(mining.mine, error), **args):
        mining.submit(answer)
    with pytest.raises(MiningRangeError) as info:  # the SDK rejects the same ranges, naming the same error
        MineRange.of(start, shard_id, num_shard, context.flow_length, MAX_MINING_LENGTH, SECTORS_PER_CHUNK)
    assert info.value.error == error


def test_submit__recall_outside_the_range_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    end = context.flow_length

    with ape.reverts(mining.mine.MineRecallOutOfRange, recallPosition=end, start=0, end=end):
        mining.submit(answer.replace(recall_position=end))


def test_submit__recall_in_another_shard_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0, shard_id=1, num_shard=2)
    other_shard = answer.recall_position - SEGMENT_CHUNKS  # the segment before belongs to shard 0

    with ape.reverts(mining.mine.MineRecallOutOfRange, recallPosition=other_shard):
        mining.submit(answer.replace(recall_position=other_shard))


def test_submit__recall_not_derived_from_the_seed_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    other = mining.find(context, view, lambda a: a.recall_position != answer.recall_position)

    with ape.reverts(mining.mine.MineWrongRecallPosition, expected=answer.recall_position, given=other.recall_position):
        mining.submit(other.replace(nonce=0))


def test_submit__wrong_proof_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    proof = list(answer.merkle_proof)
    proof[20] = keccak(proof[20])

    with ape.reverts(mining.mine.MineInvalidProof, flowRoot=context.flow_root):
        mining.submit(answer.replace(merkle_proof=tuple(proof)))


def test_submit__wrong_data_reverts(mining: Mining) -> None:
    """A miner that lost the sector cannot answer: made-up (zero) data fails the proof."""
    context, view = mining.open_epoch()
    # A sector of data: empty sectors and a file's padding are zero sectors, which zero data proves.
    answer = mining.find(context, view, lambda a: mining.data.sector(a.recall_position) != bytes(256))
    forged = seal_sector(bytes(256), mining.miner_id, answer.recall_position)

    with ape.reverts(mining.mine.MineInvalidProof, flowRoot=context.flow_root):
        mining.submit(answer.replace(sealed_data=forged))


def test_submit__unsealed_data_reverts(mining: Mining) -> None:
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    raw = unseal_sector(answer.sealed_data, mining.miner_id, answer.recall_position)

    with ape.reverts(mining.mine.MineInvalidProof):
        mining.submit(answer.replace(sealed_data=raw))


def test_submit__difficulty_not_met_reverts(create_mining: Callable[..., Mining]) -> None:
    mining = create_mining(difficulty=2**200)
    context, view = mining.open_epoch()
    answer = mining.answer(context, view, 0)
    target = MAX_UINT256 // 2**200

    with ape.reverts(mining.mine.MineDifficultyNotMet, quality=answer.quality, target=target):
        mining.submit(answer)


def test_submit__shard_miner_meets_a_target_scaled_by_its_share(create_mining: Callable[..., Mining]) -> None:
    """A one-shard-of-two miner holds about half the flow: its target is target · shardSectors / flowLength."""
    mining = create_mining(difficulty=2)
    target = MAX_UINT256 // 2
    context, view = mining.open_epoch()
    shard = {"shard_id": 0, "num_shard": 2}
    shard_sectors = mining.range(context, **shard).shard_sectors
    scaled = target * shard_sectors // context.flow_length
    assert target // 3 < scaled < target  # shard 0 holds more than a third and less than all of the flow
    assert mining.mine.targetOf(0, 0, 2, context.flow_length) == scaled
    between = mining.find(context, view, lambda a: scaled < a.quality <= target, **shard)
    below = mining.find(context, view, lambda a: a.quality <= scaled, **shard)

    with ape.reverts(mining.mine.MineDifficultyNotMet, quality=between.quality, target=scaled):
        mining.submit(between)
    mining.submit(below)


# ---------------------------------------------------------------- the review's attacks


def _one_sector_answer(mining: Mining, context: MiningContext, view: FlowView, start: int, nonce: int) -> Answer:
    """An answer under the old rule, where the range ran from a start of the miner's choice to the flow's end."""
    length = context.flow_length - start
    old_range = MineRange(start, length, 0, 0, 1, length, length)
    return mining.data.answer(view, context, mining.miner_id, nonce, old_range)


def test_attack__range_over_the_last_sector_earns_nothing(mining_one_sector: tuple[Mining, int], user: Any) -> None:
    """The review's attack: the flow ends just after a one-sector file and the attacker mines from that sector.
    Every nonce recalls the same public sector, so holding 256 bytes would fill every epoch. The range now covers
    the whole flow, so that answer reverts, and an honest miner holding the data still earns."""
    mining, last = mining_one_sector
    context, view = mining.open_epoch()
    assert context.flow_length == last + 1
    attacks = [_one_sector_answer(mining, context, view, last, nonce) for nonce in range(TARGET_ANSWERS)]
    assert {a.recall_position for a in attacks} == {last}

    for attack in attacks:
        with ape.reverts(
            mining.mine.MineRangeOutsideFlow,
            startPosition=last,
            mineLength=context.flow_length,
            flowLength=context.flow_length,
        ):
            mining.submit(attack)

    honest = mining.good(context, view)
    assert honest.start_position == 0
    receipt = mining.submit(honest)
    [paid] = mining.storage.reward.RewardDistributed.from_receipt(receipt)
    assert paid.amount > 0
    assert tuple(mining.mine.epochAnswers()) == (context.epoch, 1)


def test_attack__many_shards_earn_in_proportion_to_the_data_held(mining_one_sector: tuple[Mining, int]) -> None:
    """Narrowing the range by sharding does not help either: a shard holding one sector of a flow of 4097 meets a
    target 4097 times harder, so its expected answers per nonce follow the data it holds."""
    mining, _ = mining_one_sector
    context, _ = mining.open_epoch()
    num_shard = 1 << 16
    shard_sectors = mining.range(context, shard_id=4, num_shard=num_shard).shard_sectors
    assert shard_sectors == 1  # shard 4 holds the one sector of the flow's last segment

    target = mining.mine.targetOf(0, 4, num_shard, context.flow_length)

    assert target == MAX_UINT256 // context.flow_length
    assert mining.mine.targetOf(0, 0, 1, context.flow_length) == MAX_UINT256


def test_attack__window_must_end_inside_the_flow(create_storage: Callable[..., Storage], admin: Any) -> None:
    """Once the flow is longer than a miner's window, the window still has its full length: it cannot be slid past
    the data toward the flow's end."""
    storage = create_storage(blocks_per_epoch=BLOCKS_PER_EPOCH)
    cap = SECTORS_PER_CHUNK
    mine = deploy_mine(admin, storage.flow, storage.reward, difficulty=1, target_answers=1, max_mining_length=cap)[
        "PoraMine"
    ][0]
    flow_length = 3 * SECTORS_PER_CHUNK + 10

    assert tuple(mine.mineRange(2 * SECTORS_PER_CHUNK, 0, 1, flow_length)) == (cap, cap)
    with ape.reverts(mine.MineRangeOutsideFlow, startPosition=3 * SECTORS_PER_CHUNK, mineLength=cap):
        mine.mineRange(3 * SECTORS_PER_CHUNK, 0, 1, flow_length)


def test_submit__epoch_whose_context_came_too_late_is_unmineable(create_mining: Callable[..., Mining]) -> None:
    """Nobody made epoch 1's context within 256 blocks: the epoch is unmineable, not mined on a late block hash."""
    epoch_blocks = 400
    mining = create_mining(blocks_per_epoch=epoch_blocks)
    late = mining.flow.firstBlock() + epoch_blocks + 300
    mining.chain.mine(late - mining.chain.blocks.head.number)
    answer = (bytes(32), mining.miner_id, 0, 0, 0, 1, 0, [bytes(32)] * 8, [bytes(32)] * 64)

    with ape.reverts(mining.mine.MineEpochUnmineable, epoch=1):
        mining.mine.submit(answer, sender=mining.miner)
    mining.flow.makeContext(sender=mining.miner)
    assert mining.flow.getContext().digest == bytes(32)


# ---------------------------------------------------------------- difficulty


def _adjusted(receipt: Any, mine: Any) -> list[dict[str, int]]:
    return [event.event_arguments for event in mine.DifficultyAdjusted.from_receipt(receipt)]


def test_difficulty__epoch_filled_early_halves_target_at_most(create_mining: Callable[..., Mining]) -> None:
    mining = create_mining(difficulty=4, target_answers=2)
    start = mining.mine.target()
    context, view = mining.open_epoch()

    first = mining.good(context, view)
    mining.submit(first)
    filled = mining.submit(mining.good(context, view, after=first.nonce))

    elapsed = filled.block_number - context.mine_start + 1
    expected = max(start * elapsed // BLOCKS_PER_EPOCH, start // 2)
    assert _adjusted(filled, mining.mine) == [
        {"epoch": context.epoch, "previousTarget": start, "newTarget": expected, "answers": 2}
    ]
    assert mining.mine.target() == expected


def test_difficulty__epoch_filled_late_scales_target_by_elapsed_share(create_mining: Callable[..., Mining]) -> None:
    mining = create_mining(difficulty=4, target_answers=2)
    start = mining.mine.target()
    context, view = mining.open_epoch()
    first = mining.good(context, view)
    mining.submit(first)
    mining.chain.mine(context.mine_start + 8 - mining.chain.blocks.head.number - 1)

    filled = mining.submit(mining.good(context, view, after=first.nonce))

    assert filled.block_number == context.mine_start + 8
    assert mining.mine.target() == start * 9 // BLOCKS_PER_EPOCH  # 9 of 12 blocks: above the floor of 1/2


@pytest.mark.parametrize(("answers", "factor"), [(1, (2, 1)), (2, (3, 2))])
def test_difficulty__incomplete_epoch_eases_target_on_rollover(
    create_mining: Callable[..., Mining], answers: int, factor: tuple[int, int]
) -> None:
    mining = create_mining(difficulty=1000, target_answers=3)
    start = mining.mine.target()
    context, view = mining.open_epoch()
    last = -1
    for _ in range(answers):
        answer = mining.good(context, view, after=last)
        mining.submit(answer)
        last = answer.nonce
    context, view = mining.open_epoch()

    receipt = mining.submit(mining.good(context, view))

    expected = start * factor[0] // factor[1]
    assert _adjusted(receipt, mining.mine) == [
        {"epoch": context.epoch, "previousTarget": start, "newTarget": expected, "answers": answers}
    ]
    assert mining.mine.difficulty() == MAX_UINT256 // expected


def test_difficulty__each_skipped_epoch_doubles_target(create_mining: Callable[..., Mining]) -> None:
    mining = create_mining(difficulty=1000, target_answers=1)
    context, view = mining.open_epoch()
    mining.submit(mining.good(context, view))  # fills epoch e: target halved (at most)
    filled = mining.mine.target()
    mining.open_epoch()
    mining.open_epoch()  # e + 1 and e + 2 get no answer
    context, view = mining.open_epoch()

    receipt = mining.submit(mining.good(context, view))

    rollover, refill = _adjusted(receipt, mining.mine)
    assert (rollover["previousTarget"], rollover["newTarget"], rollover["answers"]) == (filled, filled * 4, 1)
    # e + 3 filled at once again: halved in the same transaction.
    assert (refill["previousTarget"], refill["newTarget"]) == (filled * 4, filled * 2)
    assert mining.mine.target() == filled * 2


def test_difficulty__easiest_target_saturates(mining: Mining) -> None:
    context, view = mining.open_epoch()
    mining.submit(mining.answer(context, view, 0))
    mining.open_epoch()
    context, view = mining.open_epoch()

    receipt = mining.submit(mining.answer(context, view, 0))

    assert _adjusted(receipt, mining.mine) == []
    assert mining.mine.target() == MAX_UINT256


# ---------------------------------------------------------------- views = the SDK's definitions


def test_views__match_the_sdk(mining: Mining) -> None:
    rng = random.Random(7)
    mine = mining.mine
    for _ in range(20):
        digest, miner_id = rng.randbytes(32), rng.randbytes(32)
        num_shard = 1 << rng.randrange(4)
        shard_id = rng.randrange(num_shard)
        flow_length = rng.randrange(num_shard * SEGMENT_CHUNKS, 40 * SEGMENT_CHUNKS)
        nonce, position = rng.randrange(2**64), rng.randrange(2**40)
        seed = seed_of(digest, miner_id, 0, shard_id, num_shard, nonce)
        sealed = rng.randbytes(256)
        words = [sealed[i : i + 32] for i in range(0, 256, 32)]
        expected = MineRange.of(0, shard_id, num_shard, flow_length, MAX_MINING_LENGTH, SECTORS_PER_CHUNK)

        assert mine.seedOf(digest, miner_id, 0, shard_id, num_shard, nonce) == seed
        assert tuple(mine.mineRange(0, shard_id, num_shard, flow_length)) == (
            expected.mine_length,
            expected.shard_sectors,
        )
        assert mine.recallPositionOf(seed, 0, shard_id, num_shard, flow_length) == expected.recall(seed)
        assert mine.targetOf(0, shard_id, num_shard, flow_length) == expected.target(MAX_UINT256)
        assert mine.qualityOf(seed, words) == quality_of(seed, sealed)
        assert b"".join(mine.unseal(miner_id, position, words)) == unseal_sector(sealed, miner_id, position)
        assert unseal_sector(seal_sector(sealed, miner_id, position), miner_id, position) == sealed


def test_views__mine_length_is_capped_per_shard(create_storage: Callable[..., Storage], admin: Any) -> None:
    storage = create_storage(blocks_per_epoch=BLOCKS_PER_EPOCH)
    cap = 2 * SEGMENT_CHUNKS
    mine = deploy_mine(admin, storage.flow, storage.reward, difficulty=1, target_answers=1, max_mining_length=cap)[
        "PoraMine"
    ][0]

    for start, num_shard, flow_length in [(0, 1, 10_000), (SECTORS_PER_CHUNK, 2, 10_000), (0, 4, 3_000)]:
        expected = MineRange.of(start, 0, num_shard, flow_length, cap, SECTORS_PER_CHUNK)
        assert tuple(mine.mineRange(start, 0, num_shard, flow_length)) == (expected.mine_length, expected.shard_sectors)
        assert expected.mine_length == min(flow_length, cap * num_shard)
        assert mine.targetOf(start, 0, num_shard, flow_length) == expected.target(MAX_UINT256)
