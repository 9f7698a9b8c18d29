"""Sampling challenges against the signer daemons on a real (Prague) chain: an honest signer answers on its own,
also one that was down when it was challenged; a signer whose cells were deleted misses the deadline and is slashed
through `zg da challenge --claim`; `zg da challenges` lists them."""

from __future__ import annotations

import json
import random
import shutil
import time
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.da.daemons import DANetwork
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.da.challenges import Challenge, ChallengeContract, ChallengeStatus

#: A dev account no daemon uses (README "Connect a wallet").
CHALLENGER = 7
#: The `zg` on PATH is the shared checkout's: the CLI under test is this one.
CLI_ENV = {"PYTHONPATH": str(REPO_ROOT)}
KEY = {"ZG_PRIVATE_KEY": "0x" + bytes(dev_account(CHALLENGER).key).hex()}


@pytest.fixture(scope="module")
def stored_root(da_network: DANetwork) -> bytes:
    """A one-blob payload every signer stored and attested."""
    with da_network.client() as client:
        root = client.put(random.Random(7).randbytes(5000)).data_root
    return bytes.fromhex(root.removeprefix("0x"))


def challenges_of(da: DANetwork) -> ChallengeContract:
    w3 = connect(da.settings.rpc_url)
    return ChallengeContract(w3, Deployment.for_settings(da.settings, w3.eth.chain_id))


def wait_status(contract: ChallengeContract, challenge_id: int, timeout: float = 60) -> Challenge:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c = contract.get(challenge_id)
        if c.status != ChallengeStatus.OPEN:
            return c
        time.sleep(0.2)
    return contract.get(challenge_id)


def signer_address(da: DANetwork, index: int) -> str:
    return dev_account(3 + index).address


def test_honest_signer__answers_on_its_own(da: DANetwork, stored_root: bytes) -> None:
    contract = challenges_of(da)
    signer = signer_address(da, 0)
    before = contract.credits(signer)
    c = contract.challenge(dev_account(CHALLENGER), stored_root, signer)
    assert c.status == ChallengeStatus.OPEN and c.blob_index == 0
    answered = wait_status(contract, c.id)
    assert answered.status == ChallengeStatus.ANSWERED, da.signers[0].log_path.read_text()[-3000:]
    assert contract.credits(signer) == before + contract.bond()


def test_signer_down_when_challenged__answers_after_restart(da: DANetwork, stored_root: bytes) -> None:
    contract = challenges_of(da)
    da.signers[2].stop()
    c = contract.challenge(dev_account(CHALLENGER), stored_root, signer_address(da, 2))
    da.signers[2].spawn().wait_healthy()
    assert wait_status(contract, c.id).status == ChallengeStatus.ANSWERED


def test_random_challenger__challenges_an_attesting_signer_which_answers(da: DANetwork, stored_root: bytes) -> None:
    """The disperser's random mode (ZG_DA_CHALLENGE_INTERVAL), one round in process."""
    from services.da_disperser.challenger import RandomChallenger

    contract = challenges_of(da)
    challenger = RandomChallenger(da.contracts, contract, dev_account(9), interval=60)
    challenge_id = challenger.run_once()
    assert challenge_id is not None and challenge_id in challenger.open
    assert wait_status(contract, challenge_id).status == ChallengeStatus.ANSWERED


def test_signer_without_its_cells__slashed_after_the_deadline(da: DANetwork, stored_root: bytes) -> None:
    contract = challenges_of(da)
    signer = signer_address(da, 1)
    da.signers[1].stop()
    shutil.rmtree(da.settings.data_dir / "da-signer-1" / "cells" / stored_root.hex())
    da.signers[1].spawn().wait_healthy()  # its rows point at files that are gone: dropped at start
    w3 = connect(da.settings.rpc_url)
    stake_before = da.contracts.signer_of(signer).next_stake

    root = "0x" + stored_root.hex()
    challenged = da.zg("--json", "da", "challenge", root, signer, "--no-wait", **CLI_ENV, **KEY)
    assert challenged.returncode == 0, challenged.stdout + challenged.stderr
    c = json.loads(challenged.stdout)
    assert c["status"] == "open" and c["signer"] == signer
    early = da.zg("da", "challenge", "--claim", str(c["id"]), **CLI_ENV, **KEY)
    assert early.returncode == 1 and "DAChallengesDeadlineNotPassed" in early.stderr
    for _ in range(contract.response_blocks() + 1):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    claimed = da.zg("--json", "da", "challenge", "--claim", str(c["id"]), **CLI_ENV, **KEY)
    assert claimed.returncode == 0, claimed.stdout + claimed.stderr
    out = json.loads(claimed.stdout)
    slashed = stake_before * contract.slash_bps() // 10_000
    assert (out["status"], out["slashed"]) == ("claimed", slashed)
    assert da.contracts.signer_of(signer).next_stake == stake_before - slashed
    assert contract.credits(dev_account(CHALLENGER).address) >= contract.bond() + slashed

    listed = da.zg("--json", "da", "challenges", **CLI_ENV)
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)["challenges"]}
    assert rows[c["id"]]["status"] == "claimed"
    assert "claimed" in _signer_state(da, 1, c["id"])


def _signer_state(da: DANetwork, index: int, challenge_id: int) -> str:
    """What the signer's store recorded for the challenge (it saw it, found no cell, then the claim)."""
    import sqlite3

    db = sqlite3.connect(da.settings.data_dir / f"da-signer-{index}" / "signer.db")
    deadline = time.monotonic() + 20
    state: Any = None
    while time.monotonic() < deadline:
        state = db.execute("SELECT state FROM challenges WHERE id = ?", (challenge_id,)).fetchone()
        if state and state[0] == "claimed":
            break
        time.sleep(0.2)
    db.close()
    return state[0] if state else ""
