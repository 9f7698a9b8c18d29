"""The optional parts of the install, and the one error for a missing one.

`pip install zerog` is the SDK and the `zg` CLI. The compute provider's model needs torch
(`pip install 'zerog[provider]'`); deploying the contracts needs ape (`pip install 'zerog[devnet]'`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec

from zerog.errors import ZeroGError


@dataclass(frozen=True)
class Extra:
    name: str  #: zerog[name]
    module: str  #: the top-level module it brings
    needed_by: str  #: what needs it, for the error message


PROVIDER = Extra("provider", "torch", "the compute provider")
DEVNET = Extra("devnet", "ape", "deploying the contracts")


class MissingExtraError(ZeroGError):
    """Something needs a package that only an extra installs."""

    def __init__(self, extra: Extra) -> None:
        super().__init__(f"{extra.needed_by} needs {extra.module}: pip install 'zerog[{extra.name}]'")
        self.extra = extra


def require(extra: Extra) -> None:
    """MissingExtraError unless the extra's module is installed (found, not imported: torch takes seconds)."""
    if find_spec(extra.module) is None:
        raise MissingExtraError(extra)


@contextmanager
def importing(extra: Extra) -> Iterator[None]:
    """Around a lazy import of code that needs `extra`: the extra's module missing → MissingExtraError."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != extra.module:
            raise
        raise MissingExtraError(extra) from exc
