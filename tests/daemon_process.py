"""A daemon as users run it: `python -m <module>` over real HTTP, its log in `<data_dir>/<name>.log`. The test
helpers of every daemon (storage node, indexer, provider, DA signer, faucet, explorer) stand on this one."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import ClassVar, Self

import httpx
import pytest

from chain_node.process import spawn, stop
from tests.conftest import REPO_ROOT, tool_env
from zerog.devnet.settings import NetworkSettings


class DaemonProcess:
    #: Seconds it may take to answer /health (a provider may first train its model).
    start_timeout: ClassVar[float] = 30
    #: The /health "status" that counts as started; None: any 200 answer.
    healthy_status: ClassVar[str | None] = None

    def __init__(self, settings: NetworkSettings, name: str, module: str, port: int, **env: str) -> None:
        self.settings = settings
        self.name = name
        self.module = module
        self.port = port
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = settings.data_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=30)

    def spawn(self) -> Self:
        self.proc = spawn(
            [sys.executable, "-m", self.module], self.log_path, env=tool_env(self.settings, **self.env), cwd=REPO_ROOT
        )
        return self

    def wait_healthy(self, status: str | None = None) -> Self:
        """Wait until /health answers 200 with `status` (default: `healthy_status`)."""
        expected = status or self.healthy_status
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                health = self.http.get(f"{self.url}/health", timeout=2)
                if health.status_code == 200 and (expected is None or health.json()["status"] == expected):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name} did not become healthy in {self.start_timeout}s:\n{self.log()}")

    def start(self, status: str | None = None) -> Self:
        return self.spawn().wait_healthy(status)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT) -> int:
        code = stop(self.proc, sig) if self.proc is not None else 0
        self.proc = None
        return code

    def kill(self) -> None:
        """kill -9: no cleanup at all."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""
