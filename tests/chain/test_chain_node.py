"""The bundled chain: chain id, dev accounts, persistence, clear errors; `python -m chain_node`."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import chain_node.node
from chain_node import ChainNode, ChainNodeError
from chain_node.process import port_in_use, wait_until
from tests.conftest import REPO_ROOT, make_settings, tool_env
from zerog.accounts import dev_account
from zerog.chain import connect, send_transaction
from zerog.config import ETHER, LOCAL_CHAIN_ID


def test_start__serves_chain_id_and_funded_dev_accounts(devnet) -> None:
    w3 = connect(devnet.rpc_url)
    assert w3.eth.chain_id == LOCAL_CHAIN_ID
    assert w3.eth.get_balance(dev_account(0).address) == devnet.dev_balance_ether * ETHER
    assert w3.eth.get_balance(dev_account(9).address) == devnet.dev_balance_ether * ETHER


def test_start__custom_chain_id_and_block_time(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, chain_id=16602, block_time=0.5)
    with ChainNode(settings):
        w3 = connect(settings.rpc_url)
        assert w3.eth.chain_id == 16602
        first = w3.eth.block_number
        assert wait_until(lambda: w3.eth.block_number >= first + 2, timeout=10)


def test_restart__state_survives(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    receiver = "0x000000000000000000000000000000000000dEaD"
    with ChainNode(settings):
        w3 = connect(settings.rpc_url)
        receipt = send_transaction(w3, dev_account(3), {"to": receiver, "value": 5 * ETHER})
        head = w3.eth.get_block("latest")
    with ChainNode(settings) as node:
        w3 = connect(node.rpc_url)
        assert w3.eth.get_balance(receiver) == 5 * ETHER
        assert w3.eth.get_block(head["number"])["hash"] == head["hash"]
        assert w3.eth.get_transaction_receipt(receipt["transactionHash"])["status"] == 1


def test_start__busy_port_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", settings.chain_port))
        busy.listen()
        with pytest.raises(ChainNodeError, match=f"port {settings.chain_port} .* is busy"):
            ChainNode(settings).start()


def test_start__missing_anvil_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_node.node, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChainNodeError, match="anvil not found: run `make install`"):
        ChainNode(make_settings(tmp_path)).start()


def test_start__corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    node = ChainNode(settings)
    node.dir.mkdir(parents=True)
    node.state_file.write_text("{ not json")
    with pytest.raises(ChainNodeError, match="anvil exited"):
        node.start()
    assert not port_in_use(settings.chain_host, settings.chain_port)


def test_module__runs_until_sigint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "chain_node", "--port", str(settings.chain_port)],
        cwd=REPO_ROOT,
        env=tool_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(lambda: port_in_use("127.0.0.1", settings.chain_port), timeout=30)
        assert connect(settings.rpc_url).eth.chain_id == LOCAL_CHAIN_ID
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert f"listening on {settings.rpc_url}" in output
    assert not port_in_use("127.0.0.1", settings.chain_port)
    assert (settings.data_dir / "chain" / "state.json").is_file()
