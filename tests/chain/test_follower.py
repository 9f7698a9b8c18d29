"""The event follower against a real anvil: confirmations, real reorgs (anvil_reorg, evm_revert),
restart from the persisted cursor, chain restart, and atomic handler failures."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import EventData

from chain_node import ChainNode
from tests.conftest import make_settings
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.config import Settings
from zerog.deploy import run_deploy
from zerog.follower import EventFollower, open_store

DRIPPER = 1


@pytest.fixture
def net(tmp_path: Path) -> Iterator[tuple[Settings, Web3, Deployment]]:
    """Fresh chain + deployment per test: reorg tests rewrite history."""
    settings = make_settings(tmp_path, faucet_cooldown=0)
    with ChainNode(settings):
        result = run_deploy(settings)
        assert result.returncode == 0, result.stdout + result.stderr
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
