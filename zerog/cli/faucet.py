"""`zg faucet`: ask the faucet service for test tokens."""

from __future__ import annotations

import click

from zerog.cli.context import CliContext, pass_cli
from zerog.cli.daemons import start_command
from zerog.config import ETHER


@click.group()
def faucet() -> None:
    """The faucet: test tokens for any address."""


@faucet.command()
@click.argument("address")
@click.option("--url", help="Faucet URL (default: the local network's faucet).")
@pass_cli
def claim(ctx: CliContext, address: str, url: str | None) -> None:
    """Send one drip to ADDRESS (a 0x address, e.g. from MetaMask)."""
    from zerog.faucet import claim as request_claim
    from zerog.faucet.contracts import CONTRACTS
    from zerog.faucet.settings import FaucetSettings

    if url is None and (profile := ctx.settings.profile) is not None:
        profile.require("faucet", CONTRACTS)  # a public network's faucet is a web page, not our service
    result = request_claim(url or ctx.load(FaucetSettings).faucet_url, address)
    amount = int(result["amount"])
    text = f"sent {amount / ETHER:g} 0G to {result['address']} in tx {result['txHash']}"
    if ctx.links is not None:
        result = {**result, "explorer": ctx.links.tx(result["txHash"])}
        text += f"\nview {result['explorer']}"
    ctx.emit(result, text)


faucet.add_command(
    start_command(
        "services.faucet.main:DAEMON",
        "Run the faucet in the foreground: its page and API (port 8600 by default), drips sent through the Faucet "
        "contract with ZG_FAUCET_PRIVATE_KEY.",
    )
)
