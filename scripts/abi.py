"""Writes the ABIs of our interfaces that 0G's deployment shares into `zerog/abi/` (`ape run abi`): a network profile
drives 0G's contracts through them, and the SDK ships them (no compiler needed at run time)."""

from __future__ import annotations

import json
from typing import Any

import click
from ape import project

from zerog.networks import ABI_DIR, SHARED_INTERFACES


def interface_abi(name: str) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", by_alias=True) for item in getattr(project, name).contract_type.abi]


def main() -> None:
    for interface in SHARED_INTERFACES.values():
        path = ABI_DIR / f"{interface}.json"
        path.write_text(json.dumps(interface_abi(interface), indent=1) + "\n")
        click.echo(f"wrote {path}")
