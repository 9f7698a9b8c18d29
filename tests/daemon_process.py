"""A daemon as users run it: `python -m <module>` over real HTTP, its log in `<data_dir>/<name>.log`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Self

import httpx
import pytest

from chain_node.process import spawn, stop
from tests.conftest import REPO_ROOT, tool_env
from zerog.devnet.settings import NetworkSettings

START_TIMEOUT_SECONDS = 30


class DaemonProcess:
    def __init__(self, settings: NetworkSettings, name: str, module: str, port: int, **env: str) -> None:
        self.settings = settings
        self.name = name
        self.module = module
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = settings.data_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, expect_status: str = "ok") -> Self:
        """Start it and wait until /health answers `expect_status`."""
        self.proc = spawn(
            [sys.executable, "-m", self.module], self.log_path, env=tool_env(self.settings, **self.env), cwd=REPO_ROOT
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2)
                if health.status_code == 200 and health.json()["status"] == expect_status:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name} did not become healthy in {START_TIMEOUT_SECONDS}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGINT) -> int:
        code = stop(self.proc, sig) if self.proc is not None else 0
        self.proc = None
        return code

    def log(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""
