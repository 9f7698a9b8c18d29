"""`zg demo`: walk the whole stack on the running local network and print where to see each step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from zerog.cli.context import CliContext, pass_cli

if TYPE_CHECKING:
    from zerog.devnet.demo import Step


@click.command()
@pass_cli
def demo(ctx: CliContext) -> None:
    """Upload a dataset and a model and list them, let a second provider buy the model's key and serve it from
    Storage, buy the dataset, pay for a chat, and attest a DA blob — with an explorer link (or tx hash) for each
    step. Runs on the local network (`zg up`), with its dev accounts."""
    from zerog.devnet.demo import run_demo
    from zerog.devnet.settings import NetworkSettings

    steps: list[dict[str, Any]] = []

    def report(step: Step) -> None:
        links = ctx.links
        data: dict[str, Any] = {"step": step.title, "lines": step.lines, "txs": dict(step.txs)}
        lines = [f"[bold]{len(steps) + 1}. {step.title}[/bold]", *(f"   {line}" for line in step.lines)]
        pages = []
        if links is not None:
            pages += [links.listing(step.listing)] if step.listing is not None else []
            pages += [links.storage(step.storage_root)] if step.storage_root else []
            pages += [links.da(step.da_root)] if step.da_root else []
            pages += [links.tx(tx) for _, tx in step.txs]
            data["explorer"] = pages
            lines += [f"   view [cyan]{url}[/cyan]" for url in pages]
        else:
            lines += [f"   {what} tx {tx}" for what, tx in step.txs]
        steps.append(data)
        if not ctx.as_json:
            ctx.console.print("\n".join(lines), highlight=False)

    run_demo(ctx.load(NetworkSettings), report)
    if ctx.as_json:
        ctx.emit(steps, "")
    else:
        ctx.console.print("[bold]done[/bold]: `zg market ls` lists what the demo put on the marketplace.")
