"""`zg network`: the network profiles (`--network` / ZG_NETWORK) and the active one."""

from __future__ import annotations

from typing import Any

import click

from zerog.cli.context import CliContext, pass_cli
from zerog.config import LOCAL_CHAIN_ID, Settings, resolve_settings
from zerog.explorer.settings import ExplorerSettings
from zerog.networks import LOCAL, NetworkProfile, builtin_profiles
from zerog.storage.settings import StorageSettings

#: What a profile selects, by the settings class that holds each.
SHOWN: dict[str, type[Settings]] = {
    "network": Settings,
    "chain_id": Settings,
    "rpc_url": Settings,
    "indexer_url": StorageSettings,
    "explorer_url": ExplorerSettings,
}


@click.group()
def network() -> None:
    """Network profiles: the chain, endpoints and contracts `--network` selects."""


@network.command("ls")
@pass_cli
def ls(ctx: CliContext) -> None:
    """The built-in networks."""
    local = {
        "name": LOCAL,
        "description": "what `zg up` runs: the defaults, and the network.json of a running `zg up`",
        "chainId": LOCAL_CHAIN_ID,
        "rpc": Settings.model_fields["rpc_url"].default,
        "indexer": StorageSettings.model_fields["indexer_url"].default,
        "explorer": None,
        "contracts": "ours (deployments/<chainId>.json)",
    }
    rows = [local, *(_row(profile) for profile in builtin_profiles())]
    lines = []
    for row in rows:
        lines.append(f"[bold]{row['name']}[/bold]  {row['description']}")
        lines.append(f"  chain id {row['chainId']}  rpc {row['rpc']}")
        lines.append(f"  indexer {row['indexer'] or '-'}  explorer {row['explorer'] or '-'}")
        lines += [f"  {line}" for line in _contract_lines(row["contracts"])]
    ctx.emit(rows, "\n".join(lines))


def _row(profile: NetworkProfile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "description": profile.description,
        "chainId": profile.chain_id,
        "rpc": profile.rpc_url,
        "indexer": profile.indexer_url,
        "explorer": profile.explorer_url,
        "contracts": _contracts(profile),
        "sources": profile.sources,
    }


def _contracts(profile: NetworkProfile) -> str | dict[str, dict[str, Any]]:
    if profile.contracts is None:
        return "ours (deployments/<chainId>.json)"
    return {name: ref.model_dump() for name, ref in profile.contracts.items()}


@network.command()
@click.option("--check", is_flag=True, help="Also check the network: chain id, contract code, storage contracts.")
@pass_cli
def show(ctx: CliContext, check: bool) -> None:
    """The active network: each setting it selects and where its value came from."""
    resolved = {cls: resolve_settings(cls, **ctx.overrides) for cls in set(SHOWN.values())}
    settings = resolved[Settings][0]
    profile = settings.profile
    shown: dict[str, dict[str, Any]] = {}
    for name, cls in SHOWN.items():
        values, sources = resolved[cls]
        entry = {"value": getattr(values, name), "source": sources[name]}
        if profile is not None and sources[name].startswith("profile") and name in profile.sources:
            entry["published"] = profile.sources[name]
        shown[name] = entry
    data: dict[str, Any] = {"settings": shown}
    if profile is None or profile.contracts is None:
        data["contracts"] = f"ours ({settings.manifest_path(settings.chain_id)})"
    else:
        data["contracts"] = _contracts(profile)
    lines = [f"{name:13} {e['value'] or '-'}  [dim]({_origin(e)})[/dim]" for name, e in shown.items()]
    lines += _contract_lines(data["contracts"])
    if check:
        data["check"] = _check(settings)
        lines.append(
            f"check: chain id {data['check']['chainId']}; Flow {data['check']['flow']} charges through market "
            f"{data['check']['market']} at {data['check']['pricePerSector']} wei per sector"
        )
    ctx.emit(data, "\n".join(lines))


def _contract_lines(contracts: str | dict[str, dict[str, Any]]) -> list[str]:
    if isinstance(contracts, str):
        return [f"contracts: {contracts}"]
    return [
        f"{name} {ref['address']}  [dim](published: {ref['source'] or '-'})[/dim]" for name, ref in contracts.items()
    ]


def _origin(entry: dict[str, Any]) -> str:
    return f"{entry['source']}; published: {entry['published']}" if "published" in entry else entry["source"]


def _check(settings: Settings) -> dict[str, Any]:
    """What sending would check first: the chain id, then the storage contracts' code and interface."""
    from zerog.chain import Deployment, get_web3
    from zerog.storage.contracts import MARKET, flow_contract, market_of

    w3 = get_web3(settings)
    deployment = Deployment.for_settings(settings, w3.eth.chain_id)
    flow = flow_contract(w3, deployment)
    market = market_of(w3, deployment, flow)
    price = deployment.probe(market, MARKET, "pricePerSector")
    return {"chainId": w3.eth.chain_id, "flow": flow.address, "market": market.address, "pricePerSector": price}
