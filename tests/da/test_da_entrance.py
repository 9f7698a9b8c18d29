"""Contract tests of DAEntrance (`ape test`): size-priced blob fees and DataUpload, the quorum of each blob, aggregate
BLS attestations checked against the quorum's signers and stake, fees credited to the attesting signers and
withdrawn, the retention window, every revert, and the gas of submitVerifiedCommitRoots with 4 and 32 signers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from tests.da.conftest import (
    BLOB_FEE,
    EPOCH_BLOCKS,
    GRACE_BLOCKS,
    RETENTION,
    STAKE,
    ZERO_ADDRESS,
    Quorum,
    advance_to_epoch,
    chain_id,
    keys,
    pop,
)
from zerog.chain import Deployment, ErrorDecoder
from zerog.da.bls import G1, G1_GENERATOR, G2, aggregate_g1, aggregate_g2, hash_to_g1
from zerog.da.contracts import DAContracts, EpochNotAttestableError
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB

#: The issue's target for one attestation, whatever the signer count.
GAS_TARGET = 300_000


def root(n: int) -> bytes:
    return keccak(text=f"data root {n}")


@pytest.fixture
def quorum(create_quorum: Callable[..., Quorum], signer_accounts: list[Any]) -> Quorum:
    return create_quorum(4, members=signer_accounts[:4])


@pytest.fixture(scope="module")
def quorum32(create_quorum: Callable[..., Quorum]) -> Quorum:
    """32 genesis signers at addresses that never transact (the deployer pays genesis stakes), one quorum."""
    return create_quorum(32, members=[f"0x{0xDA00 + i:040x}" for i in range(32)], quorums=(1, 1))


@pytest.fixture(scope="module")
def quorum32x4(create_quorum: Callable[..., Quorum]) -> Quorum:
    """32 genesis signers of equal stake in 4 quorums of 8 (quorum 0: slots 0, 7, 8, 15, 16, 23, 24, 31)."""
    return create_quorum(32, members=[f"0x{0xDD00 + i:040x}" for i in range(32)], quorums=(4, 8))


#: A one-blob payload's length.
LENGTH = 1000


def upload(quorum: Quorum, sender: Any, *roots: bytes, length: int = LENGTH) -> Any:
    fee = quorum.entrance.feeFor(length)
    return quorum.entrance.submitOriginalData(list(roots), [length] * len(roots), sender=sender, value=fee * len(roots))


def python_contracts(chain: Any, quorum: Quorum) -> DAContracts:
    """zerog.da.contracts over the contracts of `quorum`, as the client and the signer daemons use them."""
    records = {
        name: {"address": c.address, "abi": [i.model_dump(mode="json", by_alias=True) for i in c.contract_type.abi]}
        for name, c in (("DASigners", quorum.registry), ("DAEntrance", quorum.entrance))
    }
    return DAContracts(chain.provider.web3, Deployment(Path("ape"), {"chainId": chain_id(chain), "contracts": records}))


def status(quorum: Quorum, data_root: bytes) -> tuple[str, int, bool, int]:
    s = quorum.entrance.dataRootStatus(data_root)
    return (s.uploader, s.uploadEpoch, s.verified, s.verifiedEpoch)


# ---------------------------------------------------------------- constructor


def test_constructor__binds_the_registry_without_admin(quorum: Quorum) -> None:
    entrance = quorum.entrance
    assert entrance.signerRegistry() == quorum.registry.address
    assert (entrance.pricePerBlob(), entrance.retentionEpochs(), entrance.epoch()) == (BLOB_FEE, RETENTION, 0)
    assert entrance.graceBlocks() == GRACE_BLOCKS
    abi_names = {item.name for item in entrance.contract_type.abi if hasattr(item, "name")}
    assert not abi_names & {"hasRole", "setBlobFee", "withdrawFees", "DEFAULT_ADMIN_ROLE"}


def test_constructor__grace_window_of_an_epoch_or_more_reverts(project: Any, admin: Any, quorum: Quorum) -> None:
    with ape.reverts(project.DAEntrance.DAEntranceInvalidGraceBlocks, graceBlocks=EPOCH_BLOCKS,
                     epochBlocks=EPOCH_BLOCKS):  # fmt: skip
        project.DAEntrance.deploy(quorum.registry.address, BLOB_FEE, EPOCH_BLOCKS, RETENTION, sender=admin)
    with ape.reverts(project.DAEntrance.DAEntranceInvalidRetention):
        project.DAEntrance.deploy(quorum.registry.address, BLOB_FEE, GRACE_BLOCKS, 0, sender=admin)


def test_constructor__zero_address_reverts(project: Any, chain: Any, admin: Any) -> None:
    contract_type = project.DAEntrance.contract_type
    data = (
        contract_type.deployment_bytecode.bytecode
        + encode(["address", "uint256", "uint256", "uint256"], [ZERO_ADDRESS, BLOB_FEE, 0, RETENTION]).hex()
    )
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": admin.address, "data": data})
    abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
    assert ErrorDecoder.from_abis([abi]).decode(info.value.data) == "DAEntranceZeroAddress()"


# ---------------------------------------------------------------- submitOriginalData


def test_submit_original_data__charges_per_blob_and_announces_each_root(quorum: Quorum, uploader: Any) -> None:
    entrance = quorum.entrance
    lengths = [1, PAYLOAD_BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB + 1]
    assert [entrance.feeFor(n) for n in lengths] == [BLOB_FEE, BLOB_FEE, 2 * BLOB_FEE]
    tx = entrance.submitOriginalData([root(n) for n in (1, 2, 3)], lengths, sender=uploader, value=4 * BLOB_FEE)
    events = entrance.DataUpload.from_receipt(tx)
    assert [e.event_arguments for e in events] == [
        {"sender": uploader.address, "dataRoot": root(n), "epoch": 0, "quorumId": 0, "length": length,
         "blobFee": fee, "expiryEpoch": RETENTION}
        for n, length, fee in zip((1, 2, 3), lengths, (BLOB_FEE, BLOB_FEE, 2 * BLOB_FEE), strict=True)
    ]  # fmt: skip
    assert entrance.balance == 4 * BLOB_FEE and entrance.uploadCount() == 3
    assert status(quorum, root(3)) == (uploader.address, 0, False, 0)
    s = entrance.dataRootStatus(root(3))
    assert (s.quorumId, s.blobs, s.fee, s.expiryEpoch, s.expired) == (0, 2, 2 * BLOB_FEE, RETENTION, False)
    assert status(quorum, root(4)) == (ZERO_ADDRESS, 0, False, 0)


def test_submit_original_data__reverts(quorum: Quorum, uploader: Any) -> None:
    entrance = quorum.entrance
    with ape.reverts(entrance.DAEntranceNoDataRoots):
        entrance.submitOriginalData([], [], sender=uploader)
    with ape.reverts(entrance.DAEntranceLengthsMismatch, roots=1, lengths=2):
        entrance.submitOriginalData([root(1)], [1, 2], sender=uploader)
    max_length = 65535 * PAYLOAD_BYTES_PER_BLOB
    for length in (0, max_length + 1):
        with ape.reverts(entrance.DAEntranceInvalidLength, length=length, maxLength=max_length):
            entrance.submitOriginalData([root(1)], [length], sender=uploader)
    for paid in (BLOB_FEE - 1, BLOB_FEE + 1, 0):
        with ape.reverts(entrance.DAEntranceWrongFee, sent=paid, required=BLOB_FEE):
            entrance.submitOriginalData([root(1)], [LENGTH], sender=uploader, value=paid)
    with ape.reverts(entrance.DAEntranceZeroDataRoot):
        upload(quorum, uploader, bytes(32))
    upload(quorum, uploader, root(1))
    with ape.reverts(entrance.DAEntranceDataRootExists, dataRoot=root(1), expiryEpoch=RETENTION):
        upload(quorum, uploader, root(1))
    with ape.reverts(entrance.DAEntranceDataRootExists, dataRoot=root(2), expiryEpoch=RETENTION):
        upload(quorum, uploader, root(2), root(2))
    assert entrance.balance == BLOB_FEE


# ---------------------------------------------------------------- submitVerifiedCommitRoots


def test_submit_verified__all_signers_verify_and_emit(quorum: Quorum, uploader: Any, stranger: Any, chain: Any) -> None:
    upload(quorum, uploader, root(1))
    tx = quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=stranger)
    [event] = quorum.entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert event.event_arguments == {
        "dataRoot": root(1), "epoch": 0, "quorumId": 0, "signerBitmap": 0b1111,
        "signedStake": 4 * STAKE, "totalStake": 4 * STAKE, "fee": BLOB_FEE,
    }  # fmt: skip
    assert status(quorum, root(1)) == (uploader.address, 0, True, 0)


def test_submit_verified__two_thirds_of_stake_is_enough(quorum: Quorum, uploader: Any, chain: Any) -> None:
    upload(quorum, uploader, root(1), root(2))
    tx = quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 2, 3])], sender=uploader)
    [event] = quorum.entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert (event.signerBitmap, event.signedStake) == (0b1101, 3 * STAKE)
    with ape.reverts(quorum.entrance.DAEntranceInsufficientStake, signedStake=2 * STAKE, totalStake=4 * STAKE):
        quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(2), [1, 3])], sender=uploader)


def test_submit_verified__threshold_is_stake_weighted_and_inclusive(
    create_quorum: Callable[..., Quorum], signer_accounts: list[Any], uploader: Any, chain: Any
) -> None:
    weighted = create_quorum(4, stakes=[STAKE, STAKE, STAKE, 3 * STAKE], members=signer_accounts[:4])
    upload(weighted, uploader, root(1))
    # Three of four signers, but only half of the stake.
    with ape.reverts(weighted.entrance.DAEntranceInsufficientStake, signedStake=3 * STAKE, totalStake=6 * STAKE):
        weighted.entrance.submitVerifiedCommitRoots([weighted.attest(chain, root(1), [0, 1, 2])], sender=uploader)
    # Two signers holding exactly two thirds.
    tx = weighted.entrance.submitVerifiedCommitRoots([weighted.attest(chain, root(1), [0, 3])], sender=uploader)
    assert weighted.entrance.ErasureCommitmentVerified.from_receipt(tx)[0].signedStake == 4 * STAKE


def test_submit_verified__batch_of_roots(quorum: Quorum, uploader: Any, chain: Any) -> None:
    upload(quorum, uploader, root(1), root(2))
    batch = [quorum.attest(chain, root(1), [0, 1, 2, 3]), quorum.attest(chain, root(2), [1, 2, 3])]
    tx = quorum.entrance.submitVerifiedCommitRoots(batch, sender=uploader)
    assert [e.dataRoot for e in quorum.entrance.ErasureCommitmentVerified.from_receipt(tx)] == [root(1), root(2)]


def test_submit_verified__bookkeeping_reverts(quorum: Quorum, uploader: Any, chain: Any) -> None:
    entrance = quorum.entrance
    with ape.reverts(entrance.DAEntranceNoSubmissions):
        entrance.submitVerifiedCommitRoots([], sender=uploader)
    with ape.reverts(entrance.DAEntranceUnknownDataRoot, dataRoot=root(9)):
        entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(9), [0, 1, 2, 3])], sender=uploader)
    upload(quorum, uploader, root(1))
    with ape.reverts(entrance.DAEntranceWrongQuorum, dataRoot=root(1), quorumId=1, expected=0):
        entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3], quorum_id=1)], sender=uploader)
    entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=uploader)


def test_submit_verified__front_run_entry_is_skipped_and_the_rest_of_the_batch_verifies(
    quorum: Quorum, uploader: Any, stranger: Any, chain: Any
) -> None:
    """Anyone can copy one attestation of a pending batch and submit it first: that must not void the batch."""
    entrance = quorum.entrance
    upload(quorum, uploader, root(1), root(2), root(3))
    batch = [quorum.attest(chain, root(n), [0, 1, 2, 3]) for n in (1, 2, 3)]
    entrance.submitVerifiedCommitRoots([batch[1]], sender=stranger)
    tx = entrance.submitVerifiedCommitRoots(batch, sender=uploader)
    assert [e.dataRoot for e in entrance.ErasureCommitmentVerified.from_receipt(tx)] == [root(1), root(3)]
    assert all(entrance.dataRootStatus(root(n)).verified for n in (1, 2, 3))
    # All skipped: nothing happens, nothing is emitted.
    tx = entrance.submitVerifiedCommitRoots(batch[1:], sender=uploader)
    assert not entrance.ErasureCommitmentVerified.from_receipt(tx)


def test_submit_verified__wrong_bitmaps_revert(quorum: Quorum, uploader: Any, chain: Any) -> None:
    entrance = quorum.entrance
    upload(quorum, uploader, root(1))
    for bitmap in (0, 0b11111, 1 << 31, 1 << 255):
        with ape.reverts(entrance.DAEntranceInvalidSignerBitmap, bitmap=bitmap, members=0b1111):
            entrance.submitVerifiedCommitRoots(
                [quorum.attest(chain, root(1), [0, 1, 2, 3], bitmap=bitmap)], sender=uploader
            )
    # A bitmap naming a signer that did not sign: the stake adds up but the signature does not.
    with ape.reverts(entrance.DAEntranceInvalidSignature, dataRoot=root(1)):
        entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2], bitmap=0b1111)], sender=uploader)


def test_submit_verified__forged_signatures_revert(quorum: Quorum, uploader: Any, chain: Any) -> None:
    entrance = quorum.entrance
    upload(quorum, uploader, root(1))
    digest = quorum.digest(chain, root(1), 0)
    everyone = [0, 1, 2, 3]
    full_sig = aggregate_g1(quorum.keys[k].sign(digest) for k in everyone)
    forgeries = {
        "random point": dict(signature=G1_GENERATOR * 987654321),
        "short aggregate": dict(signature=aggregate_g1(quorum.keys[k].sign(digest) for k in everyone[:3])),
        "another root's signature": dict(
            signature=aggregate_g1(quorum.keys[k].sign(quorum.digest(chain, root(2), 0)) for k in everyone)
        ),
        "apk2 of other keys": dict(apk2=aggregate_g2(quorum.keys[k].pk2 for k in (0, 1, 2)) + quorum.keys[0].pk2),
        "apk2 not tied to the G1 key sum": dict(signature=quorum.keys[0].sign(digest) * 4, apk2=quorum.keys[0].pk2 * 4),
        "signature off the curve": dict(signature=G1(1, 3)),
        "infinite signature and key": dict(signature=G1(0, 0), apk2=G2((0, 0), (0, 0))),
        "apk2 off the twist": dict(apk2=G2((1, 2), (3, 4))),
        "message point instead of signature": dict(signature=hash_to_g1(digest)),
    }
    for name, forged in forgeries.items():
        submission = quorum.attest(chain, root(1), everyone, **forged)
        with ape.reverts(entrance.DAEntranceInvalidSignature, dataRoot=root(1)):
            entrance.submitVerifiedCommitRoots([submission], sender=uploader)
        assert not entrance.dataRootStatus(root(1)).verified, name
    # The genuine one still goes through afterwards.
    entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), everyone, signature=full_sig)], sender=uploader)


def test_submit_verified__signature_of_an_older_or_future_epoch_reverts(
    quorum: Quorum, uploader: Any, chain: Any
) -> None:
    entrance = quorum.entrance
    upload(quorum, uploader, root(1))
    stale = quorum.attest(chain, root(1), [0, 1, 2, 3])  # epoch 0
    advance_to_epoch(chain, quorum.registry, 2)
    with ape.reverts(entrance.DAEntranceEpochMismatch, signedEpoch=0, currentEpoch=2):
        entrance.submitVerifiedCommitRoots([stale], sender=uploader)
    with ape.reverts(entrance.DAEntranceEpochMismatch, signedEpoch=3, currentEpoch=2):
        entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3], epoch=3)], sender=uploader)
    # Epoch 0's signatures relabelled as epoch 2's: the digest differs.
    relabelled = quorum.attest(chain, root(1), [0, 1, 2, 3], epoch=2, signed_epoch=0)
    with ape.reverts(entrance.DAEntranceInvalidSignature, dataRoot=root(1)):
        entrance.submitVerifiedCommitRoots([relabelled], sender=uploader)
    tx = entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=uploader)
    assert entrance.ErasureCommitmentVerified.from_receipt(tx)[0].epoch == 2
    assert status(quorum, root(1)) == (uploader.address, 0, True, 2)


def test_submit_verified__previous_epoch_within_the_grace_window_against_its_own_signer_set(
    quorum: Quorum, uploader: Any, chain: Any, accounts: Any, signer_accounts: list[Any]
) -> None:
    """At an epoch boundary, attestations signed for the epoch that just ended still count for GRACE_BLOCKS blocks,
    checked against that epoch's members and stakes even after the set changed again."""
    registry, entrance = quorum.registry, quorum.entrance
    upload(quorum, uploader, root(1), root(2))
    registry.requestLeave(sender=signer_accounts[3])  # a member of epoch 0 only
    signed = [quorum.attest(chain, root(n), [0, 1, 2, 3]) for n in (1, 2)]
    advance_to_epoch(chain, registry, 1)
    # The set changes in epoch 1, and the newcomer must not take slot 3, which epoch 0's attestations still read.
    newcomer = accounts[7]
    registry.register(keys(7).pk1.to_contract(), keys(7).pk2.to_contract(), pop(chain, registry, newcomer, keys(7)),
                      "http://new.test", sender=newcomer, value=STAKE)  # fmt: skip
    assert registry.signerOf(newcomer.address).slot == 4

    tx = entrance.submitVerifiedCommitRoots([signed[0]], sender=uploader)
    [event] = entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert (event.epoch, event.signerBitmap, event.signedStake, event.totalStake) == (0, 0b1111, 4 * STAKE, 4 * STAKE)
    assert status(quorum, root(1)) == (uploader.address, 0, True, 0)

    deadline = registry.genesisBlock() + registry.epochBlocks() + GRACE_BLOCKS
    chain.mine(deadline - chain.blocks.head.number)
    with ape.reverts(entrance.DAEntranceAttestationExpired, signedEpoch=0, deadlineBlock=deadline):
        entrance.submitVerifiedCommitRoots([signed[1]], sender=uploader)


def test_attesting_signers__python_view_follows_the_grace_window(
    quorum: Quorum, chain: Any, signer_accounts: list[Any]
) -> None:
    """What a signer daemon asks before it signs: whose set attests `epoch` if the signature lands in the next
    block."""
    contracts = python_contracts(chain, quorum)
    quorum.registry.requestLeave(sender=signer_accounts[3])
    assert [s.slot for s in contracts.attesting_signers(0).signers] == [0, 1, 2, 3]
    advance_to_epoch(chain, quorum.registry, 1)
    previous = contracts.attesting_signers(0)
    assert (previous.epoch, [s.slot for s in previous.signers]) == (0, [0, 1, 2, 3])
    assert [s.slot for s in contracts.attesting_signers(1).signers] == [0, 1, 2]
    deadline = quorum.registry.genesisBlock() + quorum.registry.epochBlocks() + GRACE_BLOCKS
    chain.mine(deadline - 1 - chain.blocks.head.number)  # the next block is the first one too late
    for epoch in (0, 2):
        with pytest.raises(EpochNotAttestableError, match=f"this is epoch 1, not {epoch}"):
            contracts.attesting_signers(epoch)


def test_submit_verified__signer_set_of_the_current_epoch(
    quorum: Quorum, uploader: Any, chain: Any, signer_accounts: list[Any]
) -> None:
    """A signer that left is no longer part of the quorum from the next epoch on: its bit becomes invalid and the
    others' two thirds are computed over the new total."""
    quorum.registry.requestLeave(sender=signer_accounts[3])
    upload(quorum, uploader, root(1))
    advance_to_epoch(chain, quorum.registry, 1)
    with ape.reverts(quorum.entrance.DAEntranceInvalidSignerBitmap, bitmap=0b1111, members=0b0111):
        quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=uploader)
    tx = quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1])], sender=uploader)
    [event] = quorum.entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert (event.signedStake, event.totalStake) == (2 * STAKE, 3 * STAKE)


# ---------------------------------------------------------------- gas


#: Gas bounds of one attestation with its fee credited to every signer (O(signers): one earnings write each),
#: once the signers have earnings already (a signer's first credit writes a fresh slot: +17k each). Since sampling
#: challenges an attestation also records its signer bitmap (one fresh slot: +22k) and reads its quorum's column
#: layout (written by the first attestation of the epoch and quorum).
GAS_BOUNDS = {(4, 1): GAS_TARGET, (32, 4): 640_000, (32, 1): 1_000_000}


@pytest.mark.parametrize(
    ("size", "quorums", "signers"), [(4, 1, 4), (4, 1, 3), (32, 1, 32), (32, 1, 22), (32, 4, 8), (32, 4, 6)]
)
def test_submit_verified__gas_bounded(
    quorum: Quorum, quorum32: Quorum, quorum32x4: Quorum, uploader: Any, chain: Any, size: int, quorums: int,
    signers: int,
) -> None:  # fmt: skip
    """All signers of the quorum, and the fewest that still hold two thirds (the most keys to subtract), the fee
    credited to each: in a quorum of 4, of 8 (32 signers in 4 quorums) and of 32 (32 signers in one quorum)."""
    target = quorum if size == 4 else quorum32 if quorums == 1 else quorum32x4
    gas = []
    for n in range(2):  # the first credits to fresh earnings slots, the second is the steady state
        data_root = root(1000 + size * 100 + quorums * 10 + signers + 10_000 * n)
        upload(target, uploader, data_root)
        quorum_id = target.entrance.dataRootStatus(data_root).quorumId
        members = [slot for slot in range(size) if target.registry.quorumMembers(0)[quorum_id] >> slot & 1]
        submission = target.attest(chain, data_root, members[:signers], quorum_id=quorum_id)
        gas.append(target.entrance.submitVerifiedCommitRoots([submission], sender=uploader).gas_used)
        assert target.entrance.dataRootStatus(data_root).verified
    assert gas[1] < GAS_BOUNDS[size, quorums], f"{size} signers in {quorums} quorums, {signers} signing: {gas}"


# ---------------------------------------------------------------- quorums


@pytest.fixture
def two_quorums(create_quorum: Callable[..., Quorum], accounts: Any) -> Quorum:
    """Eight signers, quorums of at least 4: two quorums. Stakes 8..1 by slot: quorum 0 = slots 0, 3, 4, 7 (stake
    8+5+4+1 = 18), quorum 1 = slots 1, 2, 5, 6 (7+6+3+2 = 18)."""
    members = [accounts[3 + i] for i in range(6)] + [f"0x{0xDC00 + i:040x}" for i in range(2)]
    return create_quorum(8, stakes=[(8 - i) * STAKE for i in range(8)], members=members)


QUORUM_SLOTS = ([0, 3, 4, 7], [1, 2, 5, 6])


def test_quorums__uploads_round_robin_and_each_quorum_attests_its_own(
    two_quorums: Quorum, uploader: Any, chain: Any
) -> None:
    q, entrance = two_quorums, two_quorums.entrance
    assert [list(q.registry.quorumMembers(0))] == [[sum(1 << s for s in slots) for slots in QUORUM_SLOTS]]
    tx = upload(q, uploader, root(1), root(2), root(3))
    assert [e.quorumId for e in entrance.DataUpload.from_receipt(tx)] == [0, 1, 0]
    assert [entrance.dataRootStatus(root(n)).quorumId for n in (1, 2, 3)] == [0, 1, 0]
    # Quorum 1's signers cannot attest a blob of quorum 0, even with all their stake.
    with ape.reverts(entrance.DAEntranceWrongQuorum, dataRoot=root(1), quorumId=1, expected=0):
        entrance.submitVerifiedCommitRoots([q.attest(chain, root(1), QUORUM_SLOTS[1], quorum_id=1)], sender=uploader)
    # Signers of another quorum in the bitmap: invalid for this quorum.
    with ape.reverts(entrance.DAEntranceInvalidSignerBitmap, bitmap=0b11, members=0b10011001):
        entrance.submitVerifiedCommitRoots([q.attest(chain, root(1), [0, 1])], sender=uploader)
    tx = entrance.submitVerifiedCommitRoots(
        [q.attest(chain, root(1), QUORUM_SLOTS[0]), q.attest(chain, root(2), QUORUM_SLOTS[1], quorum_id=1)],
        sender=uploader,
    )
    events = entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert [(e.quorumId, e.signedStake, e.totalStake) for e in events] == [(q, 18 * STAKE, 18 * STAKE) for q in (0, 1)]


def test_quorums__two_thirds_of_the_quorum_stake_not_of_the_epoch(
    two_quorums: Quorum, uploader: Any, chain: Any
) -> None:
    q, entrance = two_quorums, two_quorums.entrance
    upload(q, uploader, root(1), root(2))
    # Slots 0 and 3 hold 13 of quorum 0's 18 (>= 2/3) but only 13 of the epoch's 36.
    tx = entrance.submitVerifiedCommitRoots([q.attest(chain, root(1), [0, 3])], sender=uploader)
    [event] = entrance.ErasureCommitmentVerified.from_receipt(tx)
    assert (event.signedStake, event.totalStake) == (13 * STAKE, 18 * STAKE)
    # Slots 1 and 5 hold 10 of quorum 1's 18: below two thirds.
    with ape.reverts(entrance.DAEntranceInsufficientStake, signedStake=10 * STAKE, totalStake=18 * STAKE):
        entrance.submitVerifiedCommitRoots([q.attest(chain, root(2), [1, 5], quorum_id=1)], sender=uploader)


# ---------------------------------------------------------------- fees


def test_fees__credited_to_the_attesting_signers_by_stake_and_withdrawn(
    create_quorum: Callable[..., Quorum], signer_accounts: list[Any], uploader: Any, chain: Any
) -> None:
    weighted = create_quorum(4, stakes=[STAKE, STAKE, STAKE, 3 * STAKE], members=signer_accounts[:4])
    entrance = weighted.entrance
    fee = 3 * BLOB_FEE  # three blobs
    upload(weighted, uploader, root(1), length=3 * PAYLOAD_BYTES_PER_BLOB)
    tx = entrance.submitVerifiedCommitRoots([weighted.attest(chain, root(1), [0, 2, 3])], sender=uploader)
    assert entrance.ErasureCommitmentVerified.from_receipt(tx)[0].fee == fee
    shares = [entrance.earnings(a) for a in signer_accounts[:4]]
    # Stakes 1:1:3 of the signers: slot 1 did not sign and gets nothing; the dust goes to slot 0.
    assert shares[1] == 0 and shares[2] == fee // 5 and shares[3] == fee * 3 // 5
    assert sum(shares) == fee
    account = signer_accounts[3]
    before = account.balance
    tx = entrance.withdrawEarnings(sender=account)
    assert entrance.EarningsWithdrawn.from_receipt(tx)[0].event_arguments == {
        "signer": account.address,
        "amount": shares[3],
    }
    assert account.balance == before + shares[3] - tx.total_fees_paid
    assert entrance.earnings(account) == 0
    with ape.reverts(entrance.DAEntranceNothingToWithdraw, account=account.address):
        entrance.withdrawEarnings(sender=account)
    with ape.reverts(entrance.DAEntranceNothingToWithdraw, account=signer_accounts[1].address):
        entrance.withdrawEarnings(sender=signer_accounts[1])
    assert entrance.balance == fee - shares[3]


def test_fees__free_blobs_credit_nothing(create_quorum: Callable[..., Quorum], signer_accounts: list[Any],
                                         uploader: Any, chain: Any) -> None:  # fmt: skip
    free = create_quorum(4, blob_fee=0, members=signer_accounts[:4])
    free.entrance.submitOriginalData([root(1)], [LENGTH], sender=uploader)
    tx = free.entrance.submitVerifiedCommitRoots([free.attest(chain, root(1), [0, 1, 2, 3])], sender=uploader)
    assert free.entrance.ErasureCommitmentVerified.from_receipt(tx)[0].fee == 0
    assert all(free.entrance.earnings(a) == 0 for a in signer_accounts[:4])


# ---------------------------------------------------------------- retention


def test_retention__expired_blobs_cannot_be_attested_and_can_be_paid_again(
    quorum: Quorum, uploader: Any, stranger: Any, chain: Any
) -> None:
    entrance = quorum.entrance
    upload(quorum, uploader, root(1))
    advance_to_epoch(chain, quorum.registry, RETENTION - 1)
    assert not entrance.dataRootStatus(root(1)).expired  # the last epoch it is kept
    with ape.reverts(entrance.DAEntranceDataRootExists, dataRoot=root(1), expiryEpoch=RETENTION):
        upload(quorum, uploader, root(1))
    advance_to_epoch(chain, quorum.registry, RETENTION)
    s = entrance.dataRootStatus(root(1))
    assert (s.expiryEpoch, s.expired, s.verified) == (RETENTION, True, False)
    with ape.reverts(entrance.DAEntranceDataExpired, dataRoot=root(1), expiryEpoch=RETENTION):
        entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=uploader)
    # Paid again: kept for another window from now.
    tx = upload(quorum, stranger, root(1))
    assert entrance.DataUpload.from_receipt(tx)[0].expiryEpoch == 2 * RETENTION
    entrance.submitVerifiedCommitRoots([quorum.attest(chain, root(1), [0, 1, 2, 3])], sender=stranger)
    s = entrance.dataRootStatus(root(1))
    assert (s.uploader, s.uploadEpoch, s.verified, s.expired) == (stranger.address, RETENTION, True, False)
