"""A second EVM beside anvil: a Hardhat Network node (npm `hardhat` 2.x, `hardhat node`) with the local chain's
chain id, dev accounts and hardfork, for the tests that show nothing of ours depends on anvil."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

from chain_node.process import port_in_use, spawn, stop, wait_until
from chain_node.settings import ChainNodeSettings
from tests.conftest import REPO_ROOT
from zerog.config import DEV_MNEMONIC, ETHER

START_TIMEOUT_SECONDS = 60


def find_hardhat() -> Path:
    """The `hardhat` launcher: the project's (`npm ci`), else one on PATH."""
    path = os.pathsep.join([str(REPO_ROOT / "node_modules" / ".bin"), os.environ.get("PATH", "")])
    found = shutil.which("hardhat", path=path)
    if found is None:
        raise FileNotFoundError("hardhat not found: run `npm ci` in the project root (a devDependency)")
    return Path(found)


def install_root(hardhat: Path) -> Path:
    """The npm project `hardhat` is installed in: hardhat refuses to run from anywhere it does not resolve (HH12)."""
    return next(p for p in hardhat.resolve().parents if p.name == "node_modules").parent


class HardhatNode:
    """One `hardhat node` process on `settings`' host and port; its config and log live in `<data_dir>/hardhat`."""

    def __init__(self, settings: ChainNodeSettings) -> None:
        self.settings = settings
        self.dir = settings.data_dir / "hardhat"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.settings.chain_host}:{self.settings.chain_port}"

    @property
    def log_file(self) -> Path:
        return self.dir / "hardhat.log"

    def config(self) -> dict[str, object]:
        """Anvil's setup as `chain_node` runs it: a block per transaction (automine, as the tests' anvil with no
        block time), cancun as ape-config's evm_version; the default contract size limit, which anvil enforces too."""
        s = self.settings
        balance = str(s.dev_balance_ether * ETHER)
        accounts = {"mnemonic": DEV_MNEMONIC, "count": s.dev_accounts, "accountsBalance": balance}
        return {"networks": {"hardhat": {"chainId": s.chain_id, "hardfork": "cancun", "accounts": accounts}}}

    def start(self) -> None:
        s = self.settings
        if port_in_use(s.chain_host, s.chain_port):
            raise RuntimeError(f"port {s.chain_port} on {s.chain_host} is busy")
        hardhat = find_hardhat()
        self.dir.mkdir(parents=True, exist_ok=True)
        config = self.dir / "hardhat.config.js"
        config.write_text(f"module.exports = {json.dumps(self.config(), indent=2)};\n")
        cmd = [str(hardhat), "--config", str(config), "node", "--hostname", s.chain_host, "--port", str(s.chain_port)]
        self.proc = spawn(cmd, self.log_file, death_signal=signal.SIGINT, cwd=install_root(hardhat))
        if not wait_until(self._ready, START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError(f"hardhat did not start in {START_TIMEOUT_SECONDS}s:\n{self.log()}")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"hardhat exited with code {self.proc.returncode}:\n{self.log()}")
        return port_in_use(self.settings.chain_host, self.settings.chain_port)

    def log(self, tail: int = 4000) -> str:
        return self.log_file.read_text(errors="replace")[-tail:] if self.log_file.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGINT)
            self.proc = None

    def __enter__(self) -> HardhatNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
