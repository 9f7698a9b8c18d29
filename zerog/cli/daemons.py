"""`zg … start`: run one daemon in the foreground, alone, against any chain — the entry point `zg up` runs too."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from zerog.cli.context import CliContext, pass_cli


def setting(flag: str, field: str, help: str, **kwargs: Any) -> click.Option:
    """A command-line option that sets the settings field `field` (None: not given, the env/.env value stands)."""
    return click.Option([flag, field], help=help, default=None, **kwargs)


def start_command(entry: str, help: str, *options: click.Option, name: str = "start") -> click.Command:
    """A command serving the daemon `module:DAEMON` (a services.common.serve.DaemonEntry, imported when the command
    runs) with --host, --port, --data-dir and `options` over its settings. It checks, before it serves, that the
    chain answers and holds the deployment's contracts; it exits with the daemon's code (1: bad settings)."""

    @click.command(name, help=help)
    @click.option("--host", help="Address to listen on (127.0.0.1 by default; 0.0.0.0 for every interface).")
    @click.option("--port", type=int, help="Port to listen on.")
    @click.option("--data-dir", type=click.Path(path_type=Path), help="State directory of this daemon.")
    @pass_cli
    def start(ctx: CliContext, host: str | None, port: int | None, data_dir: Path | None, **fields: Any) -> None:
        from services.common.serve import setup_logging

        module, attr = entry.split(":")
        daemon = getattr(importlib.import_module(module), attr)
        address = {f"{daemon.component}_host": host, f"{daemon.component}_port": port, "data_dir": data_dir}
        setup_logging()
        code = daemon.serve(ctx.load(daemon.settings_class, **address, **fields))
        if code:
            raise SystemExit(code)

    start.params.extend(options)
    return start
