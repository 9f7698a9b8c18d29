"""Contract tests of DAChallenges (`ape test`, Prague: the cell check runs on the EIP-2537 precompiles): a random cell
of the challenged signer's columns, a correct answer pays the signer, wrong answers and late answers revert, an
unanswered challenge slashes the signer's stake to the challenger, and every refused challenge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_utils import keccak

from tests.da.conftest import (
    RETENTION,
    STAKE,
    ChallengeParameters,
    Quorum,
    advance_to_epoch,
)
from zerog.da import encoding
from zerog.da.contracts import assign_columns
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB

BOND = 10**16
RESPONSE_BLOCKS = 5
SLASH_BPS = 1000
#: Two blobs: the commitment's merkle path has one level.
LENGTH = PAYLOAD_BYTES_PER_BLOB + 1000
#: What respond may cost (measured 740k with 2 blobs: the cell check ~620k, 2 KiB of calldata, the merkle path).
RESPOND_GAS_BUDGET = 900_000


@pytest.fixture(scope="module")
def payload() -> encoding.Encoded:
    """Two blobs encoded (ckzg, ~0.6 s)."""
    return encoding.encode(bytes(range(256)) * (LENGTH // 256) + bytes(LENGTH % 256), parallel=False)


@pytest.fixture(scope="module")
def verifier(project: Any, admin: Any) -> Any:
    return project.KZGCellVerifier.deploy(sender=admin)


@pytest.fixture
def quorum(create_quorum: Callable[..., Quorum], signer_accounts: list[Any], verifier: Any) -> Quorum:
    params = ChallengeParameters(verifier.address, BOND, RESPONSE_BLOCKS, SLASH_BPS)
    return create_quorum(4, members=signer_accounts[:4], challenges=params)


def attested(chain: Any, quorum: Quorum, uploader: Any, root: bytes, slots: list[int], length: int = LENGTH) -> None:
    quorum.entrance.submitOriginalData([root], [length], sender=uploader, value=quorum.entrance.feeFor(length))
    quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root, slots)], sender=uploader)


def open_challenge(quorum: Quorum, challenger: Any, root: bytes, signer: Any) -> tuple[int, Any]:
    tx = quorum.challenges.challenge(root, signer.address, sender=challenger, value=BOND)
    event = quorum.challenges.ChallengeCreated.from_receipt(tx)[0]
    return int(event.id), quorum.challenges.challengeOf(event.id)


def answer(payload: encoding.Encoded, c: Any, **override: Any) -> tuple:
    blob, column = int(c.blobIndex), int(c.column)
    fields = {
        "cell": payload.cell(blob, column),
        "proof": payload.proof(blob, column),
        "commitment": payload.commitments[blob],
        "length": payload.length,
        "merklePath": encoding.commitment_path(payload.commitments, blob),
    }
    fields.update(override)
    return tuple(fields.values())


def test_attestation_of__records_signers_and_column_layout(
    chain: Any, quorum: Quorum, uploader: Any, payload: Any
) -> None:
    attested(chain, quorum, uploader, payload.root, [0, 1, 3])
    a = quorum.entrance.attestationOf(payload.root)
    assert (a.verified, a.epoch, a.quorumId, a.signerBitmap, a.quorumMembers) == (True, 0, 0, 0b1011, 0b1111)
    starts = [(a.columnStarts >> (8 * i)) & 0xFF for i in range(4)]
    assert starts == [r.start for r in assign_columns(quorum.stakes)] == [0, 32, 64, 96]
    assert (a.blobs, a.expiryEpoch) == (2, RETENTION)
    assert quorum.entrance.attestationOf(keccak(text="nothing")).verified is False


def test_challenge__correct_answer_pays_the_signer(
    chain: Any, quorum: Quorum, uploader: Any, stranger: Any, signer_accounts: list[Any], payload: Any
) -> None:
    attested(chain, quorum, uploader, payload.root, [0, 1, 2, 3])
    signer = signer_accounts[2]
    tx = quorum.challenges.challenge(payload.root, signer.address, sender=stranger, value=BOND)
    event = quorum.challenges.ChallengeCreated.from_receipt(tx)[0]
    c = quorum.challenges.challengeOf(event.id)
    assert (c.status, c.challenger, c.signer, c.dataRoot) == (1, stranger.address, signer.address, payload.root)
    assert 0 <= c.blobIndex < 2 and 64 <= c.column < 96  # slot 2: columns 64..95
    assert c.deadline == tx.block_number + RESPONSE_BLOCKS == event.deadline
    assert quorum.challenges.openChallenge(signer.address) == (True, event.id)

    tx = quorum.challenges.respond(event.id, answer(payload, c), sender=signer)
    assert tx.gas_used < RESPOND_GAS_BUDGET
    assert quorum.challenges.ChallengeAnswered.from_receipt(tx)[0].bond == BOND
    assert quorum.challenges.challengeOf(event.id).status == 2
    assert quorum.challenges.credits(signer.address) == BOND
    assert quorum.challenges.openChallenge(signer.address)[0] is False
    before = signer.balance
    tx = quorum.challenges.withdraw(sender=signer)
    assert signer.balance == before + BOND - tx.total_fees_paid
    with ape.reverts(quorum.challenges.DAChallengesNotOpen):
        quorum.challenges.respond(event.id, answer(payload, c), sender=signer)


def test_respond__wrong_answers_and_late_answers_revert(
    chain: Any, quorum: Quorum, uploader: Any, stranger: Any, signer_accounts: list[Any], payload: Any
) -> None:
    attested(chain, quorum, uploader, payload.root, [0, 1, 2, 3])
    signer = signer_accounts[0]
    cid, c = open_challenge(quorum, stranger, payload.root, signer)
    blob, column = int(c.blobIndex), int(c.column)
    other = 1 - blob
    challenges = quorum.challenges
    wrong_cell = bytearray(payload.cell(blob, column))
    wrong_cell[63] ^= 1
    with ape.reverts(challenges.DAChallengesInvalidCell, id=cid):
        challenges.respond(cid, answer(payload, c, cell=bytes(wrong_cell)), sender=signer)
    with ape.reverts(challenges.DAChallengesInvalidCell, id=cid):
        challenges.respond(cid, answer(payload, c, proof=payload.proof(blob, (column + 1) % 128)), sender=signer)
    # Another blob's commitment on this blob's path, the right commitment on a wrong path, a wrong length.
    with ape.reverts(challenges.DAChallengesInvalidInclusion, id=cid):
        challenges.respond(cid, answer(payload, c, commitment=payload.commitments[other]), sender=signer)
    path = encoding.commitment_path(payload.commitments, other)
    with ape.reverts(challenges.DAChallengesInvalidInclusion, id=cid):
        challenges.respond(cid, answer(payload, c, merklePath=path), sender=signer)
    with ape.reverts(challenges.DAChallengesInvalidInclusion, id=cid):
        challenges.respond(cid, answer(payload, c, length=LENGTH + 1), sender=signer)
    chain.mine(RESPONSE_BLOCKS)
    with ape.reverts(challenges.DAChallengesDeadlinePassed, id=cid, deadline=c.deadline):
        challenges.respond(cid, answer(payload, c), sender=signer)


def test_claim__unanswered_challenge_slashes_the_signer(
    chain: Any, quorum: Quorum, uploader: Any, stranger: Any, signer_accounts: list[Any], payload: Any
) -> None:
    attested(chain, quorum, uploader, payload.root, [0, 1, 2, 3])
    signer = signer_accounts[1]
    cid, c = open_challenge(quorum, stranger, payload.root, signer)
    challenges = quorum.challenges
    with ape.reverts(challenges.DAChallengesDeadlineNotPassed, id=cid, deadline=c.deadline):
        challenges.claim(cid, sender=stranger)
    with ape.reverts(challenges.DAChallengesInFlight, signer=signer.address, id=cid):
        challenges.challenge(payload.root, signer.address, sender=uploader, value=BOND)
    chain.mine(RESPONSE_BLOCKS)
    assert challenges.openChallenge(signer.address)[0] is False
    tx = challenges.claim(cid, sender=uploader)  # anyone closes it; the challenger is credited
    slashed = STAKE * SLASH_BPS // 10_000
    event = challenges.ChallengeClaimed.from_receipt(tx)[0]
    assert (event.challenger, event.signer, event.bond, event.slashed) == (
        stranger.address,
        signer.address,
        BOND,
        slashed,
    )
    slash = quorum.registry.SignerSlashed.from_receipt(tx)[0]
    assert (slash.account, slash.amount, slash.remainingStake) == (signer.address, slashed, STAKE - slashed)
    info = quorum.registry.signerOf(signer.address)
    assert (info.stake, info.nextStake) == (STAKE, STAKE - slashed)  # the epoch in progress keeps its weights
    assert challenges.credits(stranger.address) == BOND + slashed
    assert challenges.credits(uploader.address) == 0
    with ape.reverts(challenges.DAChallengesNotOpen):
        challenges.claim(cid, sender=stranger)
    before = stranger.balance
    tx = challenges.withdraw(sender=stranger)
    assert stranger.balance == before + BOND + slashed - tx.total_fees_paid
    with ape.reverts(challenges.DAChallengesNothingToWithdraw, account=stranger.address):
        challenges.withdraw(sender=stranger)
    # A new challenge once the old one is closed.
    open_challenge(quorum, stranger, payload.root, signer)


def test_challenge__refused(
    chain: Any, quorum: Quorum, uploader: Any, stranger: Any, signer_accounts: list[Any], payload: Any
) -> None:
    challenges = quorum.challenges
    root = payload.root
    quorum.entrance.submitOriginalData([root], [LENGTH], sender=uploader, value=quorum.entrance.feeFor(LENGTH))
    with ape.reverts(challenges.DAChallengesNotAttested, dataRoot=root):
        challenges.challenge(root, signer_accounts[0].address, sender=stranger, value=BOND)
    quorum.entrance.submitVerifiedCommitRoots([quorum.attest(chain, root, [0, 1, 2])], sender=uploader)
    with ape.reverts(challenges.DAChallengesWrongBond, sent=BOND - 1, bond=BOND):
        challenges.challenge(root, signer_accounts[0].address, sender=stranger, value=BOND - 1)
    for outsider in (signer_accounts[3], signer_accounts[5]):  # did not sign; never a signer
        with ape.reverts(challenges.DAChallengesNotAttestingSigner, dataRoot=root, signer=outsider.address):
            challenges.challenge(root, outsider.address, sender=stranger, value=BOND)
    with ape.reverts(quorum.registry.DASignersNotSlasher, caller=stranger.address):
        quorum.registry.slash(signer_accounts[0].address, SLASH_BPS, sender=stranger)
    # Expired, or expiring before the deadline: signers delete the cells once the expiry epoch starts.
    expiry_block = quorum.registry.genesisBlock() + RETENTION * quorum.registry.epochBlocks()
    advance_to_epoch(chain, quorum.registry, RETENTION - 1)
    chain.mine(expiry_block - RESPONSE_BLOCKS - chain.blocks.head.number - 1)
    with ape.reverts(challenges.DAChallengesDataExpired, dataRoot=root, expiryEpoch=RETENTION):
        challenges.challenge(root, signer_accounts[0].address, sender=stranger, value=BOND)
    advance_to_epoch(chain, quorum.registry, RETENTION)
    with ape.reverts(challenges.DAChallengesDataExpired, dataRoot=root, expiryEpoch=RETENTION):
        challenges.challenge(root, signer_accounts[0].address, sender=stranger, value=BOND)


def test_disabled__refuses_challenges(
    project: Any, chain: Any, admin: Any, quorum: Quorum, uploader: Any, payload: Any, signer_accounts: list[Any]
) -> None:
    """The deploy's choice on a chain without the EIP-2537 precompiles."""
    attested(chain, quorum, uploader, payload.root, [0, 1, 2, 3])
    off = project.DAChallenges.deploy(
        quorum.entrance.address, quorum.challenges.verifier(), BOND, RESPONSE_BLOCKS, SLASH_BPS, False, sender=admin
    )
    assert off.enabled() is False
    with ape.reverts(off.DAChallengesDisabled):
        off.challenge(payload.root, signer_accounts[0].address, sender=uploader, value=BOND)


def test_deploy_probe__precompiles_only_from_prague() -> None:
    """What the deploy records as DAChallenges' `enabled`: G1ADD answers on Prague, not on Cancun."""
    from ape import networks

    from scripts.deploy import bls12_precompiles_available

    assert bls12_precompiles_available()
    with networks.ethereum.local.use_provider("foundry", provider_settings={"evm_version": "cancun"}):
        assert not bls12_precompiles_available()
