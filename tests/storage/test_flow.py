"""Contract tests of Flow (`ape test`): the 0G wire ABI, validation, placement, fees, epochs and the flow root
against an independent Python reference of the definition in IFlow/FlowTree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, keccak
from web3.exceptions import ContractCustomError

from tests.storage.conftest import (
    BLOCKS_PER_EPOCH,
    PRICE,
    SECTOR,
    ZERO_ADDRESS,
    Storage,
    node_root,
    sectors,
    submission,
)

# 0G SDK wire facts (docs/storage-wire.md).
SELECTORS = {
    "submit": "0xbc8c11f8",
    "batchSubmit": "0x49aa3395",
    "market": "0x80f55605",
    "getContext": "0x127f0f07",
    "numSubmissions": "0x77e19824",
    "submissionIndex": "0xb8a409ac",
    "blocksPerEpoch": "0xf0682054",
    "firstBlock": "0x231b0268",
    "epoch": "0x900cf0cf",
    "tree": "0xfd54b228",
}
SUBMIT_TOPIC = "0x167ce04d2aa1981994d3a31695da0d785373335b1078cec239a1a3a2c7675555"
Z0 = bytes.fromhex("d397b3b043d87fcd6fad1291ff0bfd16401c274896d8c63a923727f077b8e0b5")
Z10 = bytes.fromhex("e68d02859bb6211cec64f52368b77d422de3b8eac34bf615942b814b643301b5")

DEPTH = 64
SEGMENT = 1024
MAX_NODES = 4
MAX_SPAN = 4
MAX_HEIGHT = 32


# ---------------------------------------------------------------- Python reference of the flow


def zero_hashes(depth: int = DEPTH) -> list[bytes]:
    zeros = [keccak(bytes(SECTOR))]
    for _ in range(depth):
        zeros.append(keccak(zeros[-1] + zeros[-1]))
    return zeros


ZEROS = zero_hashes()


def align(value: int, height: int) -> int:
    return -(-value // (1 << height)) * (1 << height)


class ReferenceFlow:
    """The flow by definition: placement rule, and the root of the depth-64 tree computed top-down over the
    placed nodes (empty subtrees are Z[d]). Shares no code or structure with the contract's frontier."""

    def __init__(self) -> None:
        self.length = 1  # the reserved sector
        self.nodes: list[tuple[int, int, bytes]] = []  # (start, height, root)

    def place(self, sub: tuple[Any, ...]) -> int:
        nodes = sub[0][2]
        heights = [h for _, h in nodes]
        size = sectors(heights)
        start = align(self.length, heights[0])
        if start % SEGMENT and start // SEGMENT != (start + size - 1) // SEGMENT:
            start = align(start, 10)
        position = start
        for root, height in nodes:
            assert position % (1 << height) == 0
            self.nodes.append((position, height, root))
            position += 1 << height
        self.length = position
        return start

    def root(self) -> bytes:
        return self._subtree(DEPTH, 0, self.nodes)

    def _subtree(self, level: int, index: int, nodes: list[tuple[int, int, bytes]]) -> bytes:
        low, high = index << level, (index + 1) << level
        inside = [n for n in nodes if n[0] < high and n[0] + (1 << n[1]) > low]
        if not inside:
            return ZEROS[level]
        if len(inside) == 1 and inside[0][0] == low and inside[0][1] == level:
            return inside[0][2]
        return keccak(self._subtree(level - 1, 2 * index, inside) + self._subtree(level - 1, 2 * index + 1, inside))


# ---------------------------------------------------------------- helpers


def fee(heights: Sequence[int], price: int = PRICE) -> int:
    return sectors(heights) * price


def submit(flow: Any, sub: tuple[Any, ...], sender: Any, price: int = PRICE) -> Any:
    heights = [h for _, h in sub[0][2]]
    return flow.submit(sub, sender=sender, value=fee(heights, price))


def context(flow: Any) -> dict[str, Any]:
    names = ("epoch", "mineStart", "flowRoot", "flowLength", "blockDigest", "digest")
    return dict(zip(names, flow.getContext(), strict=True))


def context_digest(block_digest: bytes, root: bytes, length: int) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "uint256"], [block_digest, root, length]))


def block_hash(chain: Any, number: int) -> bytes:
    return bytes(chain.provider.get_block(number).hash)


def _abi(project: Any, kind: str) -> dict[str, dict[str, Any]]:
    items = (item.model_dump(mode="json", by_alias=True) for item in project.Flow.contract_type.abi)
    return {item["name"]: item for item in items if item["type"] == kind}


def _deploy_revert_data(project: Any, chain: Any, sender: Any, market: str, blocks_per_epoch: int) -> str:
    data = (
        project.Flow.contract_type.deployment_bytecode.bytecode
        + encode(["address", "uint256"], [market, blocks_per_epoch]).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    return str(info.value.data)


def _error_selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


@pytest.fixture
def flow(storage: Storage) -> Any:
    return storage.flow


# ---------------------------------------------------------------- wire ABI


@pytest.mark.parametrize(("name", "selector"), SELECTORS.items())
def test_abi__selectors_match_0g_sdk(project: Any, name: str, selector: str) -> None:
    assert "0x" + function_abi_to_4byte_selector(_abi(project, "function")[name]).hex() == selector


def test_abi__submit_event_topic_matches_0g_sdk(project: Any) -> None:
    assert "0x" + event_abi_to_log_topic(_abi(project, "event")["Submit"]).hex() == SUBMIT_TOPIC


def test_abi__new_epoch_event_signature(project: Any) -> None:
    signature = "NewEpoch(address,uint256,bytes32,uint256,uint256,bytes32)"
    assert event_abi_to_log_topic(_abi(project, "event")["NewEpoch"]) == keccak(text=signature)


def test_zero_hashes__match_sdk_constants() -> None:
    assert ZEROS[0] == Z0
    assert ZEROS[10] == Z10


# ---------------------------------------------------------------- constructor


def test_constructor__sets_parameters_and_empty_flow(storage: Storage, chain: Any) -> None:
    flow = storage.flow
    deploy_block = flow.creation_metadata.receipt.block_number

    assert flow.market() == storage.market.address
    assert flow.blocksPerEpoch() == BLOCKS_PER_EPOCH
    assert flow.firstBlock() == deploy_block
    assert flow.numSubmissions() == flow.submissionIndex() == 0
    assert tuple(flow.tree()) == (1, 1)
    # Only the reserved sector, which is empty: the root of an empty tree.
    assert flow.flowRoot() == ZEROS[DEPTH] == ReferenceFlow().root()


def test_constructor__makes_epoch_zero_context(flow: Any, chain: Any) -> None:
    deploy_block = flow.creation_metadata.receipt.block_number
    parent = block_hash(chain, deploy_block - 1)

    assert context(flow) == {
        "epoch": 0,
        "mineStart": deploy_block,
        "flowRoot": ZEROS[DEPTH],
        "flowLength": 1,
        "blockDigest": parent,
        "digest": context_digest(parent, ZEROS[DEPTH], 1),
    }
    [new_epoch] = flow.NewEpoch.from_receipt(flow.creation_metadata.receipt)
    assert new_epoch.index == 0
    assert new_epoch.startMerkleRoot == ZEROS[DEPTH]
    assert new_epoch.submissionIndex == 0
    assert new_epoch.flowLength == 1
    assert new_epoch.context == context_digest(parent, ZEROS[DEPTH], 1)


def test_constructor__zero_market_reverts(project: Any, chain: Any, admin: Any) -> None:
    data = _deploy_revert_data(project, chain, admin, ZERO_ADDRESS, BLOCKS_PER_EPOCH)
    assert data == _error_selector("FlowZeroAddress()")


def test_constructor__zero_blocks_per_epoch_reverts(project: Any, chain: Any, admin: Any, storage: Storage) -> None:
    data = _deploy_revert_data(project, chain, admin, storage.market.address, 0)
    assert data == _error_selector("FlowInvalidBlocksPerEpoch()")


# ---------------------------------------------------------------- submit: event and return values


def test_submit__emits_submit_with_sdk_fields(flow: Any, user: Any, stranger: Any) -> None:
    roots = [node_root(), node_root()]
    sub = submission([1, 0], stranger, length=700, tags=b"\x01\x02", roots=roots)

    receipt = submit(flow, sub, user)

    [event] = flow.Submit.from_receipt(receipt)
    assert event.sender == stranger.address  # the submitter, not msg.sender
    assert event.identity == keccak(b"".join(roots))
    assert event.submissionIndex == 0
    assert event.startPos == 2  # aligned to 2^1 after the reserved sector
    assert event.length == 3
    length, tags, nodes = event.submission  # ape decodes the struct as a list
    assert length == 700
    assert tags == b"\x01\x02"
    assert [tuple(n) for n in nodes] == [(roots[0], 1), (roots[1], 0)]
    assert receipt.logs[0]["topics"][0] == bytes.fromhex(SUBMIT_TOPIC[2:])


def test_submit__returns_index_digest_start_and_length(flow: Any, user: Any) -> None:
    roots = [node_root()]
    sub = submission([3], user, roots=roots)

    result = flow.submit.call(sub, sender=user, value=fee([3]))

    assert tuple(result) == (0, keccak(roots[0]), 8, 8)


def test_submit__tx_seq_increments(flow: Any, user: Any) -> None:
    for expected in range(3):
        receipt = submit(flow, submission([0], user), user)
        [event] = flow.Submit.from_receipt(receipt)
        assert event.submissionIndex == expected
    assert flow.numSubmissions() == flow.submissionIndex() == 3


# ---------------------------------------------------------------- placement


def _start(flow: Any, user: Any, heights: Sequence[int]) -> int:
    [event] = flow.Submit.from_receipt(submit(flow, submission(heights, user), user))
    return event.startPos


def test_submit__first_file_starts_after_reserved_sector(flow: Any, user: Any) -> None:
    assert _start(flow, user, [0]) == 1
    assert tuple(flow.tree()) == (2, 2)


def test_submit__one_sector_then_two_sectors_aligns_to_two(flow: Any, user: Any) -> None:
    assert _start(flow, user, [0]) == 1
    assert _start(flow, user, [1]) == 2


def test_submit__one_sector_then_segment_aligns_to_segment(flow: Any, user: Any) -> None:
    assert _start(flow, user, [0]) == 1
    assert _start(flow, user, [10]) == SEGMENT
    assert tuple(flow.tree()) == (2 * SEGMENT, 12)


def test_submit__nodes_are_placed_back_to_back(flow: Any, user: Any) -> None:
    assert _start(flow, user, [2, 0]) == 4  # 4-sector node at 4, 1-sector node at 8
    assert flow.tree()[0] == 9
    assert _start(flow, user, [0]) == 9


def test_submit__file_fitting_in_segment_is_not_moved(flow: Any, user: Any) -> None:
    _start(flow, user, [10])  # flow length 2048
    _start(flow, user, [0])  # 2049
    assert _start(flow, user, [8]) == 2048 + 256  # [2304, 2560) lies inside segment 2


def test_submit__file_straddling_segment_moves_to_next_segment(flow: Any, user: Any) -> None:
    _start(flow, user, [10])  # flow length 2048
    _start(flow, user, [0])  # 2049
    # 768 sectors aligned to 512 would start at 2560 and end at 3327, crossing 3072: moved to 3072.
    assert _start(flow, user, [9, 8]) == 3 * SEGMENT
    assert flow.tree()[0] == 3 * SEGMENT + 768


def test_submit__large_file_aligns_to_its_first_node(flow: Any, user: Any) -> None:
    _start(flow, user, [0])
    assert _start(flow, user, [12, 10]) == 4096


# ---------------------------------------------------------------- validation


def test_submit__zero_submitter_reverts(flow: Any, user: Any) -> None:
    with ape.reverts(flow.FlowZeroSubmitter):
        submit(flow, submission([0], ZERO_ADDRESS), user)


def test_submit__no_nodes_reverts(flow: Any, user: Any) -> None:
    with ape.reverts(flow.FlowInvalidNodeCount, count=0, maxNodes=MAX_NODES):
        flow.submit(((1, b"", []), user.address), sender=user)


def test_submit__five_nodes_reverts(flow: Any, user: Any) -> None:
    heights = [4, 3, 2, 1, 0]
    with ape.reverts(flow.FlowInvalidNodeCount, count=5, maxNodes=MAX_NODES):
        submit(flow, submission(heights, user), user)


def test_submit__four_nodes_succeed(flow: Any, user: Any) -> None:
    heights = [3, 2, 1, 0]
    [event] = flow.Submit.from_receipt(submit(flow, submission(heights, user), user))
    assert (event.startPos, event.length) == (8, 15)


@pytest.mark.parametrize("heights", [[1, 1], [0, 1], [2, 0, 0]])
def test_submit__heights_not_decreasing_reverts(flow: Any, user: Any, heights: list[int]) -> None:
    index = next(i for i in range(1, len(heights)) if heights[i] >= heights[i - 1])
    with ape.reverts(
        flow.FlowHeightsNotDecreasing, index=index, previousHeight=heights[index - 1], height=heights[index]
    ):
        flow.submit(submission(heights, user, length=SECTOR), sender=user, value=fee(heights))


def test_submit__height_span_of_four_reverts(flow: Any, user: Any) -> None:
    with ape.reverts(flow.FlowHeightSpanTooLarge, firstHeight=4, lastHeight=0, maxSpan=MAX_SPAN):
        submit(flow, submission([4, 0], user), user)


def test_submit__height_span_of_three_succeeds(flow: Any, user: Any) -> None:
    [event] = flow.Submit.from_receipt(submit(flow, submission([3, 0], user), user))
    assert event.length == 9


def test_submit__height_above_max_reverts(flow: Any, user: Any) -> None:
    sub = submission([MAX_HEIGHT + 1], user, length=1)
    with ape.reverts(flow.FlowNodeTooHigh, index=0, height=MAX_HEIGHT + 1, maxHeight=MAX_HEIGHT):
        flow.submit(sub, sender=user)


def test_submit__huge_height_reverts_before_shifting(flow: Any, user: Any) -> None:
    sub = submission([2**255], user, length=1)
    with ape.reverts(flow.FlowNodeTooHigh, index=0, height=2**255, maxHeight=MAX_HEIGHT):
        flow.submit(sub, sender=user)


def test_submit__length_above_capacity_reverts(flow: Any, user: Any) -> None:
    sub = submission([1, 0], user, length=3 * SECTOR + 1)
    with ape.reverts(flow.FlowLengthOutOfRange, length=3 * SECTOR + 1, minExclusive=2 * SECTOR, maxInclusive=768):
        submit(flow, sub, user)


@pytest.mark.parametrize(("heights", "length"), [([1, 0], 2 * SECTOR), ([0], 0), ([2], 0)])
def test_submit__length_not_needing_last_node_reverts(flow: Any, user: Any, heights: list[int], length: int) -> None:
    minimum = (sectors(heights) - (1 << heights[-1])) * SECTOR
    with ape.reverts(
        flow.FlowLengthOutOfRange, length=length, minExclusive=minimum, maxInclusive=sectors(heights) * SECTOR
    ):
        submit(flow, submission(heights, user, length=length), user)


@pytest.mark.parametrize(("heights", "length"), [([1, 0], 2 * SECTOR + 1), ([0], 1), ([10], 1), ([10, 7], 262145)])
def test_submit__length_at_bounds_succeeds(flow: Any, user: Any, heights: list[int], length: int) -> None:
    [event] = flow.Submit.from_receipt(submit(flow, submission(heights, user, length=length), user))
    assert event.submission[0] == length


def test_submit__free_storage_cannot_fill_the_flow_in_a_few_transactions(
    storage: Storage, admin: Any, user: Any
) -> None:
    """At a price of 0 (an admin power), a node of height 63 used to take half the flow in one transaction."""
    storage.market.setPricePerSector(0, sender=admin)
    with ape.reverts(storage.flow.FlowNodeTooHigh, index=0, height=DEPTH - 1, maxHeight=MAX_HEIGHT):
        storage.flow.submit(submission([DEPTH - 1], user, length=1), sender=user)
    [event] = storage.flow.Submit.from_receipt(storage.flow.submit(submission([MAX_HEIGHT], user), sender=user))
    assert event.length == 1 << MAX_HEIGHT


def test_submit__huge_free_node_keeps_root_consistent(storage: Storage, admin: Any, user: Any) -> None:
    storage.market.setPricePerSector(0, sender=admin)
    reference = ReferenceFlow()
    for heights in ([0], [MAX_HEIGHT], [30, 28]):
        sub = submission(heights, user)
        [event] = storage.flow.Submit.from_receipt(storage.flow.submit(sub, sender=user))
        assert event.startPos == reference.place(sub)
    assert storage.flow.flowRoot() == reference.root()


# ---------------------------------------------------------------- fees


def test_submit__exact_fee_goes_to_reward_pool(storage: Storage, user: Any) -> None:
    heights = [4, 2]
    receipt = submit(storage.flow, submission(heights, user), user)

    assert storage.reward.balance == fee(heights)
    assert storage.flow.balance == storage.market.balance == 0
    [charged] = storage.market.FeeCharged.from_receipt(receipt)
    assert charged.beforeLength == 1
    assert charged.uploadSectors == 20
    assert charged.paddingSectors == 15  # sectors 1..15 pad up to the 16-alignment
    assert charged.fee == fee(heights)


@pytest.mark.parametrize("delta", [-1, 1])
def test_submit__wrong_fee_reverts(flow: Any, user: Any, delta: int) -> None:
    expected = fee([3])
    with ape.reverts(flow.FlowIncorrectFee, expected=expected, received=expected + delta):
        flow.submit(submission([3], user), sender=user, value=expected + delta)


def test_submit__no_value_reverts(flow: Any, user: Any) -> None:
    with ape.reverts(flow.FlowIncorrectFee, expected=fee([0]), received=0):
        flow.submit(submission([0], user), sender=user)


def test_submit__price_change_applies_to_next_submission(storage: Storage, admin: Any, user: Any) -> None:
    storage.market.setPricePerSector(3 * PRICE, sender=admin)
    with ape.reverts(storage.flow.FlowIncorrectFee, expected=3 * fee([1]), received=fee([1])):
        submit(storage.flow, submission([1], user), user)
    submit(storage.flow, submission([1], user), user, price=3 * PRICE)
    assert storage.reward.balance == 3 * fee([1])


def test_submit__free_storage_takes_no_value(storage: Storage, admin: Any, user: Any) -> None:
    storage.market.setPricePerSector(0, sender=admin)
    receipt = storage.flow.submit(submission([5], user), sender=user)
    assert len(storage.flow.Submit.from_receipt(receipt)) == 1
    assert storage.reward.balance == 0
    with ape.reverts(storage.flow.FlowIncorrectFee, expected=0, received=1):
        storage.flow.submit(submission([5], user), sender=user, value=1)


# ---------------------------------------------------------------- batchSubmit


def test_batch_submit__places_all_and_charges_once(storage: Storage, user: Any, stranger: Any) -> None:
    flow = storage.flow
    subs = [submission([0], user), submission([10], stranger), submission([1, 0], user, length=600)]
    total = sum(fee([h for _, h in s[0][2]]) for s in subs)
    reference = ReferenceFlow()
    starts = [reference.place(s) for s in subs]

    result = flow.batchSubmit.call(subs, sender=user, value=total)
    receipt = flow.batchSubmit(subs, sender=user, value=total)

    indexes, digests, start_indexes, lengths = (list(x) for x in result)
    assert indexes == [0, 1, 2]
    assert digests == [keccak(b"".join(n[0] for n in s[0][2])) for s in subs]
    assert start_indexes == starts == [1, 1024, 2048]
    assert lengths == [1, 1024, 3]
    events = flow.Submit.from_receipt(receipt)
    assert [(e.sender, e.submissionIndex, e.startPos, e.length) for e in events] == [
        (user.address, 0, 1, 1),
        (stranger.address, 1, 1024, 1024),
        (user.address, 2, 2048, 3),
    ]
    [charged] = storage.market.FeeCharged.from_receipt(receipt)
    assert (charged.beforeLength, charged.uploadSectors, charged.paddingSectors) == (1, 1028, 2051 - 1 - 1028)
    assert storage.reward.balance == total
    assert flow.flowRoot() == reference.root()


@pytest.mark.parametrize("delta", [-1, 1])
def test_batch_submit__wrong_total_fee_reverts(flow: Any, user: Any, delta: int) -> None:
    subs = [submission([0], user), submission([2], user)]
    total = fee([0]) + fee([2])
    with ape.reverts(flow.FlowIncorrectFee, expected=total, received=total + delta):
        flow.batchSubmit(subs, sender=user, value=total + delta)


def test_batch_submit__one_invalid_submission_reverts_all(flow: Any, user: Any) -> None:
    subs = [submission([0], user), submission([0], ZERO_ADDRESS)]
    with ape.reverts(flow.FlowZeroSubmitter):
        flow.batchSubmit(subs, sender=user, value=2 * fee([0]))
    assert flow.numSubmissions() == 0


def test_batch_submit__empty_batch_is_a_no_op(storage: Storage, user: Any) -> None:
    receipt = storage.flow.batchSubmit([], sender=user)
    assert storage.flow.Submit.from_receipt(receipt) == []
    assert storage.market.FeeCharged.from_receipt(receipt) == []
    assert tuple(storage.flow.tree()) == (1, 1)


def test_batch_submit__continues_sequence_of_submit(flow: Any, user: Any) -> None:
    submit(flow, submission([0], user), user)
    result = flow.batchSubmit.call([submission([0], user)] * 2, sender=user, value=2 * fee([0]))
    assert list(result[0]) == [1, 2]


# ---------------------------------------------------------------- flow root


def test_flow_root__matches_reference_after_every_submission(flow: Any, user: Any) -> None:
    reference = ReferenceFlow()
    for heights in ([0], [1], [10], [0], [9, 8], [3, 2, 1, 0], [12, 11, 9], [0], [5]):
        sub = submission(heights, user)
        [event] = flow.Submit.from_receipt(submit(flow, sub, user))
        assert event.startPos == reference.place(sub)
        assert flow.tree()[0] == reference.length
        assert flow.flowRoot() == reference.root()


def test_flow_root__first_segment_is_the_empty_segment(flow: Any, user: Any) -> None:
    root = node_root()
    submit(flow, submission([10], user, roots=[root]), user)  # [1024, 2048): segment 0 holds only padding
    expected = keccak(Z10 + root)
    zero = keccak(Z10 + Z10)
    for _ in range(11, DEPTH):
        expected = keccak(expected + zero)
        zero = keccak(zero + zero)
    assert flow.flowRoot() == expected


# ---------------------------------------------------------------- epochs and contexts


def _mine_to_epoch(flow: Any, chain: Any, target: int) -> None:
    """Mine until the next block (the next transaction's) is the first block of epoch `target`."""
    first = flow.firstBlock() + target * BLOCKS_PER_EPOCH
    chain.mine(first - chain.blocks.head.number - 1)


def test_epoch__follows_block_number(flow: Any, chain: Any) -> None:
    first = flow.firstBlock()
    assert flow.epoch() == (chain.blocks.head.number - first) // BLOCKS_PER_EPOCH
    chain.mine(first + 2 * BLOCKS_PER_EPOCH - chain.blocks.head.number)
    assert flow.epoch() == 2


def test_submit__in_new_epoch_makes_context_before_placing(flow: Any, chain: Any, user: Any) -> None:
    submit(flow, submission([0], user), user)
    before = flow.flowRoot()
    _mine_to_epoch(flow, chain, 1)

    receipt = submit(flow, submission([2], user), user)

    [new_epoch] = flow.NewEpoch.from_receipt(receipt)
    assert (new_epoch.index, new_epoch.startMerkleRoot, new_epoch.flowLength) == (1, before, 2)
    assert new_epoch.submissionIndex == 1  # made before this submission was placed
    ctx = context(flow)
    assert (ctx["epoch"], ctx["flowRoot"], ctx["flowLength"]) == (1, before, 2)
    assert ctx["digest"] == context_digest(block_hash(chain, receipt.block_number - 1), before, 2)


def test_batch_submit__in_new_epoch_makes_context_before_placing(flow: Any, chain: Any, user: Any) -> None:
    _mine_to_epoch(flow, chain, 1)
    subs = [submission([1], user), submission([0], user)]

    receipt = flow.batchSubmit(subs, sender=user, value=fee([1]) + fee([0]))

    [new_epoch] = flow.NewEpoch.from_receipt(receipt)
    assert (new_epoch.index, new_epoch.flowLength, new_epoch.submissionIndex) == (1, 1, 0)
    assert context(flow)["flowLength"] == 1


def test_make_context__submissions_cannot_grind_the_digest(flow: Any, chain: Any, user: Any) -> None:
    """The review's attack: the first to act in a new epoch appended a submission with a node root of its choosing
    and then made the context, picking the digest. Now whatever the epoch's first submission holds, the context is
    made before it is placed, so every choice gives the same digest."""
    submit(flow, submission([0], user), user)
    _mine_to_epoch(flow, chain, 1)
    digests = set()
    for choice in range(3):
        snapshot = chain.snapshot()
        roots = [keccak(choice.to_bytes(32, "big"))]
        receipt = submit(flow, submission([3], user, roots=roots), user)
        flow.makeContext(sender=user)  # too late to matter: the context exists already
        ctx = context(flow)
        assert (receipt.block_number, ctx["epoch"], ctx["flowLength"]) == (flow.firstBlock() + BLOCKS_PER_EPOCH, 1, 2)
        digests.add(ctx["digest"])
        chain.restore(snapshot)

    assert len(digests) == 1


def test_submit__gas_estimated_without_block_tag_covers_the_new_context(flow: Any, chain: Any, user: Any) -> None:
    """The official SDK sends eth_estimateGas's figure (no block tag: the pending block) as the gas limit: a submit
    landing in an epoch's first block, which makes the context, must not cost more than estimated."""
    submit(flow, submission([0], user), user)
    _mine_to_epoch(flow, chain, 1)
    sub = submission([3, 1], user)
    web3 = chain.provider.web3
    call = {"from": user.address, "to": flow.address, "value": fee([3, 1]), "data": flow.submit.encode_input(sub)}
    estimate = web3.provider.make_request("eth_estimateGas", [call])["result"]

    receipt = flow.submit(sub, sender=user, value=fee([3, 1]), gas_limit=int(estimate, 16))

    assert receipt.block_number == flow.firstBlock() + BLOCKS_PER_EPOCH
    assert receipt.gas_used <= int(estimate, 16)
    assert len(flow.NewEpoch.from_receipt(receipt)) == len(flow.Submit.from_receipt(receipt)) == 1


def test_submit__same_epoch_keeps_context(flow: Any, user: Any) -> None:
    before = context(flow)
    receipt = submit(flow, submission([0], user), user)
    assert flow.NewEpoch.from_receipt(receipt) == []
    assert context(flow) == before


def test_make_context__same_epoch_is_a_no_op(flow: Any, stranger: Any) -> None:
    receipt = flow.makeContext(sender=stranger)
    assert flow.NewEpoch.from_receipt(receipt) == []
    assert context(flow)["epoch"] == 0


def test_make_context__skipped_epochs_jump_to_current(flow: Any, chain: Any, stranger: Any) -> None:
    _mine_to_epoch(flow, chain, 3)

    receipt = flow.makeContext(sender=stranger)

    [new_epoch] = flow.NewEpoch.from_receipt(receipt)
    assert (new_epoch.sender, new_epoch.index, new_epoch.flowLength) == (stranger.address, 3, 1)
    ctx = context(flow)
    assert ctx["epoch"] == flow.epoch() == 3
    assert ctx["mineStart"] == flow.firstBlock() + 3 * BLOCKS_PER_EPOCH
    assert ctx["blockDigest"] == block_hash(chain, ctx["mineStart"] - 1)
    assert len(flow.NewEpoch.from_receipt(flow.makeContext(sender=stranger))) == 0


def test_make_context__late_in_epoch_uses_epoch_start_block(flow: Any, chain: Any, stranger: Any) -> None:
    _mine_to_epoch(flow, chain, 1)
    chain.mine(BLOCKS_PER_EPOCH - 1)  # the makeContext transaction is the epoch's last block

    receipt = flow.makeContext(sender=stranger)

    mine_start = flow.firstBlock() + BLOCKS_PER_EPOCH
    assert receipt.block_number == mine_start + BLOCKS_PER_EPOCH - 1
    assert context(flow)["blockDigest"] == block_hash(chain, mine_start - 1)


def test_make_context__after_256_blocks_is_unmineable(create_storage: Any, chain: Any, stranger: Any) -> None:
    """The epoch's block hash is gone: the context gets a zero digest (PoraMine refuses it) instead of a block
    hash the caller picks by timing its transaction."""
    flow = create_storage(blocks_per_epoch=1000).flow
    mine_start = flow.firstBlock() + 1000
    chain.mine(mine_start + 300 - chain.blocks.head.number - 1)  # mineStart - 1 is 301 blocks back

    receipt = flow.makeContext(sender=stranger)

    ctx = context(flow)
    assert (ctx["epoch"], ctx["mineStart"], ctx["flowLength"]) == (1, mine_start, 1)
    assert ctx["blockDigest"] == ctx["digest"] == bytes(32)
    [new_epoch] = flow.NewEpoch.from_receipt(receipt)
    assert new_epoch.context == bytes(32)
