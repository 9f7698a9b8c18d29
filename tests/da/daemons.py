"""The DA network of the daemon tests: a bundled chain with every contract deployed and four signer daemons as
real subprocesses on free ports (`python -m services.da_signer`), plus the client and `zg` CLI runners."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chain_node.process import free_port, spawn, stop, wait_until
from tests.conftest import REPO_ROOT, tool_env
from tests.daemon_process import DaemonProcess
from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.da.client import DAClient
from zerog.da.contracts import DAContracts
from zerog.devnet.settings import NetworkSettings

ZG = str(Path(sys.executable).parent / "zg")


class SignerDaemon(DaemonProcess):
    """One `python -m services.da_signer` process; its log is `<data_dir>/da-signer-<index>.log`."""

    start_timeout = 60

    def __init__(self, settings: NetworkSettings, index: int, **env: str) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        own = {"ZG_DA_SIGNER_INDEX": str(index), "ZG_DA_SIGNER_PORT": str(port), "ZG_DA_SIGNER_URL": url}
        own["ZG_POLL_INTERVAL"] = "0.1"
        super().__init__(settings, f"da-signer-{index}", "services.da_signer", port, **{**own, **env})
        self.index = index

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


def start_network(settings: NetworkSettings, count: int = 4, env: dict[str, str] | None = None) -> DANetwork:
    signers = [SignerDaemon(settings, i, **(env or {})).spawn() for i in range(count)]
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
