"""The event follower against a real anvil: confirmations, real reorgs (anvil_reorg, evm_revert),
restart from the persisted cursor, chain restart, and atomic handler failures."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import EventData

from chain_node import ChainNode
from chain_node.process import wait_until
from tests.conftest import deployed_state, make_settings
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.devnet.deploy import run_deploy
from zerog.devnet.settings import NetworkSettings
from zerog.follower import ChainReplacedError, EventFollower, open_store

DRIPPER = 1


@pytest.fixture
def net(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NetworkSettings, Web3, Deployment]]:
    """Fresh chain + deployment per test (a copy of one deployed chain): reorg tests rewrite history."""
    settings = deployed_state(make_settings(tmp_path, faucet_cooldown=0), tmp_path_factory)
    with ChainNode(settings):
        w3 = connect(settings.rpc_url)
        yield settings, w3, Deployment.for_settings(settings, w3.eth.chain_id)


def drip(w3: Web3, deployment: Deployment, recipient: str) -> int:
    faucet = deployment.contract(w3, "Faucet")
    receipt = send_transaction(w3, dev_account(DRIPPER), faucet.functions.drip(recipient))
    return receipt["blockNumber"]


def new_address() -> str:
    return Account.create().address


class DripLog:
    """A daemon's domain table: one row per Dripped log, undone on rollback."""

    def __init__(self) -> None:
        self.handled = 0

    def handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        self.handled += 1
        conn.execute(
            "INSERT INTO drips (block_number, tx_hash, log_index, recipient) VALUES (?, ?, ?, ?)",
            (event["blockNumber"], event["transactionHash"].to_0x_hex(), event["logIndex"], event["args"]["recipient"]),
        )

    @staticmethod
    def rollback(conn: sqlite3.Connection, from_block: int) -> None:
        conn.execute("DELETE FROM drips WHERE block_number >= ?", (from_block,))


def make_follower(
    w3: Web3, deployment: Deployment, db: Path, confirmations: int = 0, log: DripLog | None = None
) -> tuple[EventFollower, DripLog]:
    conn = open_store(db)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS drips (block_number INTEGER, tx_hash TEXT, log_index INTEGER, recipient TEXT,"
        " UNIQUE (tx_hash, log_index))"
    )
    log = log or DripLog()
    faucet = deployment.contract(w3, "Faucet")
    follower = EventFollower(
        w3,
        conn,
        "faucet-drips",
        [faucet.events.Dripped],
        log.handle,
        log.rollback,
        start_block=deployment.record("Faucet")["deployBlock"],
        confirmations=confirmations,
    )
    return follower, log


def recipients(follower: EventFollower) -> list[str]:
    return [r[0] for r in follower.conn.execute("SELECT recipient FROM drips ORDER BY block_number, log_index")]


def test_follow__applies_each_log_once_in_order(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    wanted = [new_address() for _ in range(3)]
    for address in wanted:
        drip(w3, deployment, address)
    follower, log = make_follower(w3, deployment, tmp_path / "f.db")
    follower.sync()
    follower.sync()
    assert recipients(follower) == wanted
    assert log.handled == 3
    assert follower.cursor.block_number == w3.eth.block_number


def test_follow__waits_for_confirmations(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    follower, _ = make_follower(w3, deployment, tmp_path / "f.db", confirmations=2)
    address = new_address()
    w3.provider.make_request("anvil_mine", [3])
    block = drip(w3, deployment, address)
    follower.sync()
    assert recipients(follower) == []
    assert follower.cursor.block_number == block - 2
    w3.provider.make_request("anvil_mine", [2])
    follower.sync()
    assert recipients(follower) == [address]


def test_reorg__anvil_reorg_rolls_back_dropped_logs(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    kept, dropped = new_address(), new_address()
    drip(w3, deployment, kept)
    w3.provider.make_request("anvil_mine", [1])
    drip(w3, deployment, dropped)
    follower, _ = make_follower(w3, deployment, tmp_path / "f.db")
    follower.sync()
    assert recipients(follower) == [kept, dropped]
    old_head = w3.eth.get_block("latest")["hash"]

    # Replace the last block (the one with `dropped`) by an empty one at the same height.
    response = w3.provider.make_request("anvil_reorg", [1, []])
    assert "error" not in response, response
    assert w3.eth.get_block("latest")["hash"] != old_head

    follower.sync()
    assert recipients(follower) == [kept]
    assert follower.cursor.block_hash == w3.eth.get_block(follower.cursor.block_number)["hash"].to_0x_hex()


def test_reorg__snapshot_revert_to_a_longer_fork(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    before = new_address()
    drip(w3, deployment, before)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    orphans = [new_address(), new_address()]
    for address in orphans:
        drip(w3, deployment, address)
    follower, _ = make_follower(w3, deployment, tmp_path / "f.db")
    follower.sync()
    assert recipients(follower) == [before, *orphans]

    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    winner = new_address()
    drip(w3, deployment, winner)
    w3.provider.make_request("anvil_mine", [3])  # the new fork is longer than the old one

    follower.sync()
    assert recipients(follower) == [before, winner]


def test_restart__resumes_from_persisted_cursor(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    db = tmp_path / "f.db"
    first = new_address()
    drip(w3, deployment, first)
    follower, _ = make_follower(w3, deployment, db)
    follower.sync()
    follower.conn.close()

    second = new_address()
    drip(w3, deployment, second)
    restarted, log = make_follower(w3, deployment, db)
    restarted.sync()
    assert log.handled == 1  # only the new log; the UNIQUE key would also refuse a replay
    assert recipients(restarted) == [first, second]


def test_restart__chain_restart_keeps_history_and_cursor(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, faucet_cooldown=0)
    db = tmp_path / "f.db"
    address = new_address()
    with ChainNode(settings):
        assert run_deploy(settings).returncode == 0
        w3 = connect(settings.rpc_url)
        deployment = Deployment.for_settings(settings, w3.eth.chain_id)
        drip(w3, deployment, address)
        follower, _ = make_follower(w3, deployment, db)
        follower.sync()
        cursor = follower.cursor
        balance = w3.eth.get_balance(address)
        follower.conn.close()
    with ChainNode(settings):
        w3 = connect(settings.rpc_url)
        assert w3.eth.get_balance(address) == balance > 0
        assert w3.eth.get_block(cursor.block_number)["hash"].to_0x_hex() == cursor.block_hash
        follower, log = make_follower(w3, deployment, db)
        follower.sync()
        assert log.handled == 0  # no false reorg, nothing re-applied
        assert recipients(follower) == [address]
        # The redeploy check sees the same deployment and does nothing.
        again = run_deploy(settings)
        assert again.returncode == 0 and "nothing to do" in again.stdout


def test_handler_failure__rolls_back_the_whole_batch(net, tmp_path: Path) -> None:
    _, w3, deployment = net
    wanted = [new_address(), new_address()]
    for address in wanted:
        drip(w3, deployment, address)

    class Exploding(DripLog):
        def handle(self, conn: sqlite3.Connection, event: EventData) -> None:
            super().handle(conn, event)
            if self.handled == 2:
                raise RuntimeError("disk full")

    follower, _ = make_follower(w3, deployment, tmp_path / "f.db", log=Exploding())
    with pytest.raises(RuntimeError, match="disk full"):
        follower.poll_once()
    assert recipients(follower) == [] and follower.cursor is None
    healthy, _ = make_follower(w3, deployment, tmp_path / "f.db")
    healthy.sync()
    assert recipients(healthy) == wanted


# ---------------------------------------------------------------- outages are not reorgs


class CountingLog(DripLog):
    """Counts rollbacks: an outage must cause none."""

    rollbacks = 0

    def rollback(self, conn: sqlite3.Connection, from_block: int) -> None:  # type: ignore[override]
        CountingLog.rollbacks += 1
        super().rollback(conn, from_block)


def short_timeout(w3: Web3, seconds: float = 1.0) -> Web3:
    """The same endpoint with an RPC timeout of `seconds`, so a frozen node times out quickly."""
    return Web3(Web3.HTTPProvider(w3.provider.endpoint_uri, request_kwargs={"timeout": seconds}))


@pytest.fixture
def node(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChainNode, Web3, Deployment]]:
    settings = deployed_state(make_settings(tmp_path, faucet_cooldown=0), tmp_path_factory)
    chain = ChainNode(settings)
    chain.start()
    try:
        w3 = connect(settings.rpc_url)
        yield chain, w3, Deployment.for_settings(settings, w3.eth.chain_id)
    finally:
        chain.stop()


def synced_follower(w3: Web3, deployment: Deployment, db: Path, count: int = 2) -> tuple[EventFollower, list[str]]:
    wanted = [new_address() for _ in range(count)]
    for address in wanted:
        drip(w3, deployment, address)
    CountingLog.rollbacks = 0
    follower, _ = make_follower(short_timeout(w3), deployment, db, log=CountingLog())
    follower.sync()
    assert recipients(follower) == wanted
    return follower, wanted


def test_outage__frozen_chain_rolls_nothing_back(node, tmp_path: Path) -> None:
    """The review's data-loss bug: a node that does not answer in time looked like a chain without our blocks."""
    chain, w3, deployment = node
    follower, wanted = synced_follower(w3, deployment, tmp_path / "f.db")
    cursor = follower.cursor
    chain.proc.send_signal(signal.SIGSTOP)
    try:
        for _ in range(2):
            with pytest.raises(OSError):  # a timeout: the follower's run loop backs off and retries
                follower.poll_once()
    finally:
        chain.proc.send_signal(signal.SIGCONT)

    assert CountingLog.rollbacks == 0
    assert recipients(follower) == wanted and follower.cursor == cursor
    late = new_address()
    drip(w3, deployment, late)
    follower.sync()
    assert recipients(follower) == [*wanted, late] and CountingLog.rollbacks == 0


def test_outage__stopped_chain_rolls_nothing_back_and_catches_up(node, tmp_path: Path) -> None:
    chain, w3, deployment = node
    follower, wanted = synced_follower(w3, deployment, tmp_path / "f.db")
    chain.stop()  # the port is closed: connection refused

    with pytest.raises(OSError):
        follower.poll_once()
    assert recipients(follower) == wanted and CountingLog.rollbacks == 0

    chain.start()  # from its state file: the same chain
    late = new_address()
    drip(w3, deployment, late)
    follower.sync()
    assert recipients(follower) == [*wanted, late] and CountingLog.rollbacks == 0


def test_outage__run_loop_survives_a_frozen_chain(node, tmp_path: Path) -> None:
    chain, w3, deployment = node
    follower, wanted = synced_follower(w3, deployment, tmp_path / "f.db")
    follower.start(poll_interval=0.1)
    try:
        chain.proc.send_signal(signal.SIGSTOP)
        time.sleep(2.5)  # more than two RPC timeouts
        chain.proc.send_signal(signal.SIGCONT)
        late = new_address()
        drip(w3, deployment, late)
        assert wait_until(lambda: len(recipients(follower)) == 3, 10)
    finally:
        follower.stop()
    assert follower.failed is None
    assert recipients(follower) == [*wanted, late] and CountingLog.rollbacks == 0


def test_replaced_chain__stops_and_deletes_nothing_until_resync(tmp_path: Path) -> None:
    """A wiped dev chain (new genesis) is not a reorg of everything: the follower stops and says how to resync;
    with resync it drops what came from the old chain and follows the new one."""
    first = make_settings(tmp_path / "old", faucet_cooldown=0)
    db = tmp_path / "f.db"
    with ChainNode(first):
        assert run_deploy(first).returncode == 0
        w3 = connect(first.rpc_url)
        deployment = Deployment.for_settings(first, w3.eth.chain_id)
        follower, wanted = synced_follower(w3, deployment, db)
        follower.conn.close()
    # A fresh chain on the same port: same deployer, so the same contract addresses.
    second = make_settings(tmp_path / "new", faucet_cooldown=0, chain_port=first.chain_port, rpc_url=first.rpc_url)
    with ChainNode(second):
        assert run_deploy(second).returncode == 0
        w3 = connect(second.rpc_url)
        deployment = Deployment.for_settings(second, w3.eth.chain_id)
        drip(w3, deployment, new_address())
        follower, _ = make_follower(w3, deployment, db, log=CountingLog())
        with pytest.raises(ChainReplacedError, match="ZG_RESYNC"):
            follower.poll_once()
        assert recipients(follower) == wanted and CountingLog.rollbacks == 0

        follower.resync = True
        follower.sync()
        fresh = recipients(follower)
        assert len(fresh) == 1 and fresh[0] not in wanted and CountingLog.rollbacks == 1
