"""The miner in a real storage node (`python -m services.storage_miner` with ZG_STORAGE_MINING=true) on a real
chain with every contract deployed: it seals what the node stores, makes epoch contexts, earns rewards within a
bounded number of epochs, resumes after a restart, stops mining a segment the node lost while it keeps mining the
rest; `zg storage miner status` / `claim` through the real CLI. No mocks."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from pydantic import SecretStr
from web3.exceptions import ContractCustomError

from chain_node import ChainNode
from services.storage_miner.mining.config import MINER_DEV_INDEX, miner_account, miner_beneficiary, miner_salt
from tests.conftest import REPO_ROOT, make_settings, tool_env
from tests.storage.node_fixtures import Chain, Daemon, File, node_dir, start_node, wait_for, wait_synced
from zerog.accounts import dev_account
from zerog.devnet.deploy import run_deploy
from zerog.devnet.settings import NetworkSettings
from zerog.errors import ConfigError
from zerog.storage.merkle import SEGMENT_CHUNKS, SEGMENT_SIZE
from zerog.storage.pora import miner_id_of

BLOCKS_PER_EPOCH = 10
TARGET_ANSWERS = 2
#: A miner must earn within this many epochs of its data being stored.
EPOCH_BOUND = 5
EPOCH_TIMEOUT_SECONDS = 30
#: Epochs the lost-data test mines at most until an answer recalls the file's remaining segments.
LOST_DATA_EPOCHS = 8
ZG = str(Path(sys.executable).parent / "zg")
MINER_NAME = "miner"


@pytest.fixture(scope="module")
def mining_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkSettings]:
    """A chain with the contracts deployed for quick tests: difficulty 1, short epochs, a fast release."""
    settings = make_settings(
        tmp_path_factory.mktemp("mining"),
        storage_mining_difficulty=1,
        storage_mining_target_answers=TARGET_ANSWERS,
        storage_blocks_per_epoch=BLOCKS_PER_EPOCH,
        storage_release_seconds=60,
        storage_sectors_per_pricing_chunk=2048,
    )
    with ChainNode(settings):
        result = run_deploy(settings)
        assert result.returncode == 0, result.stdout + result.stderr
        yield settings


@pytest.fixture(scope="module")
def net(mining_devnet: NetworkSettings) -> Chain:
    return Chain.of(mining_devnet)


def start_miner(settings: NetworkSettings) -> Daemon:
    return start_node(settings, MINER_NAME, ZG_STORAGE_MINING="true", ZG_STORAGE_MINING_WORKERS="2")


@pytest.fixture(scope="module")
def miner(mining_devnet: NetworkSettings) -> Iterator[Daemon]:
    daemon = start_miner(mining_devnet)
    yield daemon
    daemon.stop(signal.SIGTERM)


@pytest.fixture(scope="module")
def stored(net: Chain, miner: Daemon) -> dict[str, Any]:
    """A 3-segment file submitted and uploaded to the mining node."""
    file = File.random(3 * SEGMENT_SIZE + 999, seed=21)
    event = net.submit(file.tree)
    seq = wait_synced(miner, file.root)["tx"]["seq"]
    for index in range(file.tree.num_segments):
        miner.call("zgs_uploadSegmentsByTxSeq", [file.segment(index)], seq)
    assert miner.call("zgs_getFileInfo", file.root, True)["finalized"]
    return {"file": file, "seq": seq, "start": event["startPos"]}


def status(node: Daemon) -> dict[str, Any]:
    response = httpx.get(f"{node.url}/mining", timeout=10)
    assert response.status_code == 200
    return response.json()


def miner_id(settings: NetworkSettings, name: str = MINER_NAME) -> bytes:
    return miner_id_of(
        dev_account(MINER_DEV_INDEX).address, miner_salt(settings.model_copy(update={"storage_name": name}))
    )


def accepted_on_chain(net: Chain, miner_id_: bytes, from_block: int) -> list[dict[str, Any]]:
    mine = net.deployment.contract(net.w3, "PoraMine")
    logs = mine.events.AnswerAccepted.get_logs(from_block=from_block, argument_filters={"minerId": miner_id_})
    return [dict(log["args"]) for log in logs]


def next_epoch_accepted(net: Chain, node: Daemon, miner_id_: bytes, epochs: int = 1) -> list[dict[str, Any]]:
    """Mine to the next epoch (`epochs` times) and wait until the miner has answers accepted in the last one."""
    accepted: list[dict[str, Any]] = []
    for _ in range(epochs):
        mark = net.w3.eth.block_number
        net.mine(BLOCKS_PER_EPOCH)
        accepted += wait_for(
            lambda mark=mark: accepted_on_chain(net, miner_id_, mark + 1),
            EPOCH_TIMEOUT_SECONDS,
            f"{node.name} to answer in the next epoch (status {status(node)})",
        )
    return accepted


def run_zg(settings: NetworkSettings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZG, *args], cwd=REPO_ROOT, env=tool_env(settings), capture_output=True, text=True, timeout=60, check=False
    )


# ---------------------------------------------------------------- mining and rewards


def test_miner__earns_a_reward_within_bounded_epochs(
    mining_devnet: NetworkSettings, net: Chain, miner: Daemon, stored: dict[str, Any]
) -> None:
    ident = miner_id(mining_devnet)
    reward = net.deployment.contract(net.w3, "ChunkLinearReward")
    beneficiary = dev_account(MINER_DEV_INDEX).address
    start_block = net.deployment.record("PoraMine")["deployBlock"]

    def earned_on_chain() -> int:
        logs = reward.events.RewardDistributed.get_logs(from_block=start_block, argument_filters={"minerId": ident})
        return sum(int(log["args"]["amount"]) for log in logs)

    earned, epochs = 0, 0
    while epochs < EPOCH_BOUND:
        epochs += 1
        accepted = next_epoch_accepted(net, miner, ident)
        assert all(a["minerId"] == ident for a in accepted)
        earned = earned_on_chain()
        if earned > 0:
            break
    assert earned > 0, f"no reward after {EPOCH_BOUND} epochs"

    def synced() -> dict[str, Any] | None:
        """The node's view, once it agrees with the chain (its reward log sync caught up; it may earn more)."""
        s = status(miner)
        total = earned_on_chain()
        return s if s["rewardsWei"] == total == reward.functions.balanceOf(beneficiary).call() else None

    final = wait_for(synced, what="the miner's reward sync")
    assert final["enabled"] and final["registered"]
    assert final["minerId"] == "0x" + ident.hex()
    assert final["owner"] == beneficiary and final["beneficiary"] == beneficiary
    assert final["answers"]["accepted"] >= epochs
    assert final["hashRate"] > 0 and final["tried"] >= final["hashed"] > 0
    assert final["sealedSegments"] == 4 and final["heldSegments"] == 4
    file = stored["file"]
    assert final["flowLength"] >= stored["start"] + file.tree.padded_chunks
    for answer in final["recentAnswers"]:
        if answer["status"] == "accepted":
            assert answer["gasUsed"] <= 410_000


def test_miner__epoch_takes_at_most_its_target_answers(
    mining_devnet: NetworkSettings, net: Chain, miner: Daemon
) -> None:
    mark = net.w3.eth.block_number
    next_epoch_accepted(net, miner, miner_id(mining_devnet))

    def per_epoch() -> Counter[int]:
        return Counter(a["epoch"] for a in accepted_on_chain(net, miner_id(mining_devnet), mark + 1))

    # The miner's own transactions move the chain on, so an epoch may end before it fills: wait for a full one.
    wait_for(lambda: TARGET_ANSWERS in per_epoch().values(), what="an epoch to fill up")
    accepted = accepted_on_chain(net, miner_id(mining_devnet), mark + 1)
    counts = Counter(a["epoch"] for a in accepted)
    assert max(counts.values()) == TARGET_ANSWERS  # never more than the target in one epoch
    for epoch in (e for e, n in counts.items() if n == TARGET_ANSWERS):
        indexes = sorted(a["answerIndex"] for a in accepted if a["epoch"] == epoch)
        assert indexes == list(range(TARGET_ANSWERS))


# ---------------------------------------------------------------- CLI


def test_cli__status_shows_hash_rate_answers_and_rewards(mining_devnet: NetworkSettings, miner: Daemon) -> None:
    shown = run_zg(mining_devnet, "--json", "storage", "miner", "status", "--node", miner.url)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    data = json.loads(shown.stdout)
    assert data["node"] == miner.url
    assert data["minerId"] == "0x" + miner_id(mining_devnet).hex()
    assert data["answers"]["accepted"] >= 1 and data["rewardsWei"] > 0

    human = run_zg(mining_devnet, "storage", "miner", "status", "--node", miner.url)
    assert human.returncode == 0, human.stderr
    for needle in ("hash rate", "accepted", "earned", "to claim", data["minerId"]):
        assert needle in human.stdout


def test_cli__status_of_a_node_that_does_not_mine_fails(mining_devnet: NetworkSettings) -> None:
    plain = start_node(mining_devnet, "plain")
    try:
        assert status(plain) == {"enabled": False}
        shown = run_zg(mining_devnet, "storage", "miner", "status", "--node", plain.url)
        assert shown.returncode == 1
        assert "does not mine" in shown.stderr
    finally:
        plain.stop()


def test_cli__claim_withdraws_once(mining_devnet: NetworkSettings, net: Chain, miner: Daemon) -> None:
    reward = net.deployment.contract(net.w3, "ChunkLinearReward")
    account = dev_account(MINER_DEV_INDEX).address
    wait_for(lambda: reward.functions.balanceOf(account).call() > 0, what="credited rewards")
    claimed = run_zg(mining_devnet, "--json", "storage", "miner", "claim")

    assert claimed.returncode == 0, claimed.stdout + claimed.stderr
    result = json.loads(claimed.stdout)
    assert result["account"] == account and result["amountWei"] > 0
    receipt = net.w3.eth.get_transaction_receipt(result["txHash"])
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    # Across the claim's own block (one tx per block here): the miner keeps paying gas for answers meanwhile.
    block = receipt["blockNumber"]
    before = net.w3.eth.get_balance(account, block - 1)
    assert net.w3.eth.get_balance(account, block) == before + result["amountWei"] - fee
    # Right after the claim nothing is left, and a second withdrawal in that state reverts (the miner may
    # earn again in later blocks, so both are checked at the claim's block).
    assert reward.functions.balanceOf(account).call(block_identifier=block) == 0
    with pytest.raises(ContractCustomError) as again:
        reward.functions.withdraw().call({"from": account}, block_identifier=block)
    assert net.deployment.error_decoder().decode(again.value.data) == f"RewardNothingToWithdraw(account={account})"
    wait_for(lambda: status(miner)["withdrawnWei"] >= result["amountWei"], what="the miner to see the withdrawal")


def test_cli__claim_without_rewards_is_a_clear_error(mining_devnet: NetworkSettings) -> None:
    # `--signer`: withdraw for ZG_PRIVATE_KEY, here a dev account that never mined.
    env = {**tool_env(mining_devnet), "ZG_PRIVATE_KEY": dev_account(9).key.to_0x_hex()}
    result = subprocess.run(
        [ZG, "storage", "miner", "claim", "--signer"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"nothing to withdraw: {dev_account(9).address}" in result.stderr


# ---------------------------------------------------------------- lost data and restarts


def test_miner__lost_segment_is_not_mined_others_continue(
    mining_devnet: NetworkSettings, net: Chain, miner: Daemon, stored: dict[str, Any]
) -> None:
    seq, start = stored["seq"], stored["start"]
    [directory] = (node_dir(mining_devnet, MINER_NAME) / "segments").glob(f"{seq}_*")
    (directory / "1.seg").unlink()
    wait_for(lambda: status(miner)["heldSegments"] == 3, what="the miner to drop the lost segment")
    lost = range(start + SEGMENT_CHUNKS, start + 2 * SEGMENT_CHUNKS)
    file_sectors = range(start, start + stored["file"].tree.padded_chunks)

    accepted: list[dict[str, Any]] = []
    for _ in range(LOST_DATA_EPOCHS):  # until the other segments of the file earned again
        accepted += next_epoch_accepted(net, miner, miner_id(mining_devnet))
        if any(a["recallPosition"] in file_sectors for a in accepted):
            break

    assert any(a["recallPosition"] in file_sectors for a in accepted)
    assert not [a for a in accepted if a["recallPosition"] in lost]
    state = status(miner)
    assert (state["sealedSegments"], state["heldSegments"], state["missingSegments"]) == (3, 3, 1)
    assert not [a for a in state["recentAnswers"] if "cannot prove" in (a["error"] or "")]


def test_miner__restart_resumes_from_its_state(mining_devnet: NetworkSettings, net: Chain, miner: Daemon) -> None:
    before = status(miner)
    db = node_dir(mining_devnet, MINER_NAME) / "mining" / "miner.db"
    sealed_before = _rows(db, "SELECT uid, seg_index, slot, sealed_at FROM sealed ORDER BY uid, seg_index")
    epoch_before = _rows(db, "SELECT epoch, next_nonce FROM epochs ORDER BY epoch DESC LIMIT 1")[0]
    assert miner.stop(signal.SIGTERM) == 0, miner.log()
    miner.env["ZG_STORAGE_MINING_CLAIM_WEI"] = "1"  # from now on it withdraws what it earns by itself

    miner.start()
    after = wait_for(lambda: (s := status(miner))["state"] != "starting" and s, what="the miner to start")
    assert after["answers"]["accepted"] >= before["answers"]["accepted"]
    assert after["rewardsWei"] >= before["rewardsWei"]
    # Nothing sealed again; the epoch's search continues after the nonces handed out before.
    assert _rows(db, "SELECT uid, seg_index, slot, sealed_at FROM sealed ORDER BY uid, seg_index") == sealed_before
    epoch, next_nonce = _rows(db, f"SELECT epoch, next_nonce FROM epochs WHERE epoch = {epoch_before[0]}")[0]
    assert next_nonce >= epoch_before[1]
    accepted = next_epoch_accepted(net, miner, miner_id(mining_devnet))
    assert accepted
    # The chain has the answer a moment before the miner has read its receipt and recorded it.
    wanted = before["answers"]["accepted"] + len(accepted)
    wait_for(lambda: status(miner)["answers"]["accepted"] >= wanted, what=f"the miner to record {wanted} answers")
    reward = net.deployment.contract(net.w3, "ChunkLinearReward")

    def settled() -> bool:
        s = status(miner)
        credited = reward.functions.balanceOf(s["owner"]).call()
        return s["withdrawnWei"] > before["withdrawnWei"] and s["rewardsWei"] - s["withdrawnWei"] == credited

    wait_for(settled, what="the miner to withdraw its new rewards by itself")


def _rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(row) for row in conn.execute(query)]
    finally:
        conn.close()


# ---------------------------------------------------------------- configuration


def test_config__manifest_without_pora_mine_fails_the_start(mining_devnet: NetworkSettings, tmp_path: Path) -> None:
    manifest = json.loads(mining_devnet.manifest_path(mining_devnet.chain_id).read_text())
    del manifest["contracts"]["PoraMine"]
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    (deployments / f"{mining_devnet.chain_id}.json").write_text(json.dumps(manifest))
    settings = mining_devnet.model_copy(update={"deployments_dir": deployments, "data_dir": tmp_path / "data"})

    result = subprocess.run(
        [sys.executable, "-m", "services.storage_miner"],
        cwd=REPO_ROOT,
        env=tool_env(settings, ZG_STORAGE_MINING="true", ZG_STORAGE_PORT="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "has no PoraMine" in result.stdout


def test_config__mining_key_required_off_the_local_chain(mining_devnet: NetworkSettings) -> None:
    remote = mining_devnet.model_copy(update={"rpc_url": "http://203.0.113.7:8545"})
    with pytest.raises(ConfigError, match="ZG_STORAGE_MINING_PRIVATE_KEY"):
        miner_account(remote)
    key = "0x" + "11" * 32
    configured = remote.model_copy(update={"storage_mining_private_key": SecretStr(key)})
    assert miner_account(configured).address == Account.from_key(key).address


def test_config__bad_beneficiary_is_a_config_error(mining_devnet: NetworkSettings) -> None:
    owner = dev_account(MINER_DEV_INDEX).address
    assert miner_beneficiary(mining_devnet, owner) == owner
    other = dev_account(9).address
    assert (
        miner_beneficiary(mining_devnet.model_copy(update={"storage_mining_beneficiary": other.lower()}), owner)
        == other
    )
    with pytest.raises(ConfigError, match="not an address"):
        miner_beneficiary(mining_devnet.model_copy(update={"storage_mining_beneficiary": "0x1234"}), owner)
