"""`zg up`: the whole local network in one process group — chain, deployment, daemons, network.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chain_node import ChainNode
from chain_node.process import port_in_use, spawn, stop, wait_until
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy, find_ape
from zerog.devnet.settings import NetworkSettings
from zerog.errors import ZeroGError
from zerog.extras import PROVIDER, require

DAEMON_START_TIMEOUT_SECONDS = 60
#: The compute provider may first train its model (about a minute or two on 2 cores).
COMPUTE_START_TIMEOUT_SECONDS = 600


class UpError(ZeroGError):
    """A part of the local network failed to start or died."""


@dataclass
class Daemon:
    """A service started as `python -m <module>`, ready when `health_url` answers 200."""

    name: str
    module: str
    host: str
    port: int
    # Settings this daemon runs with on top of the network's (its port, shard...).
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    # Seconds it may take to become healthy.
    start_timeout: float = DAEMON_START_TIMEOUT_SECONDS
    # The secret settings (its own keys) it is given; no daemon sees another's.
    secrets: tuple[str, ...] = ()
    # A daemon whose API is not the HTTP one on `port` (the DA disperser's gRPC): that port, and its network.json
    # value (else `url`).
    api_port: int | None = None
    endpoint: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ports(self) -> list[int]:
        return [self.port] if self.api_port is None else [self.port, self.api_port]

    @property
    def health_url(self) -> str:
        return f"{self.url}/health"

    def log_file(self, settings: NetworkSettings) -> Path:
        return settings.data_dir / "logs" / f"{self.name}.log"


def daemons(settings: NetworkSettings) -> list[Daemon]:
    """Every daemon `zg up` runs, in start order; later components add theirs here."""
    ports = settings.storage_port_list
    shards = len(ports)
    storage = [
        Daemon(
            f"storage-{i}",
            "services.storage_miner",
            settings.storage_host,
            port,
            {
                "ZG_STORAGE_PORT": str(port),
                "ZG_STORAGE_SHARD_ID": str(i),
                "ZG_STORAGE_NUM_SHARD": str(shards),
                "ZG_STORAGE_NAME": f"storage-{i}",
                # Storage mining: the first node mines its shard (dev account 8 on the local network).
                "ZG_STORAGE_MINING": "true" if i == 0 else "false",
            },
            secrets=("storage_mining_private_key",) if i == 0 else (),
        )
        for i, port in enumerate(ports)
    ]
    if settings.storage_full_port:
        storage.append(
            Daemon(
                "storage-full",
                "services.storage_miner",
                settings.storage_host,
                settings.storage_full_port,
                {
                    "ZG_STORAGE_PORT": str(settings.storage_full_port),
                    "ZG_STORAGE_SHARD_ID": "0",
                    "ZG_STORAGE_NUM_SHARD": "1",
                    "ZG_STORAGE_NAME": "storage-full",
                    "ZG_STORAGE_MINING": "false",
                },
            )
        )
    # Every node learns its peers from the indexer and copies the finalized files of its shard it misses.
    for node in storage:
        node.env["ZG_STORAGE_INDEXER_URL"] = settings.indexer_url
    indexer = Daemon(
        "indexer",
        "services.storage_miner.indexer",
        settings.indexer_host,
        settings.indexer_port,
        {"ZG_INDEXER_NODES": ",".join(d.url for d in storage)},
    )
    # The KV node replays the KV streams of the Flow; it fetches their data through the indexer.
    kv = Daemon("kv", "services.storage_kv", settings.kv_host, settings.kv_port)
    faucet = Daemon(
        "faucet", "services.faucet", settings.faucet_host, settings.faucet_port, secrets=("faucet_private_key",)
    )
    # The compute provider trains its model on first use (cached afterwards): allow it the time.
    # It also fine-tunes (a second service, LoRA adapters of its model), so that flow works out of the box.
    compute = Daemon(
        "compute-provider",
        "services.compute_provider",
        settings.compute_host,
        settings.compute_port,
        {"ZG_COMPUTE_FINE_TUNING": "true"},
        start_timeout=COMPUTE_START_TIMEOUT_SECONDS,
        secrets=("compute_provider_private_key", "compute_signer_private_key"),
    )
    # DA signers: signer i listens on da_signer_base_port + i (dev account 3 + i on the local network).
    da_signers = [
        Daemon(
            f"da-signer-{i}",
            "services.da_signer",
            settings.da_signer_host,
            settings.da_signer_base_port + i,
            {
                "ZG_DA_SIGNER_INDEX": str(i),
                "ZG_DA_SIGNER_PORT": str(settings.da_signer_base_port + i),
                "ZG_DA_SIGNER_URL": f"http://{settings.da_signer_host}:{settings.da_signer_base_port + i}",
                # Dev accounts 3 + i, the genesis signers the deploy registered, whatever key the env holds.
                "ZG_DA_SIGNER_PRIVATE_KEY": "",
            },
        )
        for i in range(settings.da_signers)
    ]
    # The gRPC disperser (0G DA client's API; network.json: its host:port) pays blob fees with its own key (dev
    # account 0 without one).
    host, grpc_port = settings.da_disperser_host, settings.da_disperser_port
    da_disperser = Daemon(
        "da-disperser",
        "services.da_disperser",
        host,
        settings.da_disperser_http_port,
        api_port=grpc_port,
        endpoint=f"[{host}]:{grpc_port}" if ":" in host else f"{host}:{grpc_port}",
        secrets=("da_disperser_private_key", "da_disperser_token", "da_challenger_private_key"),
        # Random sampling challenges of the signers, one a minute (dev account 11 posts the bonds).
        env={"ZG_DA_CHALLENGE_INTERVAL": str(LOCAL_CHALLENGE_INTERVAL)},
    )
    # The explorer indexes the chain from block 0 and asks the indexer which nodes hold a file.
    explorer = Daemon("explorer", "services.explorer", settings.explorer_host, settings.explorer_port)
    return [faucet, *storage, indexer, kv, compute, *da_signers, da_disperser, explorer]


#: Seconds between two random sampling challenges on the local network (`zg up`).
LOCAL_CHALLENGE_INTERVAL = 60

#: Daemons that start only once the named ones are healthy.
_STARTS_AFTER = {"indexer": "storage-", "kv": "indexer", "explorer": "indexer", "da-disperser": "da-signer-"}


def start_waves(all_daemons: list[Daemon]) -> list[list[Daemon]]:
    """`all_daemons` in groups that may start together, each after the previous one is healthy."""
    waves: list[list[Daemon]] = []
    started: list[str] = []
    left = list(all_daemons)
    while left:
        ready = [d for d in left if not (need := _STARTS_AFTER.get(d.name)) or any(n.startswith(need) for n in started)]
        if not ready:
            raise UpError(f"daemons wait for each other: {[d.name for d in left]}")
        waves.append(ready)
        started += [d.name for d in ready]
        left = [d for d in left if d not in ready]
    return waves


def check_installed() -> None:
    """The deploy needs ape and the compute provider torch (the devnet and provider extras): MissingExtraError
    now rather than once the chain runs."""
    find_ape()
    require(PROVIDER)


@dataclass
class Network:
    settings: NetworkSettings
    node: ChainNode
    deployment: Deployment | None = None
    running: list[Daemon] = field(default_factory=list)

    @property
    def info(self) -> dict[str, Any]:
        """What network.json holds: every endpoint, one key per service."""
        info: dict[str, Any] = {
            "rpc": self.node.rpc_url,
            "chainId": self.settings.chain_id,
            "manifest": str(self.deployment.path.resolve()) if self.deployment else None,
            "dataDir": str(self.settings.data_dir.resolve()),
            "pid": os.getpid(),
        }
        info.update({d.name: d.endpoint or d.url for d in self.running})
        return info

    def start(self, log: Any = print) -> None:
        s = self.settings
        if port_in_use(s.chain_host, s.chain_port):
            raise UpError(f"port {s.chain_port} for the chain is busy: is another `zg up` or node running?")
        for d in daemons(s):
            for port in d.ports:
                if port_in_use(d.host, port):
                    raise UpError(f"port {port} for the {d.name} is busy: is another `zg up` running?")
        s.network_file.unlink(missing_ok=True)
        log(f"starting chain {s.chain_id} on {self.node.rpc_url}")
        self.node.start()
        log("deploying contracts")
        self.deployment, _ = deploy(s)
        # Daemons that need no other start together (most of a start is each process importing its libraries);
        # the indexer waits for the storage nodes it lists, the KV node and the explorer for the indexer.
        for wave in start_waves(daemons(s)):
            for d in wave:
                log(f"starting {d.name} on {d.url}")
                d.proc = spawn(
                    [sys.executable, "-m", d.module], d.log_file(s), env=child_env(s, d.secrets, **d.env), cwd=REPO_ROOT
                )
                self.running.append(d)
            for d in wave:
                if not wait_until(lambda d=d: self._healthy(d), d.start_timeout, 0.2):
                    raise UpError(f"{d.name} did not become healthy; see {d.log_file(s)}")
        tmp = s.network_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.info, indent=2) + "\n")
        tmp.replace(s.network_file)

    def _healthy(self, d: Daemon) -> bool:
        if d.proc is not None and d.proc.poll() is not None:
            raise UpError(f"{d.name} exited with code {d.proc.returncode}; see {d.log_file(self.settings)}")
        try:
            return httpx.get(d.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def dead(self) -> list[str]:
        """Names of parts that exited on their own."""
        gone = [d.name for d in self.running if d.proc is not None and d.proc.poll() is not None]
        if self.node.proc is not None and self.node.proc.poll() is not None:
            gone.append("chain")
        return gone

    def stop(self) -> None:
        """Daemons first (they may settle on chain while stopping), the chain last."""
        self.settings.network_file.unlink(missing_ok=True)
        for d in reversed(self.running):
            if d.proc is not None:
                stop(d.proc, signal.SIGINT)
        self.running.clear()
        self.node.stop()

    def dev_accounts(self) -> list[tuple[str, int]]:
        w3 = connect(self.node.rpc_url)
        return [
            (dev_account(i).address, w3.eth.get_balance(dev_account(i).address))
            for i in range(self.settings.dev_accounts)
        ]


def wait_for_signal(network: Network, stop_event: threading.Event | None = None) -> str | None:
    """Block until SIGINT/SIGTERM (None) or until a part dies (its names)."""
    stop_event = stop_event or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_event.set())
    while not stop_event.wait(0.5):
        if gone := network.dead():
            return ", ".join(gone)
    return None
