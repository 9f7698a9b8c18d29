"""`pip install zerog` without extras, for real: the SDK and the `zg` CLI work, torch and ape are not there, and
what needs them says which extra to install.

One fresh venv and one non-editable install for the whole module (about 40 s, most of it pip resolving the
pinned set): the project's files, as a clone has them plus uncommitted ones, are copied out of the checkout (pip
builds in the source tree) and built into a wheel, C extension included; the venv is driven by this Python's pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from chain_node.process import free_port
from zerog.storage.merkle import FileTree

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECONDS = 600
RUN_TIMEOUT_SECONDS = 60
TORCH_MESSAGE = "the compute provider needs torch: pip install 'zerog[provider]'"
APE_MESSAGE = "deploying the contracts needs ape: pip install 'zerog[devnet]'"


@dataclass
class BareVenv:
    bin: Path
    env: dict[str, str]
    install_seconds: float

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command of the venv (`zg`, `python`) with nothing of the outer environment on its paths."""
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            env=self.env,
            cwd=self.env["HOME"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )


def _source_copy(dest: Path) -> Path:
    """The project's files (tracked and untracked, not ignored: no .venv, node_modules, build output)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = REPO_ROOT / name
        if source.is_file():  # a file deleted but not yet staged is still listed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> BareVenv:
    root = tmp_path_factory.mktemp("bare")
    source = _source_copy(root / "src")
    venv = root / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # Nothing of the checkout on the path (PYTHONPATH would import the source instead of the installed package).
    outer = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q"]
        + ["--disable-pip-version-check", "-c", str(source / "constraints.txt"), str(source)],
        env=outer,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr[-4000:]
    home = root / "home"  # no ~/.zerog/network.json, no model cache
    home.mkdir()
    env = {k: v for k, v in outer.items() if not k.startswith("ZG_")}
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), os.defpath]),  # no outer venv: no ape, no anvil
        HOME=str(home),
        ZG_RPC_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    return BareVenv(venv / "bin", env, time.monotonic() - started)


def test_bare_install__has_neither_torch_nor_ape(bare: BareVenv) -> None:
    for module in ("torch", "ape"):
        result = bare.run("python", "-c", f"import {module}")
        assert result.returncode == 1 and f"No module named '{module}'" in result.stderr, result.stderr
    # The model is the provider's, not the SDK's, and cannot load without torch.
    probe = "import importlib.util, zerog; print(importlib.util.find_spec('zerog.compute.model'))"
    assert bare.run("python", "-c", probe).stdout.strip() == "None"
    result = bare.run("python", "-c", "import services.compute_provider.model.network")
    assert "No module named 'torch'" in result.stderr


def test_bare_install__storage_root_is_the_sdks(bare: BareVenv, tmp_path: Path) -> None:
    data = tmp_path / "file.bin"
    data.write_bytes(bytes(range(256)) * 1234 + b"tail")  # several segments, a partial chunk
    result = bare.run("zg", "storage", "root", str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == FileTree.from_path(data).root_hex
    # The keccak merkle loop is the built C extension, not a fallback.
    probe = "from zerog.storage import _merkle; print(_merkle.__file__)"
    assert bare.run("python", "-c", probe).stdout.strip().endswith(".so")


def test_bare_install__commands_without_a_chain_fail_cleanly(bare: BareVenv) -> None:
    result = bare.run("zg", "compute", "ls")
    assert result.returncode == 1
    assert f"Error: no EVM node answers at {bare.env['ZG_RPC_URL']}" in result.stderr
    assert "Traceback" not in result.stderr
    help_ = bare.run("zg", "da", "status", "--help")
    assert help_.returncode == 0 and "Usage: zg da status" in help_.stdout, help_.stderr


def test_bare_install__what_needs_an_extra_names_it(bare: BareVenv) -> None:
    for args, message in [
        (("compute", "model", "train"), TORCH_MESSAGE),
        (("compute", "provider", "start"), TORCH_MESSAGE),
        (("deploy",), APE_MESSAGE),
        (("up",), APE_MESSAGE),
    ]:
        result = bare.run("zg", *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.strip() == f"Error: {message}", (args, result.stderr)
    daemon = bare.run("python", "-m", "services.compute_provider")
    assert daemon.returncode == 1 and TORCH_MESSAGE in daemon.stdout, daemon.stdout + daemon.stderr
    assert not (Path(bare.env["HOME"]) / ".zerog").exists()  # `zg up` started nothing
