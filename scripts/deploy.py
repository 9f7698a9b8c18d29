"""Deploys every contract of the stack and writes `deployments/<chainId>.json` (`ape run deploy`), and beside it
the sources bundle `deployments/<chainId>.sources.json` a block explorer publishes them from (see `write_sources`).

Non-interactive: the deployer is ZG_PRIVATE_KEY / ZG_KEYSTORE, or dev account 0 on the local network.
Re-running against a chain that already holds this exact deployment is a no-op; a fresh chain (or
changed contract code) gets a full redeploy.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import rlp
from ape import accounts, chain, compilers, project
from ape.api import AccountAPI
from eth_utils import keccak, to_canonical_address, to_checksum_address
from packaging.version import Version
from solcx import compile_standard
from solcx.install import get_executable

from zerog.accounts import dev_account, load_account
from zerog.chain import sources_path
from zerog.compute import contracts as compute_contracts
from zerog.config import load_settings
from zerog.da import contracts as da_contracts
from zerog.devnet.genesis import genesis_signers
from zerog.devnet.settings import NetworkSettings
from zerog.faucet import contracts as faucet_contracts
from zerog.market import contracts as market_contracts
from zerog.storage import contracts as storage_contracts

FAUCET_DRIPPER_DEV_INDEX = 1
MANIFEST_VERSION = 1
SOURCES_VERSION = 1
#: In the CBOR tail of solc's runtime code, what precedes the metadata's IPFS hash: the key "ipfs", a 34-byte string.
CBOR_IPFS_KEY = b"\x64ipfs\x58\x22"
IPFS_CHUNK_BYTES = 256 * 1024
#: The compile output a verifier needs. It replaces ape's per-file selection, which only shapes what solc prints
#: (not the bytecode, nor the metadata hash in it).
VERIFY_OUTPUT_SELECTION = {
    "*": {
        "*": [
            "abi",
            "metadata",
            "evm.bytecode.object",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
        ]
    }
}
#: Every contract `deploy_all` puts in the manifest: a manifest missing one (an older deployment) is stale.
MANIFEST_CONTRACTS = frozenset(
    {
        *faucet_contracts.CONTRACTS,
        *storage_contracts.CONTRACTS,
        *compute_contracts.CONTRACTS,
        *market_contracts.CONTRACTS,
        *da_contracts.CONTRACTS,
    }
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


def deploy_compute(
    deployer: AccountAPI,
    *,
    refund_lock: int,
    min_stake: int,
    ack_timeout: int,
    unacknowledged_share_bps: int,
    timeout_slash_bps: int,
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys Ledger, InferenceServing and FineTuningServing from three consecutive nonces, bound to each other by
    immutable constructor addresses (the ledger gets the CREATE addresses the other two will have). No roles.
    Raises if a prediction missed (another transaction of the deployer slipped in)."""
    nonce = deployer.nonce
    serving_at = create_address(deployer.address, nonce + 1)
    fine_tuning_at = create_address(deployer.address, nonce + 2)
    ledger_args = {"serving": serving_at, "fineTuning": fine_tuning_at}
    ledger = project.Ledger.deploy(*ledger_args.values(), sender=deployer, nonce=nonce)
    serving_args = {"ledger": ledger.address, "refundLock": refund_lock, "minStake": min_stake}
    serving = project.InferenceServing.deploy(*serving_args.values(), sender=deployer, nonce=nonce + 1)
    fine_tuning_args = {
        "ledger": ledger.address,
        "minStake": min_stake,
        "ackTimeout": ack_timeout,
        "unacknowledgedShareBps": unacknowledged_share_bps,
        "timeoutSlashBps": timeout_slash_bps,
    }
    fine_tuning = project.FineTuningServing.deploy(*fine_tuning_args.values(), sender=deployer, nonce=nonce + 2)
    if (serving.address, fine_tuning.address) != (serving_at, fine_tuning_at):
        raise click.ClickException(
            f"compute contracts were not deployed at the predicted addresses (serving {serving.address} vs "
            f"{serving_at}, fine-tuning {fine_tuning.address} vs {fine_tuning_at}): redeploy"
        )
    return {
        compute_contracts.LEDGER: (ledger, ledger_args),
        compute_contracts.SERVING: (serving, serving_args),
        compute_contracts.FINE_TUNING: (fine_tuning, fine_tuning_args),
    }


def deploy_market(
    deployer: AccountAPI, serving: Any, *, fee_bps: int, grant_timeout: int
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys the Marketplace bound to `serving` (InferenceServing, an immutable constructor address). The deployer
    is its admin (the fee, within MAX_FEE_BPS) and the fee recipient."""
    market_args = {
        "serving": serving.address,
        "grantTimeout": grant_timeout,
        "initialFeeBps": fee_bps,
        "feeRecipient": deployer.address,
        "admin": deployer.address,
    }
    market = project.Marketplace.deploy(*market_args.values(), sender=deployer)
    return {market_contracts.MARKETPLACE: (market, market_args)}


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


def bls12_precompiles_available() -> bool:
    """Whether the chain has the EIP-2537 precompiles (Prague): G1ADD (0x0b) of two points at infinity returns the
    point at infinity (128 zero bytes); before Prague the address is an empty account and returns nothing."""
    try:
        out = chain.provider.web3.eth.call({"to": da_contracts.G1ADD_PRECOMPILE, "data": "0x" + "00" * 256})
    except Exception:  # a node refusing the call has no precompile we can use either
        return False
    return bytes(out) == bytes(128)


def deploy_da(
    deployer: AccountAPI,
    *,
    epoch_blocks: int,
    min_stake: int,
    withdraw_delay_epochs: int,
    blob_fee: int,
    grace_blocks: int,
    max_quorums: int,
    min_signers_per_quorum: int,
    retention_epochs: int,
    challenge_bond: int,
    challenge_response_blocks: int,
    challenge_slash_bps: int,
    genesis: Callable[[str], list[tuple[Any, ...]]],
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Deploys KZGCellVerifier, then DASigners (with the genesis signers `genesis(address)` returns for its
    predicted address, their stakes paid by the deployer), DAEntrance bound to it and DAChallenges bound to both,
    from consecutive nonces: DASigners is given DAChallenges' CREATE address as its only slasher. None has roles:
    the price per blob, the quorum split, the retention and the challenge bond, deadline and slash are constructor
    arguments. DAChallenges records whether the chain has the EIP-2537 precompiles (it refuses challenges if not)."""
    enabled = bls12_precompiles_available()
    verifier = project.KZGCellVerifier.deploy(sender=deployer)
    nonce = deployer.nonce
    signers_at, challenges_at = create_address(deployer.address, nonce), create_address(deployer.address, nonce + 2)
    members = genesis(signers_at)
    stakes = sum(row[-1] for row in members)
    params = (epoch_blocks, min_stake, withdraw_delay_epochs, (max_quorums, min_signers_per_quorum), challenges_at)
    signers = project.DASigners.deploy(params, members, sender=deployer, value=stakes, nonce=nonce)
    if signers.address != signers_at:
        raise click.ClickException(f"DASigners was not deployed at {signers_at} (but {signers.address}): redeploy")
    signers_args = {
        "params": {
            "epochBlocks": epoch_blocks,
            "minStake": min_stake,
            "withdrawDelayEpochs": withdraw_delay_epochs,
            "quorums": {"maxQuorums": max_quorums, "minSignersPerQuorum": min_signers_per_quorum},
            "slasher": challenges_at,
        },
        "genesis": [{"account": row[0], "socket": row[4], "stake": row[5]} for row in members],
    }
    entrance_args = {
        "signerRegistry": signers.address,
        "pricePerBlob": blob_fee,
        "graceBlocks": grace_blocks,
        "retentionEpochs": retention_epochs,
    }
    entrance = project.DAEntrance.deploy(*entrance_args.values(), sender=deployer, nonce=nonce + 1)
    challenges_args = {
        "entrance": entrance.address,
        "verifier": verifier.address,
        "bond": challenge_bond,
        "responseBlocks": challenge_response_blocks,
        "slashBps": challenge_slash_bps,
        "enabled": enabled,
    }
    challenges = project.DAChallenges.deploy(*challenges_args.values(), sender=deployer, nonce=nonce + 2)
    if challenges.address != challenges_at:
        raise click.ClickException(f"DAChallenges was not deployed at {challenges_at}: redeploy")
    return {
        da_contracts.VERIFIER_CONTRACT: (verifier, {}),
        da_contracts.SIGNERS_CONTRACT: (signers, signers_args),
        da_contracts.ENTRANCE_CONTRACT: (entrance, entrance_args),
        da_contracts.CHALLENGES_CONTRACT: (challenges, challenges_args),
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
        deployer,
        refund_lock=settings.compute_refund_lock,
        min_stake=settings.compute_min_stake_wei,
        ack_timeout=settings.compute_finetune_ack_timeout,
        unacknowledged_share_bps=settings.compute_finetune_unacknowledged_share_bps,
        timeout_slash_bps=settings.compute_finetune_timeout_slash_bps,
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in compute.items()})
    market = deploy_market(
        deployer,
        compute[compute_contracts.SERVING][0],
        fee_bps=settings.market_fee_bps,
        grant_timeout=settings.market_grant_timeout,
    )
    contracts.update({name: _record(name, instance, args) for name, (instance, args) in market.items()})
    da = deploy_da(
        deployer,
        epoch_blocks=settings.da_epoch_blocks,
        min_stake=settings.da_min_stake_wei,
        withdraw_delay_epochs=settings.da_withdraw_delay_epochs,
        blob_fee=settings.da_blob_fee_wei,
        grace_blocks=settings.da_grace_blocks,
        max_quorums=settings.da_max_quorums,
        min_signers_per_quorum=settings.da_min_signers_per_quorum,
        retention_epochs=settings.da_retention_epochs,
        challenge_bond=settings.da_challenge_bond_wei,
        challenge_response_blocks=settings.da_challenge_response_blocks,
        challenge_slash_bps=settings.da_challenge_slash_bps,
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
    """Deploy unless the manifest already describes this chain; returns (manifest, deployed_now). Either way the
    sources bundle is (re)written, so a manifest from before bundles gets one."""
    path = settings.manifest_path(chain.chain_id)
    if path.exists():
        try:
            current = json.loads(path.read_text())
        except ValueError:
            current = {}
        if is_current(current):
            write_json(sources_path(path), sources_bundle(current))
            return current, False
    manifest = deploy_all(settings, _ape_account(settings))
    write_json(path, manifest)
    write_json(sources_path(path), sources_bundle(manifest))
    return manifest, True


def standard_input() -> tuple[str, dict[str, Any]]:
    """The solc version (`v0.8.28+commit.7893614a`) and standard-JSON input of the project's compile, built by
    ape-solidity itself in an isolated copy of the project as its `compile` does: same source unit names, remappings
    and dependency files (OpenZeppelin under contracts/.cache), with their contents."""
    solidity = compilers.registered_compilers[".sol"]
    with project.isolate_in_tempdir() as isolated:
        paths = [path for path in isolated.sources.paths if path.suffix == ".sol"]
        inputs = solidity.get_standard_input_json(paths, project=isolated)
    if len(inputs) != 1:
        raise click.ClickException(f"the contracts compile with {len(inputs)} solc versions, the bundle holds one")
    ((version, std_input),) = inputs.items()
    settings = {**std_input["settings"], "outputSelection": VERIFY_OUTPUT_SELECTION}
    return f"v{version}", {**std_input, "settings": settings}


def _varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
    return out + bytes([n])


def _ipfs_hash(data: bytes) -> bytes:
    """The IPFS (CIDv0) multihash solc embeds for its metadata: sha2-256 of one unixfs file node without links,
    which is how IPFS stores a file of one chunk (up to 256 KiB; a metadata JSON is about 10 KiB)."""
    if len(data) > IPFS_CHUNK_BYTES:
        raise click.ClickException(f"a metadata JSON of {len(data)} bytes spans several IPFS chunks")
    unixfs = b"\x08\x02\x12" + _varint(len(data)) + data + b"\x18" + _varint(len(data))
    return b"\x12\x20" + hashlib.sha256(b"\x0a" + _varint(len(unixfs)) + unixfs).digest()


def reproduced(version: str, std_input: dict[str, Any], codes: dict[str, tuple[str, bytes]]) -> set[str]:
    """The names of `codes` ({name: (source path, runtime code on chain)}) whose code carries the metadata hash
    that `std_input` compiles to, i.e. whose published sources and settings rebuild it. An incremental compile
    can have built a contract from another input (other remappings, say) than a full one: only the metadata is
    compiled here (seconds, no code generation), and the metadata hash covers every source and setting."""
    request = {**std_input, "settings": {**std_input["settings"], "outputSelection": {"*": {"*": ["metadata"]}}}}
    output = compile_standard(request, solc_binary=get_executable(version=Version(version.removeprefix("v"))))
    found = set()
    for name, (source_path, code) in codes.items():
        metadata = output["contracts"][source_path][name]["metadata"].encode()
        cbor = code[-2 - int.from_bytes(code[-2:], "big") : -2]
        if CBOR_IPFS_KEY + _ipfs_hash(metadata) in cbor:
            found.add(name)
    return found


def _constructor_arguments(name: str, record: dict[str, Any]) -> str:
    """The ABI-encoded constructor arguments: the deploy transaction's input after the creation code."""
    creation = bytes.fromhex(getattr(project, name).contract_type.deployment_bytecode.bytecode.removeprefix("0x"))
    data = bytes(chain.provider.web3.eth.get_transaction(record["deployTx"])["input"])
    if not data.startswith(creation):
        raise click.ClickException(f"{name}'s deploy transaction {record['deployTx']} does not hold its creation code")
    return "0x" + data[len(creation) :].hex()


def sources_bundle(manifest: dict[str, Any]) -> dict[str, Any]:
    """What Etherscan's getsourcecode publishes for each contract of `manifest` (its ABI stays in the manifest):
    the compiler, the standard-JSON input, and per contract its source, constructor arguments and the keccak of
    its runtime code on chain. A contract the input does not rebuild is left out and listed as unverified."""
    version, std_input = standard_input()
    codes = {
        name: (getattr(project, name).contract_type.source_id, bytes(chain.provider.get_code(record["address"])))
        for name, record in manifest["contracts"].items()
    }
    verified = reproduced(version, std_input, codes)
    contracts = {
        name: {
            "contractName": name,
            "sourcePath": source_path,
            "address": manifest["contracts"][name]["address"],
            "constructorArguments": _constructor_arguments(name, manifest["contracts"][name]),
            "runtimeCodeHash": "0x" + keccak(code).hex(),
        }
        for name, (source_path, code) in codes.items()
        if name in verified
    }
    return {
        "version": SOURCES_VERSION,
        "chainId": manifest["chainId"],
        "compilerVersion": version,
        "input": std_input,
        "contracts": contracts,
        "unverified": sorted(set(codes) - verified),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def _report_sources(path: Path) -> None:
    bundle = json.loads(sources_path(path).read_text())
    click.echo(f"wrote {sources_path(path)}")
    if bundle["unverified"]:
        click.echo(
            f"warning: the built code of {', '.join(bundle['unverified'])} does not come from the sources a full "
            "compile uses, so they are not published: run `ape compile --force`, then deploy again"
        )


def main() -> None:
    settings = load_settings(NetworkSettings, chain_id=chain.chain_id, rpc_url=chain.provider.http_uri)
    manifest, deployed = deploy(settings)
    path = settings.manifest_path(chain.chain_id)
    if not deployed:
        click.echo(f"deployment {path} is current on chain {chain.chain_id}: nothing to do")
        _report_sources(path)
        return
    for name, record in manifest["contracts"].items():
        click.echo(f"{name} at {record['address']} (block {record['deployBlock']}, gas {record['gasUsed']})")
        click.echo(f"  constructor: {json.dumps(record['constructorArgs'])}")
    click.echo(f"wrote {path}")
    _report_sources(path)
    sys.stdout.flush()
