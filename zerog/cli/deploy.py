"""`zg deploy`: deploy the contracts to the configured chain (wraps `ape run deploy`)."""

from __future__ import annotations

import click

from zerog.cli.context import CliContext, pass_cli


@click.command()
@pass_cli
def deploy(ctx: CliContext) -> None:
    """Deploy every contract unless the chain already has this deployment; writes the manifest."""
    from zerog.devnet.deploy import deploy as run
    from zerog.devnet.settings import NetworkSettings

    manifest, output = run(ctx.load(NetworkSettings))
    addresses = {name: c["address"] for name, c in manifest.data["contracts"].items()}
    lines = [f"manifest {manifest.path}"] + [f"  {name}: {addr}" for name, addr in addresses.items()]
    if "nothing to do" in output:
        lines.insert(0, "deployment is current: nothing deployed")
    ctx.emit({"manifest": str(manifest.path), "chainId": manifest.chain_id, "contracts": addresses}, "\n".join(lines))
