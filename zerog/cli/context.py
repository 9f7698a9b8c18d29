"""What every `zg` command shares: settings built from env + global flags, and the output mode."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import click
from rich.console import Console

from zerog.config import Settings, load_settings


@dataclass
class CliContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False
    console: Console = field(default_factory=Console)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(**self.overrides)

    def with_overrides(self, **overrides: Any) -> Settings:
        """Settings with command-level flags on top of the global ones (None = not given)."""
        return load_settings(**{**self.overrides, **{k: v for k, v in overrides.items() if v is not None}})

    def emit(self, data: Any, human: str) -> None:
        """Data as JSON with --json, else the human-readable line(s)."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            self.console.print(human, highlight=False)


pass_cli = click.make_pass_decorator(CliContext)
