"""`zg chain`: run and inspect the bundled chain."""

from __future__ import annotations

import click

from zerog.cli.context import CliContext, pass_cli


@click.group()
def chain() -> None:
    """The bundled EVM chain (anvil with the 0G local chain id)."""


@chain.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="JSON-RPC port (default 8545).")
@click.option("--chain-id", type=int, help="Chain id (default: the local 0G dev chain id).")
@click.option("--block-time", type=float, help="Seconds between idle blocks (default 1; 0: one per transaction).")
@pass_cli
def start(ctx: CliContext, host: str | None, port: int | None, chain_id: int | None, block_time: float | None) -> None:
    """Run the chain in the foreground; its state persists in the data dir. Ctrl-C stops it."""
    from chain_node import ChainNodeError, run_until_signal
    from chain_node.settings import ChainNodeSettings

    settings = ctx.load(ChainNodeSettings, chain_host=host, chain_port=port, chain_id=chain_id, block_time=block_time)
    try:
        run_until_signal(
            settings,
            lambda node: ctx.emit(
                {"rpc": node.rpc_url, "chainId": settings.chain_id, "state": str(node.state_file)},
                f"chain {settings.chain_id} listening on {node.rpc_url} (state: {node.state_file}); Ctrl-C stops it",
            ),
        )
    except ChainNodeError as exc:
        raise click.ClickException(exc.message) from exc


@chain.command()
@pass_cli
def status(ctx: CliContext) -> None:
    """Chain id, head block and gas price of the configured RPC endpoint."""
    from zerog.chain import get_web3

    w3 = get_web3(ctx.settings)
    head = w3.eth.get_block("latest")
    data = {
        "rpc": ctx.settings.rpc_url,
        "chainId": w3.eth.chain_id,
        "block": head["number"],
        "blockHash": head["hash"].to_0x_hex(),
        "gasPrice": w3.eth.gas_price,
    }
    ctx.emit(data, f"chain {data['chainId']} at {data['rpc']}: block {data['block']} ({data['blockHash']})")
