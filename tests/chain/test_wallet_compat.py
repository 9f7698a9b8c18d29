"""Wallet tooling talks to the bundled chain like to any EVM chain: foundry's `cast` as the example."""

from __future__ import annotations

import shutil
import subprocess

from eth_account import Account

from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.config import ETHER
from zerog.devnet.deploy import tool_path


def cast(*args: str) -> str:
    binary = shutil.which("cast", path=tool_path())
    assert binary, "cast is installed by `make install`"
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cast__reads_chain_id_and_sends_a_transfer(devnet) -> None:
    assert cast("chain-id", "--rpc-url", devnet.rpc_url) == str(devnet.chain_id)
    receiver = Account.create().address
    sender = dev_account(2)
    cast(
        "send", receiver, "--value", "1.5ether", "--rpc-url", devnet.rpc_url,
        "--private-key", sender.key.to_0x_hex(),
    )  # fmt: skip
    assert connect(devnet.rpc_url).eth.get_balance(receiver) == 3 * ETHER // 2
    assert cast("balance", receiver, "--rpc-url", devnet.rpc_url) == str(3 * ETHER // 2)
