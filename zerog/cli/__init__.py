"""`zg`: the command line of the 0G stack. Each area lives in its own module, imported lazily."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from zerog.cli.context import CliContext

#: command name -> (module, attribute), loaded only when that command runs.
COMMANDS = {
    "chain": ("zerog.cli.chain", "chain"),
    "deploy": ("zerog.cli.deploy", "deploy"),
    "up": ("zerog.cli.up", "up"),
    "faucet": ("zerog.cli.faucet", "faucet"),
    "storage": ("zerog.cli.storage", "storage"),
    "compute": ("zerog.cli.compute", "compute"),
    "da": ("zerog.cli.da", "da"),
    "explorer": ("zerog.cli.explorer", "explorer"),
    "market": ("zerog.cli.market", "market"),
    "network": ("zerog.cli.network", "network"),
    "demo": ("zerog.cli.demo", "demo"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
# The settings read ZG_NETWORK, ZG_RPC_URL and ZG_DATA_DIR themselves: a flag given is then told apart from the env.
@click.option(
    "--network",
    metavar="local|galileo|mainnet|PATH",
    help="Network profile (env ZG_NETWORK; default local, what `zg up` runs): see `zg network ls`.",
)
@click.option("--rpc-url", help="EVM JSON-RPC endpoint (env ZG_RPC_URL; default: the network's).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="State directory (env ZG_DATA_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print data as JSON.")
@click.version_option(package_name="zerog")
@click.pass_context
def cli(ctx: click.Context, network: str | None, rpc_url: str | None, data_dir: Path | None, as_json: bool) -> None:
    """The 0G stack on one machine: chain, storage, compute, DA, faucet."""
    ctx.obj = CliContext(overrides={"network": network, "rpc_url": rpc_url, "data_dir": data_dir}, as_json=as_json)


def main() -> None:
    cli(prog_name="zg")
