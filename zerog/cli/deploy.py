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

    settings = ctx.load(NetworkSettings)
    if (profile := settings.profile) is not None and profile.contracts is not None:
        # Its contracts are 0G's: a manifest of ours there would never be read, and deploying costs real funds.
        raise click.UsageError(
            f"network {profile.name} runs 0G's contracts (its profile names them): deploy ours to a network of your "
            "own, a profile without `contracts`"
        )
    manifest, output = run(settings)
    addresses = {name: c["address"] for name, c in manifest.data["contracts"].items()}
    lines = [f"manifest {manifest.path}"] + [f"  {name}: {addr}" for name, addr in addresses.items()]
    if "nothing to do" in output:
        lines.insert(0, "deployment is current: nothing deployed")
    ctx.emit({"manifest": str(manifest.path), "chainId": manifest.chain_id, "contracts": addresses}, "\n".join(lines))
