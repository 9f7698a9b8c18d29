"""The provider daemon as a real subprocess (`python -m services.compute_provider`) on a real chain with the
contracts deployed by `ape run deploy`, and users paying it through the SDK."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from chain_node.process import free_port, spawn, stop
from services.compute_provider.model.checkpoint import save_checkpoint
from services.compute_provider.model.network import EOT, ByteLM, ModelConfig
from tests.conftest import REPO_ROOT, tool_env
from zerog.devnet.settings import NetworkSettings

START_TIMEOUT_SECONDS = 120
#: The model the shared daemon trains on its first start (a few seconds).
TEST_MODEL = "zg-bytelm-test"


class ProviderDaemon:
    """One provider process; its log is in `<data_dir>/provider.log`."""

    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.compute_port}"
        self.log_path = settings.data_dir / "provider.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ProviderDaemon:
        self.proc = spawn(
            [sys.executable, "-m", "services.compute_provider"],
            self.log_path,
            env=tool_env(self.settings),
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"provider exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"provider did not become healthy in {START_TIMEOUT_SECONDS}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGINT) -> int:
        code = stop(self.proc, sig) if self.proc is not None else 0
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no final settlement."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""


def provider_settings(settings: NetworkSettings, data_dir: Path, **overrides: Any) -> NetworkSettings:
    port = free_port()
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "compute_port": port,
        "compute_url": None,
        "compute_model_name": TEST_MODEL,
        "compute_model_dir": data_dir / "models",
        "compute_settle_interval": 3600,
        **overrides,
    }
    return settings.model_copy(update=values)


def slow_checkpoint(path: Path) -> Path:
    """An untrained but real ByteLM big enough to stream slowly on CPU (~10 ms/token), which never ends a
    text: its end-of-text embedding is zero, so greedy decoding never picks it."""
    torch.manual_seed(0)
    model = ByteLM(ModelConfig(block_size=256, n_layer=6, n_head=8, n_embd=384))
    with torch.no_grad():
        model.tok_emb.weight[EOT].zero_()
    save_checkpoint(path, model, {"name": "slow-test"})
    return path
