"""`zg up` mines: storage-0 runs with mining on (dev account 8, shard 0 of 2) with the deploy's default mining
parameters; a file uploaded with the default-settings CLI earns it a reward within a bounded number of epochs, which
`zg storage miner status` (finding the mining node through network.json) and `zg storage miner claim` show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from services.storage_miner.mining.config import MINER_DEV_INDEX, miner_salt
from tests.storage.node_fixtures import wait_for
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.devnet.settings import NetworkSettings
from zerog.storage.merkle import SEGMENT_SIZE
from zerog.storage.pora import miner_id_of

ZG = str(Path(sys.executable).parent / "zg")
EPOCH_BOUND = 6
EPOCH_TIMEOUT_SECONDS = 60


def zg(settings: NetworkSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """`zg` with nothing configured but the data dir, as a user of `zg up` runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZG_")}
    env["ZG_DATA_DIR"] = str(settings.data_dir)
    return subprocess.run([ZG, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_up__storage_0_mines_and_earns(up_network: NetworkSettings, tmp_path: Path) -> None:
    network: dict[str, Any] = json.loads(up_network.network_file.read_text())
    assert httpx.get(f"{network['storage-0']}/mining", timeout=10).json()["enabled"] is True
    assert httpx.get(f"{network['storage-1']}/mining", timeout=10).json() == {"enabled": False}
    w3 = connect(network["rpc"])
    deployment = Deployment.load(Path(network["manifest"]))
    mine, reward = deployment.contract(w3, "PoraMine"), deployment.contract(w3, "ChunkLinearReward")
    blocks_per_epoch = mine.functions.blocksPerEpoch().call()
    owner = dev_account(MINER_DEV_INDEX).address
    miner_id = miner_id_of(owner, miner_salt(up_network.model_copy(update={"storage_name": "storage-0"})))

    original = tmp_path / "dataset.bin"
    original.write_bytes(os.urandom(4 * SEGMENT_SIZE + 12345))
    uploaded = zg(up_network, "--json", "storage", "upload", str(original))
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    earned = 0
    for _ in range(EPOCH_BOUND):
        w3.provider.make_request("anvil_mine", [blocks_per_epoch])  # type: ignore[arg-type]
        mark = w3.eth.block_number
        wait_for(
            lambda mark=mark: mine.events.AnswerAccepted.get_logs(
                from_block=mark, argument_filters={"minerId": miner_id}
            ),
            EPOCH_TIMEOUT_SECONDS,
            "storage-0 to answer in the new epoch",
        )
        earned = reward.functions.balanceOf(owner).call()
        if earned:
            break
    assert earned > 0, f"storage-0 earned nothing in {EPOCH_BOUND} epochs"

    shown = zg(up_network, "--json", "storage", "miner", "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    status = json.loads(shown.stdout)
    assert status["node"] == network["storage-0"]
    assert (status["shardId"], status["numShard"]) == (0, 2)
    assert status["minerId"] == "0x" + miner_id.hex()
    assert status["answers"]["accepted"] >= 1 and status["pendingWei"] >= earned  # it may have earned more since

    claimed = zg(up_network, "--json", "storage", "miner", "claim")
    assert claimed.returncode == 0, claimed.stdout + claimed.stderr
    assert json.loads(claimed.stdout)["amountWei"] >= earned
