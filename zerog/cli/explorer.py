"""`zg explorer`: run the block explorer."""

from __future__ import annotations

import click

from zerog.cli.daemons import setting, start_command


@click.group()
def explorer() -> None:
    """The explorer: blocks, transactions and the four networks' records, with an Etherscan-style API."""


explorer.add_command(
    start_command(
        "services.explorer.main:DAEMON",
        "Run the explorer in the foreground: it indexes the chain into SQLite and serves its pages and API "
        "(port 8900 by default).",
        setting("--indexer", "indexer_url", "Storage indexer to ask which nodes hold a file."),
    )
)
