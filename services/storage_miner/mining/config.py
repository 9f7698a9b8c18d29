"""The miner's settings (``ZG_STORAGE_MINING_*``) resolved against the deployment: its key, miner id, beneficiary,
contracts and directories. Resolution fails fast with a ConfigError naming the setting to fix."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, keccak, to_checksum_address

from services.storage_miner.config import StorageNodeSettings, node_dir
from zerog.accounts import role_account
from zerog.chain import Deployment
from zerog.errors import ConfigError
from zerog.storage.contracts import FLOW, MINE, REWARD
from zerog.storage.pora import miner_id_of

#: The dev account a storage node mines with on the local network (0 deploys, 1 drips, 2 serves compute).
MINER_DEV_INDEX = 8


def miner_account(settings: StorageNodeSettings) -> LocalAccount:
    """The miner's key: ZG_STORAGE_MINING_PRIVATE_KEY, or dev account 8 on the local network."""
    return role_account(settings, "storage_mining_private_key", MINER_DEV_INDEX, "mining")


def miner_salt(settings: StorageNodeSettings) -> bytes:
    """keccak256 of the salt text (ZG_STORAGE_MINING_SALT, default the node's storage_name)."""
    return keccak(text=settings.storage_mining_salt or settings.storage_name)


def mining_dir(settings: StorageNodeSettings) -> Path:
    """`<data_dir>/<storage_name>/mining/`: the miner's database and sealed data."""
    return node_dir(settings) / "mining"


def miner_beneficiary(settings: StorageNodeSettings, owner: str) -> str:
    value = settings.storage_mining_beneficiary
    if value is None or value == "":
        return owner
    if not is_address(value):
        raise ConfigError(f"ZG_STORAGE_MINING_BENEFICIARY is not an address: {value!r}")
    return to_checksum_address(value)


@dataclass(frozen=True)
class MinerConfig:
    account: LocalAccount
    miner_id: bytes
    salt: bytes
    beneficiary: str
    shard_id: int
    num_shard: int
    workers: int
    claim_wei: int
    poll_interval: float
    confirmations: int
    resync: bool
    directory: Path
    mine_address: str
    mine_abi: list[dict[str, Any]]
    mine_block: int
    reward_address: str
    reward_abi: list[dict[str, Any]]
    flow_address: str
    flow_abi: list[dict[str, Any]]
    identity: str

    @classmethod
    def resolve(cls, settings: StorageNodeSettings, deployment: Deployment) -> MinerConfig:
        try:
            mine = deployment.record(MINE)
            reward = deployment.record(REWARD)
            flow = deployment.record(FLOW)
        except Exception as exc:
            raise ConfigError(
                f"mining is on (ZG_STORAGE_MINING) but {deployment.path} has no {MINE}/{REWARD}: "
                "deploy the storage contracts with `zg deploy` first"
            ) from exc
        account = miner_account(settings)
        salt = miner_salt(settings)
        return cls(
            account=account,
            miner_id=miner_id_of(account.address, salt),
            salt=salt,
            beneficiary=miner_beneficiary(settings, account.address),
            shard_id=settings.storage_shard_id,
            num_shard=settings.storage_num_shard,
            workers=settings.storage_mining_workers or os.cpu_count() or 1,
            claim_wei=settings.storage_mining_claim_wei,
            poll_interval=settings.poll_interval,
            confirmations=settings.confirmations,
            resync=settings.resync,
            directory=mining_dir(settings),
            mine_address=to_checksum_address(mine["address"]),
            mine_abi=mine["abi"],
            mine_block=int(mine.get("deployBlock", 0)),
            reward_address=to_checksum_address(reward["address"]),
            reward_abi=reward["abi"],
            flow_address=to_checksum_address(flow["address"]),
            flow_abi=flow["abi"],
            identity=f"{mine['address']}@{mine.get('deployBlockHash', '')}".lower(),
        )
