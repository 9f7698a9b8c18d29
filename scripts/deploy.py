"""Deploys every contract of the stack and writes `deployments/<chainId>.json` (`ape run deploy`).

Non-interactive: the deployer is ZG_PRIVATE_KEY / ZG_KEYSTORE, or dev account 0 on the local network.
Re-running against a chain that already holds this exact deployment is a no-op; a fresh chain (or
changed contract code) gets a full redeploy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import rlp
from ape import accounts, chain, project
from ape.api import AccountAPI
from eth_utils import keccak, to_canonical_address, to_checksum_address

from zerog.accounts import dev_account, load_account
from zerog.compute import contracts as compute_contracts
from zerog.config import load_settings
from zerog.da import contracts as da_contracts
from zerog.devnet.genesis import genesis_signers
from zerog.devnet.settings import NetworkSettings
from zerog.faucet import contracts as faucet_contracts
from zerog.storage import contracts as storage_contracts

FAUCET_DRIPPER_DEV_INDEX = 1
MANIFEST_VERSION = 1
#: Every contract `deploy_all` puts in the manifest: a manifest missing one (an older deployment) is stale.
MANIFEST_CONTRACTS = frozenset(
    {*faucet_contracts.CONTRACTS, *storage_contracts.CONTRACTS, *compute_contracts.CONTRACTS, *da_contracts.CONTRACTS}
)


def _ape_account(settings: NetworkSettings) -> AccountAPI:
    """The deployer as an ape account, signing locally with the configured key."""
    local = load_account(settings)
    return accounts.init_test_account(0, local.address, local.key.to_0x_hex())


def _faucet_dripper(settings: NetworkSettings) -> str:
    if settings.faucet_private_key is not None:
        return load_account(settings.model_copy(update={"private_key": settings.faucet_private_key})).address
    return dev_account(FAUCET_DRIPPER_DEV_INDEX).address


def _bytecode_hash(name: str) -> str:
    bytecode = getattr(project, name).contract_type.deployment_bytecode.bytecode
    return "0x" + keccak(hexstr=bytecode).hex()


def _abi(name: str) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", by_alias=True) for item in getattr(project, name).contract_type.abi]


def is_current(manifest: dict[str, Any]) -> bool:
    """True if every contract of `manifest` lives on this chain with the code we would deploy now."""
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("chainId") != chain.chain_id:
        return False
    if set(manifest.get("contracts", {})) != MANIFEST_CONTRACTS:
        return False
    for name, record in manifest.get("contracts", {}).items():
        try:
            block_hash = chain.provider.get_block(record["deployBlock"]).hash.to_0x_hex()
        except Exception:  # block beyond the head: a different (younger) chain
            return False
        if (
            block_hash != record["deployBlockHash"]
            or not chain.provider.get_code(record["address"])
            or record["bytecodeHash"] != _bytecode_hash(name)
        ):
            return False
    return True


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to: keccak256(rlp([sender, nonce]))[12:]."""
    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


def deploy_storage(
    deployer: AccountAPI,
    *,
    price_per_sector: int,
    blocks_per_epoch: int,
    sectors_per_pricing_chunk: int,
    release_seconds: int,
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys ChunkLinearReward, FixedPriceMarket and Flow, in that order, from three consecutive nonces.

    Each is bound to the next by an immutable constructor address: the reward pool and the market get the
    CREATE addresses the market and the flow will have, computed from the deployer's nonce. Returns
    {name: (instance, constructor args)}; raises if a prediction missed (another transaction of the deployer
    slipped in), since the contracts could then never be re-bound.
    """
    nonce = deployer.nonce
    market_at, flow_at = create_address(deployer.address, nonce + 1), create_address(deployer.address, nonce + 2)
    reward_args = {
        "market": market_at,
        "sectorsPerPricingChunk": sectors_per_pricing_chunk,
        "releaseSeconds": release_seconds,
        "admin": deployer.address,
    }
    reward = project.ChunkLinearReward.deploy(*reward_args.values(), sender=deployer, nonce=nonce)
    market_args = {
        "initialPricePerSector": price_per_sector,
        "flow": flow_at,
        "reward": reward.address,
        "admin": deployer.address,
    }
    market = project.FixedPriceMarket.deploy(*market_args.values(), sender=deployer, nonce=nonce + 1)
    flow_args = {"market": market.address, "blocksPerEpoch": blocks_per_epoch}
    flow = project.Flow.deploy(*flow_args.values(), sender=deployer, nonce=nonce + 2)
    if (market.address, flow.address) != (market_at, flow_at):
        raise click.ClickException(
            f"storage contracts were not deployed at the predicted addresses (market {market.address} vs "
            f"{market_at}, flow {flow.address} vs {flow_at}): redeploy"
        )
    return {
        storage_contracts.REWARD: (reward, reward_args),
        storage_contracts.MARKET: (market, market_args),
        storage_contracts.FLOW: (flow, flow_args),
    }


def deploy_compute(deployer: AccountAPI, *, refund_lock: int, min_stake: int) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys Ledger then InferenceServing from two consecutive nonces, each bound to the other by an immutable
    constructor address (the ledger gets the serving contract's predicted CREATE address). No roles."""
    nonce = deployer.nonce
    serving_at = create_address(deployer.address, nonce + 1)
    ledger_args = {"serving": serving_at}
    ledger = project.Ledger.deploy(*ledger_args.values(), sender=deployer, nonce=nonce)
    serving_args = {"ledger": ledger.address, "refundLock": refund_lock, "minStake": min_stake}
    serving = project.InferenceServing.deploy(*serving_args.values(), sender=deployer, nonce=nonce + 1)
    if serving.address != serving_at:
        raise click.ClickException(
            f"InferenceServing was not deployed at the predicted address ({serving.address} vs {serving_at}): redeploy"
        )
    return {compute_contracts.LEDGER: (ledger, ledger_args), compute_contracts.SERVING: (serving, serving_args)}


def deploy_mine(
    deployer: AccountAPI,
    flow: Any,
    reward: Any,
    *,
    difficulty: int,
    target_answers: int,
    max_mining_length: int,
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys PoraMine over `flow` and `reward` (both fixed in its constructor) and grants it the reward pool's
    MINE_ROLE, so that accepted answers claim rewards. PoraMine itself has no roles."""
    mine_args = {
        "flow": flow.address,
        "reward": reward.address,
        "initialDifficulty": difficulty,
        "targetAnswers": target_answers,
        "maxMiningLength": max_mining_length,
    }
    mine = project.PoraMine.deploy(*mine_args.values(), sender=deployer)
    reward.grantRole(reward.MINE_ROLE(), mine.address, sender=deployer)
    return {storage_contracts.MINE: (mine, mine_args)}


def deploy_da(
    deployer: AccountAPI,
    *,
    epoch_blocks: int,
    min_stake: int,
    withdraw_delay_epochs: int,
    blob_fee: int,
    grace_blocks: int,
    genesis: Callable[[str], list[tuple[Any, ...]]],
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys DASigners (with the genesis signers `genesis(address)` returns for its predicted address, their
    stakes paid by the deployer), then DAEntrance bound to it. DASigners has no roles; DAEntrance's admin sets
    the blob fee and withdraws the collected fees."""
    signers_at = create_address(deployer.address, deployer.nonce)
    members = genesis(signers_at)
    stakes = sum(row[-1] for row in members)
    signers_args = {
        "epochBlocks": epoch_blocks,
        "minStake": min_stake,
        "withdrawDelayEpochs": withdraw_delay_epochs,
        "genesis": members,
    }
    signers = project.DASigners.deploy(*signers_args.values(), sender=deployer, value=stakes)
    if signers.address != signers_at:
        raise click.ClickException(f"DASigners was not deployed at {signers_at} (but {signers.address}): redeploy")
    signers_args["genesis"] = [{"account": row[0], "socket": row[4], "stake": row[5]} for row in members]
    entrance_args = {
        "signerRegistry": signers.address,
        "initialBlobFee": blob_fee,
        "graceBlocks": grace_blocks,
        "admin": deployer.address,
    }
    entrance = project.DAEntrance.deploy(*entrance_args.values(), sender=deployer)
    return {
        da_contracts.SIGNERS_CONTRACT: (signers, signers_args),
        da_contracts.ENTRANCE_CONTRACT: (entrance, entrance_args),
    }


def _record(name: str, instance: Any, args: dict[str, Any]) -> dict[str, Any]:
    receipt = instance.creation_metadata.receipt
    return {
        "address": instance.address,
        "deployTx": receipt.txn_hash,
        "deployBlock": receipt.block_number,
        "deployBlockHash": chain.provider.get_block(receipt.block_number).hash.to_0x_hex(),
        "gasUsed": receipt.gas_used,
        "bytecodeHash": _bytecode_hash(name),
        "constructorArgs": args,
        "abi": _abi(name),
    }


def deploy_all(settings: NetworkSettings, deployer: AccountAPI) -> dict[str, Any]:
    """Deploys the contracts and returns the manifest (not yet written)."""
    faucet_args = {
        "initialDripAmount": settings.faucet_drip_wei,
        "initialCooldown": settings.faucet_cooldown,
        "initialBudget": settings.faucet_budget_wei,
        "initialBudgetWindow": settings.faucet_budget_window,
        "admin": deployer.address,
        "dripper": _faucet_dripper(settings),
    }
    faucet = project.Faucet.deploy(*faucet_args.values(), sender=deployer, value=settings.faucet_fund_wei)
    contracts = {faucet_contracts.FAUCET: _record(faucet_contracts.FAUCET, faucet, faucet_args)}
    storage = deploy_storage(
        deployer,
        price_per_sector=settings.storage_price_per_sector,
        blocks_per_epoch=settings.storage_blocks_per_epoch,
        sectors_per_pricing_chunk=settings.storage_sectors_per_pricing_chunk,
        release_seconds=settings.storage_release_seconds,
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in storage.items()})
    mine = deploy_mine(
        deployer,
        storage[storage_contracts.FLOW][0],
        storage[storage_contracts.REWARD][0],
        difficulty=settings.storage_mining_difficulty,
        target_answers=settings.storage_mining_target_answers,
        max_mining_length=settings.storage_mining_max_length,
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in mine.items()})
    compute = deploy_compute(
        deployer, refund_lock=settings.compute_refund_lock, min_stake=settings.compute_min_stake_wei
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in compute.items()})
    da = deploy_da(
        deployer,
        epoch_blocks=settings.da_epoch_blocks,
        min_stake=settings.da_min_stake_wei,
        withdraw_delay_epochs=settings.da_withdraw_delay_epochs,
        blob_fee=settings.da_blob_fee_wei,
        grace_blocks=settings.da_grace_blocks,
        genesis=lambda at: genesis_signers(settings, chain.chain_id, at),
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in da.items()})
    if set(contracts) != MANIFEST_CONTRACTS:
        raise click.ClickException(f"deploy_all deployed {sorted(contracts)}, MANIFEST_CONTRACTS lists others")
    return {
        "version": MANIFEST_VERSION,
        "chainId": chain.chain_id,
        "deployer": deployer.address,
        "deployedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "contracts": contracts,
    }


def deploy(settings: NetworkSettings) -> tuple[dict[str, Any], bool]:
    """Deploy unless the manifest already describes this chain; returns (manifest, deployed_now)."""
    path = settings.manifest_path(chain.chain_id)
    if path.exists():
        try:
            current = json.loads(path.read_text())
        except ValueError:
            current = {}
        if is_current(current):
            return current, False
    manifest = deploy_all(settings, _ape_account(settings))
    write_manifest(path, manifest)
    return manifest, True


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Atomic write: readers never see half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(path)


def main() -> None:
    settings = load_settings(NetworkSettings, chain_id=chain.chain_id, rpc_url=chain.provider.http_uri)
    manifest, deployed = deploy(settings)
    path = settings.manifest_path(chain.chain_id)
    if not deployed:
        click.echo(f"deployment {path} is current on chain {chain.chain_id}: nothing to do")
        return
    for name, record in manifest["contracts"].items():
        click.echo(f"{name} at {record['address']} (block {record['deployBlock']}, gas {record['gasUsed']})")
        click.echo(f"  constructor: {json.dumps(record['constructorArgs'])}")
    click.echo(f"wrote {path}")
    sys.stdout.flush()
