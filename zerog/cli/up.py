"""`zg up`: start the whole local network and print how to reach it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from zerog.cli.context import CliContext, pass_cli
from zerog.config import ETHER
from zerog.networks import LOCAL

if TYPE_CHECKING:
    from zerog.devnet.network import Network


@click.command()
@click.option("--data-dir", type=click.Path(path_type=Path), help="State of chain and daemons (default ~/.zerog).")
@click.option("--port", type=int, help="Chain JSON-RPC port (default 8545).")
@click.option("--faucet-port", type=int, help="Faucet port (default 8600).")
@click.option("--storage-ports", help="Comma-separated ports of the storage nodes, one shard each (default 5678,5679).")
@click.option("--storage-full-port", type=int, help="Port of the full-replica storage node (default 5680; 0: none).")
@click.option("--indexer-port", type=int, help="Storage indexer port (default 12345).")
@click.option("--kv-port", type=int, help="KV node port (default 6789).")
@click.option("--compute-port", type=int, help="Compute provider port (default 8700).")
@click.option("--da-signer-base-port", type=int, help="First DA signer's port; signer i uses base + i (default 8800).")
@click.option("--da-disperser-port", type=int, help="DA disperser gRPC port (default 51001).")
@click.option("--da-disperser-http-port", type=int, help="DA disperser /health port (default 51002).")
@click.option("--explorer-port", type=int, help="Explorer port (default 8900).")
@click.option("--block-time", type=float, help="Seconds between idle blocks (default 1; 0: one per transaction).")
@pass_cli
def up(
    ctx: CliContext,
    data_dir: Path | None,
    port: int | None,
    faucet_port: int | None,
    storage_ports: str | None,
    storage_full_port: int | None,
    indexer_port: int | None,
    kv_port: int | None,
    compute_port: int | None,
    da_signer_base_port: int | None,
    da_disperser_port: int | None,
    da_disperser_http_port: int | None,
    explorer_port: int | None,
    block_time: float | None,
) -> None:
    """Start chain + contracts + every daemon; Ctrl-C stops them all. Writes <data-dir>/network.json."""
    from chain_node import ChainNode
    from zerog.devnet.network import Network, check_installed, wait_for_signal
    from zerog.devnet.settings import NetworkSettings

    check_installed()

    overrides = {
        "data_dir": data_dir,
        "chain_port": port,
        "faucet_port": faucet_port,
        "storage_ports": storage_ports,
        "storage_full_port": storage_full_port,
        "indexer_port": indexer_port,
        "kv_port": kv_port,
        "compute_port": compute_port,
        "da_signer_base_port": da_signer_base_port,
        "da_disperser_port": da_disperser_port,
        "da_disperser_http_port": da_disperser_http_port,
        "explorer_port": explorer_port,
        "block_time": block_time,
    }
    settings = ctx.load(NetworkSettings, **overrides)
    if settings.network != LOCAL:
        raise click.UsageError(f"`zg up` runs the local network, not {settings.network} (drop --network / ZG_NETWORK)")
    # The endpoints follow the ports chosen here, never a stale network.json.
    s = settings
    settings = settings.model_copy(
        update={
            "rpc_url": f"http://{s.chain_host}:{s.chain_port}",
            "faucet_url": f"http://{s.faucet_host}:{s.faucet_port}",
            "indexer_url": f"http://{s.indexer_host}:{s.indexer_port}",
            "kv_url": f"http://{s.kv_host}:{s.kv_port}",
            "explorer_url": f"http://{s.explorer_host}:{s.explorer_port}",
        }
    )
    network = Network(settings, ChainNode(settings))
    console = ctx.console
    try:
        network.start(log=lambda msg: console.print(f"[dim]…[/dim] {msg}"))
        _show(ctx, network)
        if gone := wait_for_signal(network):
            raise click.ClickException(f"{gone} exited unexpectedly; logs are in {settings.data_dir / 'logs'}")
    finally:
        console.print("[dim]…[/dim] stopping")
        network.stop()


def _show(ctx: CliContext, network: Network) -> None:
    info = network.info
    if ctx.as_json:
        ctx.emit({**info, "devAccounts": [a for a, _ in network.dev_accounts()]}, "")
        return
    console = ctx.console
    endpoints = Table(title="0G local network is up", show_header=False)
    for key, value in info.items():
        endpoints.add_row(key, str(value))
    console.print(endpoints)
    console.print(
        "[bold]MetaMask[/bold]: Add network → RPC URL "
        f"[cyan]{info['rpc']}[/cyan], chain id [cyan]{info['chainId']}[/cyan], currency symbol [cyan]0G[/cyan]"
    )
    accounts = Table(title="Funded dev accounts (anvil's public test mnemonic; local use only)")
    accounts.add_column("#")
    accounts.add_column("address")
    accounts.add_column("balance (0G)", justify="right")
    for i, (address, balance) in enumerate(network.dev_accounts()):
        accounts.add_row(str(i), address, f"{balance / ETHER:,.4f}")
    console.print(accounts)
    console.print(f"explorer: [cyan]{info.get('explorer')}[/cyan]   faucet page: [cyan]{info.get('faucet')}[/cyan]")
    console.print(f"network file: {network.settings.network_file}")
    console.print("Walk the whole stack on it: [bold]zg demo[/bold] (in another terminal).  Ctrl-C stops everything.")
