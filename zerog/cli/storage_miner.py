"""`zg storage miner`: the mining storage node's status, and withdrawing its rewards."""

from __future__ import annotations

import json
from typing import Any

import click
import httpx

from zerog.cli.context import CliContext, pass_cli
from zerog.config import ETHER

STATUS_TIMEOUT_SECONDS = 10


@click.group()
def miner() -> None:
    """Storage mining (PoRA): status of a mining node, reward withdrawal."""


def _node_urls(ctx: CliContext) -> list[str]:
    """The storage nodes of the local network (network.json), else the configured node."""
    from services.storage_miner.config import StorageNodeSettings

    settings = ctx.load(StorageNodeSettings)
    try:
        network = json.loads(settings.network_file.read_text())
    except (OSError, ValueError):
        network = {}
    urls = [url for name, url in sorted(network.items()) if name.startswith("storage-") and isinstance(url, str)]
    return urls or [f"http://{settings.storage_host}:{settings.storage_port}"]


def _status(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(f"{url.rstrip('/')}/mining", timeout=STATUS_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"storage node {url} does not answer: {exc}") from exc
    if response.status_code != 200:
        raise click.ClickException(f"storage node {url} has no mining status (HTTP {response.status_code})")
    return response.json()


def _ether(wei: int) -> str:
    return f"{wei / ETHER:.9g} 0G"


def _rate(value: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}/s"
    return f"{value:.0f} /s"


def _describe(url: str, s: dict[str, Any]) -> str:
    """The status as short lines (they must not wrap in an 80-column terminal)."""
    answers = s.get("answers", {})
    pending = answers.get("found", 0) + answers.get("sent", 0)
    target = s.get("target")
    lines = [
        f"node         {url}",
        f"miner id     {s['minerId']}",
        f"owner        {s['owner']} (shard {s['shardId']}/{s['numShard']})",
        f"beneficiary  {s['beneficiary']}",
        f"state        {s.get('state', '?')}",
        f"epoch        {s.get('epoch', '-')}, flow of {s.get('flowLength', '-')} sectors",
        f"hash rate    {_rate(s.get('hashRate', 0.0))} hashes, {_rate(s.get('nonceRate', 0.0))} nonces, "
        f"{s.get('workers')} workers",
        f"searched     {s.get('tried', 0)} nonces, {s.get('hashed', 0)} hashes",
        f"difficulty   {(2**256 - 1) // target if target else '-'}",
        f"answers      {answers.get('accepted', 0)} accepted, {answers.get('rejected', 0)} rejected, "
        f"{answers.get('failed', 0)} dropped, {pending} pending",
        f"earned       {_ether(s.get('rewardsWei', 0))} in {s.get('rewardCount', 0)} payouts",
        f"withdrawn    {_ether(s.get('withdrawnWei', 0))}",
        f"to claim     {_ether(s.get('pendingWei', 0))}",
        f"data         {s.get('sealedSegments', 0)} sealed ({s.get('toSeal', 0)} to seal), "
        f"{s.get('heldSegments', 0)} mined, {s.get('missingSegments', 0)} missing segments",
    ]
    if s.get("lastError"):
        lines.append(f"last error   {s['lastError']} (at {s.get('lastErrorAt', '?')})")
    return "\n".join(lines)


@miner.command()
@click.option("--node", "node_url", help="Storage node URL (default: the local network's mining node).")
@pass_cli
def status(ctx: CliContext, node_url: str | None) -> None:
    """Hash rate, answers and rewards of a mining storage node."""
    if node_url:
        url, found = node_url, _status(node_url)
        if not found.get("enabled"):
            raise click.ClickException(f"storage node {node_url} does not mine (start it with ZG_STORAGE_MINING=true)")
    else:
        candidates = _node_urls(ctx)
        mining = [(url, s) for url in candidates if (s := _status(url)).get("enabled")]
        if not mining:
            raise click.ClickException(f"none of the storage nodes {', '.join(candidates)} mines")
        url, found = mining[0]
    ctx.emit({"node": url, **found}, _describe(url, found))


@miner.command()
@click.option(
    "--signer",
    is_flag=True,
    help="Withdraw for the default signer (ZG_PRIVATE_KEY / ZG_KEYSTORE) instead of the mining key, when it is "
    "the beneficiary.",
)
@pass_cli
def claim(ctx: CliContext, signer: bool) -> None:
    """Withdraw the mining rewards credited to the beneficiary (pull payment from the reward pool)."""
    from web3.logs import DISCARD

    from services.storage_miner.config import StorageNodeSettings
    from services.storage_miner.mining.config import miner_account
    from zerog.accounts import load_account
    from zerog.chain import Deployment, get_web3, send_transaction
    from zerog.storage.contracts import MINE, REWARD

    settings = ctx.load(StorageNodeSettings)
    w3 = get_web3(settings)
    deployment = Deployment.for_settings(settings, w3.eth.chain_id)
    deployment.require("storage mining", (MINE, REWARD))
    account = load_account(settings) if signer else miner_account(settings)
    reward = deployment.contract(w3, REWARD)
    credited = reward.functions.balanceOf(account.address).call()
    if credited == 0:
        raise click.ClickException(f"nothing to withdraw: {account.address} has no credited mining rewards")
    receipt = send_transaction(w3, account, reward.functions.withdraw(), decoder=deployment.error_decoder())
    [event] = reward.events.Withdrawn().process_receipt(receipt, errors=DISCARD)
    amount = int(event["args"]["amount"])
    tx_hash = receipt["transactionHash"].to_0x_hex()
    ctx.emit(
        {"account": account.address, "amountWei": amount, "txHash": tx_hash},
        f"withdrew {_ether(amount)} to {account.address} in tx {tx_hash}",
    )
