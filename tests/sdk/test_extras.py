"""The one error for a missing extra: only the extra's own module turns into it."""

from __future__ import annotations

import pytest

from zerog.extras import DEVNET, PROVIDER, Extra, MissingExtraError, importing, require


def test_importing__missing_module_of_the_extra_names_the_extra() -> None:
    message = r"^the compute provider needs torch: pip install 'zerog\[provider\]'$"
    with pytest.raises(MissingExtraError, match=message), importing(PROVIDER):
        raise ModuleNotFoundError("No module named 'torch.nn'", name="torch.nn")


def test_importing__another_missing_module_is_not_hidden() -> None:
    with pytest.raises(ModuleNotFoundError, match="torchvision"), importing(PROVIDER):
        raise ModuleNotFoundError("No module named 'torchvision'", name="torchvision")


def test_require__finds_installed_modules_without_importing_them() -> None:
    require(PROVIDER)
    require(DEVNET)
    with pytest.raises(MissingExtraError, match=r"pip install 'zerog\[nothing\]'"):
        require(Extra("nothing", "zerog_no_such_module", "this test"))
