"""Runs anvil as the local 0G chain: project chain id, dev accounts, state kept in the data dir."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from chain_node.process import port_in_use, spawn, stop, wait_until
from chain_node.settings import ChainNodeSettings
from zerog.config import DEV_MNEMONIC
from zerog.errors import ZeroGError

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Seconds between state dumps, so even a kill -9 loses at most this much chain history.
STATE_INTERVAL_SECONDS = 1
START_TIMEOUT_SECONDS = 30


class ChainNodeError(ZeroGError):
    """The bundled node cannot start (anvil missing, port busy, bad state file)."""


def find_anvil() -> str:
    """The anvil binary itself: npm's `anvil` on PATH is a node wrapper that would outlive our signals."""
    packaged = sorted(REPO_ROOT.glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))
    found = shutil.which("anvil", path=str(Path(sys.executable).parent)) or (
        str(packaged[0]) if packaged else shutil.which("anvil")
    )
    if not found:
        raise ChainNodeError("anvil not found: run `make install` (or `npm install` in the project root)")
    return found


class ChainNode:
    """One anvil process. State lives in `<data_dir>/chain/state.json` and survives restarts."""

    def __init__(self, settings: ChainNodeSettings) -> None:
        self.settings = settings
        self.dir = settings.data_dir / "chain"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.settings.chain_host}:{self.settings.chain_port}"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def log_file(self) -> Path:
        return self.dir / "anvil.log"

    def command(self) -> list[str]:
        s = self.settings
        cmd = [
            find_anvil(),
            "--host", s.chain_host,
            "--port", str(s.chain_port),
            "--chain-id", str(s.chain_id),
            "--hardfork", "prague",
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(s.dev_accounts),
            "--balance", str(s.dev_balance_ether),
            "--state", str(self.state_file),
            "--state-interval", str(STATE_INTERVAL_SECONDS),
        ]  # fmt: skip
        if s.block_time:
            cmd += ["--block-time", str(s.block_time), "--mixed-mining"]
        return cmd

    def start(self) -> None:
        s = self.settings
        if port_in_use(s.chain_host, s.chain_port):
            raise ChainNodeError(
                f"port {s.chain_port} on {s.chain_host} is busy: is another chain running? "
                "(stop it or pick another port with --port / ZG_CHAIN_PORT)"
            )
        cmd = self.command()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = spawn(cmd, self.log_file, death_signal=signal.SIGINT)
        if not wait_until(self._ready, START_TIMEOUT_SECONDS):
            self.stop()
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise ChainNodeError(f"anvil did not start within {START_TIMEOUT_SECONDS}s; its log ends:\n{tail}")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise ChainNodeError(f"anvil exited with code {self.proc.returncode}; its log ends:\n{tail}")
        return port_in_use(self.settings.chain_host, self.settings.chain_port)

    def stop(self) -> None:
        """SIGINT lets anvil write its final state before it exits."""
        if self.proc is not None:
            stop(self.proc, signal.SIGINT)
            self.proc = None

    def __enter__(self) -> ChainNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_until_signal(settings: ChainNodeSettings, ready: Callable[[ChainNode], None]) -> None:
    """Run the chain in the foreground: `ready(node)` once it answers, then until SIGINT/SIGTERM (a clean stop,
    state written) or until anvil dies (ChainNodeError)."""
    stop_event = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_event.set())
    with ChainNode(settings) as node:
        ready(node)
        while not stop_event.wait(0.5):
            if node.proc is not None and node.proc.poll() is not None:
                raise ChainNodeError(f"anvil exited with code {node.proc.returncode}; see {node.log_file}")
