"""Amounts of 0G on the command line: parsed from what people type, shown the way they read them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from zerog.config import ETHER

_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(wei|gwei|0g|og|ether|eth)?\s*$", re.IGNORECASE)
_UNITS = {None: ETHER, "0g": ETHER, "og": ETHER, "ether": ETHER, "eth": ETHER, "gwei": 10**9, "wei": 1}


def parse_amount(text: str) -> int:
    """'1.5' or '1.5 0G' → wei; '100wei', '2 gwei' also work."""
    match = _AMOUNT.match(text)
    if not match:
        raise click.BadParameter(f"{text!r} is not an amount (examples: 1.5, 0.01 0G, 2000 gwei, 5 wei)")
    try:
        wei = Decimal(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None]
    except InvalidOperation as exc:
        raise click.BadParameter(f"{text!r} is not an amount") from exc
    if wei != wei.to_integral_value():
        raise click.BadParameter(f"{text!r} is not a whole number of wei")
    return int(wei)


class Amount(click.ParamType):
    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_amount(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


AMOUNT = Amount()


def og(wei: int) -> str:
    return f"{Decimal(wei) / ETHER:f} 0G".replace(".000000000000000000", "")
