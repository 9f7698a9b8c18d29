"""The DA network of the daemon tests: a bundled chain with every contract deployed and four signer daemons as
real subprocesses on free ports (`python -m services.da_signer`), plus the client and `zg` CLI runners."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain_node.process import free_port, spawn, stop, wait_until
from tests.conftest import REPO_ROOT, tool_env
from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.da.client import DAClient
from zerog.da.contracts import DAContracts
from zerog.devnet.settings import NetworkSettings

START_TIMEOUT_SECONDS = 60
ZG = str(Path(sys.executable).parent / "zg")


class SignerDaemon:
    """One `python -m services.da_signer` process; its log is `<data_dir>/da-signer-<index>.log`."""

    def __init__(self, settings: NetworkSettings, index: int, **env: str) -> None:
        self.settings = settings
        self.index = index
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "ZG_DA_SIGNER_INDEX": str(index),
            "ZG_DA_SIGNER_PORT": str(self.port),
            "ZG_DA_SIGNER_URL": self.url,
            "ZG_POLL_INTERVAL": "0.1",
            **env,
        }
        self.log_path = settings.data_dir / f"da-signer-{index}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=30)

    def spawn(self) -> SignerDaemon:
        self.proc = spawn([sys.executable, "-m", "services.da_signer"], self.log_path,
                          env=tool_env(self.settings, **self.env), cwd=REPO_ROOT)  # fmt: skip
        return self

    def wait_healthy(self) -> SignerDaemon:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"signer {self.index} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.http.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"signer {self.index} did not become healthy in {START_TIMEOUT_SECONDS}s:\n{self.log()}")

    def start(self) -> SignerDaemon:
        return self.spawn().wait_healthy()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT) -> int:
        code = stop(self.proc, sig) if self.proc is not None else 0
        self.proc = None
        return code

    def kill(self) -> None:
        """kill -9: no cleanup at all."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(f"{self.url}{path}", **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(f"{self.url}{path}", **kwargs)


@dataclass
class DANetwork:
    settings: NetworkSettings
    signers: list[SignerDaemon]
    extra: list[SignerDaemon] = field(default_factory=list)

    def client(self, **overrides: Any) -> DAClient:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return DAClient(settings, dev_account(0))

    @property
    def contracts(self) -> DAContracts:
        return DAContracts.from_settings(self.settings, connect(self.settings.rpc_url))

    def ensure_running(self) -> None:
        """Restart signers a test stopped (tests leave the network as they found it)."""
        stopped = [s for s in self.signers if not s.running]
        for signer in stopped:
            signer.spawn()
        for signer in stopped:
            signer.wait_healthy()

    def zg(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The `zg` CLI against this network (settings through the environment, as a user would)."""
        full = {**tool_env(self.settings), **env}
        return subprocess.run([ZG, *args], cwd=REPO_ROOT, env=full, capture_output=True, text=True, timeout=180,
                              check=False)  # fmt: skip

    def stop(self) -> None:
        for signer in [*self.signers, *self.extra]:
            signer.stop()


def start_network(settings: NetworkSettings, count: int = 4) -> DANetwork:
    signers = [SignerDaemon(settings, i).spawn() for i in range(count)]
    for signer in signers:
        signer.wait_healthy()
    return DANetwork(settings, signers)


def env_without(prefix: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(prefix)}


@contextmanager
def altda_server(settings: NetworkSettings) -> Iterator[str]:
    """`zg da server` on a free port for `settings`' DA network, as an operator runs it; its URL, until exit."""
    port = free_port()
    log_path = settings.data_dir / "altda.log"
    proc = spawn([str(Path(sys.executable).parent / "zg"), "da", "server", "--port", str(port)], log_path,
                 env=tool_env(settings), cwd=REPO_ROOT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None

    try:
        assert wait_until(up, 60, 0.1) and proc.poll() is None, log_path.read_text()
        yield url
    finally:
        stop(proc, signal.SIGINT, timeout=30)
