"""One local network for the kill and load tests: a bundled chain with every contract deployed, a mining storage
node, the faucet, four DA signers and a compute provider (a small untrained model that streams slowly), each a
real `python -m <module>` subprocess that a test can kill -9 and start again by the same command line and env.
Figures (faults, bytes lost, double payments, latencies) go to the JSON-lines file in ZG_FAULTS_REPORT if set:
benches/faults.py reads them."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_node import ChainNode
from tests.compute.provider_fixtures import ProviderDaemon, provider_settings, slow_checkpoint
from tests.conftest import make_settings
from tests.da.daemons import DANetwork, start_network
from tests.storage.node_fixtures import Chain, Daemon, start_node
from zerog.accounts import dev_account
from zerog.chain import send_transaction
from zerog.devnet.deploy import run_deploy
from zerog.devnet.settings import NetworkSettings
from zerog.storage.client import Node, connect_nodes

#: Where the tests append their figures (one JSON object a line); unset: nothing is written.
REPORT_ENV = "ZG_FAULTS_REPORT"
#: The provider's dev account (DEV_PROVIDER_INDEX) and the model name of the slow checkpoint.
PROVIDER = dev_account(2)
MODEL = "slow-test"
#: Funds the fresh client accounts (dev 0 deploys and pays DA uploads, 1 drips, 2 serves, 3-6 sign, 8 mines).
FUNDER_DEV_INDEX = 7
CLIENT_FUNDS_WEI = 100 * 10**18
BLOCKS_PER_EPOCH = 10
#: Drips small and a budget and IP limit high enough for the load test (one loopback IP for every client).
DRIP_WEI = 10**15
IP_LIMIT = 100_000


def record(kind: str, **fields: Any) -> None:
    """Append one figure to the report file, if a bench asked for one."""
    path = os.environ.get(REPORT_ENV)
    if path:
        with Path(path).open("a") as out:
            out.write(json.dumps({"kind": kind, **fields}) + "\n")


@dataclass
class FaultNetwork:
    settings: NetworkSettings
    chain: ChainNode
    net: Chain
    node: Daemon
    faucet: Daemon
    da: DANetwork
    provider: ProviderDaemon
    provider_settings: NetworkSettings
    _funded: int = field(default=0)

    @property
    def w3(self) -> Web3:
        return self.net.w3

    def nodes(self) -> list[Node]:
        return connect_nodes([self.node.url])

    def fresh_account(self) -> LocalAccount:
        """A new account with CLIENT_FUNDS_WEI, so concurrent clients never share a nonce."""
        account: LocalAccount = Account.create()
        call = {"to": account.address, "gas": 21_000}
        send_transaction(self.w3, dev_account(FUNDER_DEV_INDEX), call, value=CLIENT_FUNDS_WEI)  # type: ignore[arg-type]
        return account

    def freeze_chain(self) -> int:
        """SIGSTOP the anvil; returns its pid for `thaw_chain`."""
        assert self.chain.proc is not None
        os.kill(self.chain.proc.pid, signal.SIGSTOP)
        return self.chain.proc.pid

    def thaw_chain(self) -> None:
        assert self.chain.proc is not None
        os.kill(self.chain.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        for daemon in (self.provider, self.faucet, self.node):
            daemon.stop()
        self.da.stop()
        self.chain.stop()


def start_fault_network(tmp: Path) -> FaultNetwork:
    settings = make_settings(
        tmp,
        storage_mining_difficulty=1,
        storage_mining_target_answers=2,
        storage_blocks_per_epoch=BLOCKS_PER_EPOCH,
        storage_release_seconds=60,
        storage_sectors_per_pricing_chunk=2048,
        faucet_drip_wei=DRIP_WEI,
        faucet_ip_limit=IP_LIMIT,
    )
    chain = ChainNode(settings)
    chain.start()
    started: list[Any] = []
    try:
        deployed = run_deploy(settings)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        da = start_network(settings)
        started.append(da)
        node = start_node(settings, "node", ZG_STORAGE_MINING="true", ZG_STORAGE_MINING_WORKERS="1")
        started.append(node)
        port = str(settings.faucet_port)
        faucet = Daemon("services.faucet", settings, "faucet", settings.faucet_port, {"ZG_FAUCET_PORT": port})
        started.append(faucet.start())
        checkpoint = slow_checkpoint(tmp / "slow.pt")
        compute = provider_settings(settings, tmp / "provider", compute_model_path=checkpoint, compute_model_name=MODEL)
        provider = ProviderDaemon(compute).start()
        started.append(provider)
    except BaseException:
        for part in reversed(started):
            part.stop()
        chain.stop()
        raise
    net = Chain.of(settings)
    return FaultNetwork(settings, chain, net, node, faucet, da, provider, compute)
