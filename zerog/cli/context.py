"""What every `zg` command shares: settings built from env + global flags, and the output mode."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import Any

import click
from rich.console import Console

from zerog.config import S, Settings, load_settings
from zerog.explorer import ExplorerLinks, explorer_links
from zerog.explorer.settings import ExplorerSettings


@dataclass
class CliContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False
    console: Console = field(default_factory=Console)

    @cached_property
    def settings(self) -> Settings:
        """The core settings (chain, account, data dir) with the global flags."""
        return load_settings(Settings, **self.overrides)

    def load(self, cls: type[S], **overrides: Any) -> S:
        """A component's settings with the global flags and then the command's (None = not given) on top."""
        return load_settings(cls, **{**self.overrides, **{k: v for k, v in overrides.items() if v is not None}})

    @cached_property
    def links(self) -> ExplorerLinks | None:
        """Links into the network's explorer (network.json's `explorer`, ZG_EXPLORER_URL), None without one."""
        return explorer_links(self.load(ExplorerSettings))

    def emit(self, data: Any, human: str) -> None:
        """Data as JSON with --json, else the human-readable line(s)."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            self.console.print(human, highlight=False)


pass_cli = click.make_pass_decorator(CliContext)


def with_client(path: str) -> Callable[[Any], Any]:
    """A decorator injecting, after the CliContext, the SDK client `module:Class` for the configured account
    (imported and built when the command runs: `--help` needs neither the chain nor the import)."""

    def decorate(fn: Any) -> Any:
        @wraps(fn)
        @pass_cli
        def wrapper(ctx: CliContext, *args: Any, **kwargs: Any) -> Any:
            module, name = path.split(":")
            return fn(ctx, getattr(importlib.import_module(module), name)(ctx.settings), *args, **kwargs)

        return wrapper

    return decorate
