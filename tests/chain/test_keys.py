"""Keys: one loader for every daemon's own key (dev keys only on the local network), and `zg up` hands each daemon
only its own secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from tests.conftest import make_settings
from zerog.accounts import dev_account, role_account
from zerog.devnet.deploy import child_env
from zerog.devnet.network import daemons
from zerog.errors import ConfigError

KEYS = {
    "private_key": Account.create().key.hex(),
    "faucet_private_key": Account.create().key.hex(),
    "compute_provider_private_key": Account.create().key.hex(),
    "storage_mining_private_key": Account.create().key.hex(),
    "da_signer_private_key": Account.create().key.hex(),
    "da_disperser_private_key": Account.create().key.hex(),
}


def test_role_account__key_setting_else_dev_key_on_the_local_network_only(tmp_path: Path) -> None:
    local = make_settings(tmp_path)
    assert role_account(local, "faucet_private_key", 1, "faucet").address == dev_account(1).address
    keyed = make_settings(tmp_path, faucet_private_key=KEYS["faucet_private_key"])
    assert role_account(keyed, "faucet_private_key", 1, "faucet").key.hex() == KEYS["faucet_private_key"]
    remote = make_settings(tmp_path, rpc_url="https://evmrpc-testnet.0g.ai", chain_id=16602)
    with pytest.raises(ConfigError, match="set ZG_FAUCET_PRIVATE_KEY"):
        role_account(remote, "faucet_private_key", 1, "faucet")


def test_up__each_daemon_gets_only_its_own_secrets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, **KEYS)
    seen = {}
    for daemon in daemons(settings):
        env = child_env(settings, daemon.secrets, **daemon.env)
        seen[daemon.name] = {name for name in KEYS if env.get(f"ZG_{name.upper()}")}
    assert seen["faucet"] == {"faucet_private_key"}
    assert seen["storage-0"] == {"storage_mining_private_key"}  # the mining node
    assert seen["storage-1"] == seen["indexer"] == seen["kv"] == set()
    assert seen["compute-provider"] == {"compute_provider_private_key"}
    assert all(seen[f"da-signer-{i}"] == set() for i in range(settings.da_signers))  # zg up's genesis signers
    assert seen["da-disperser"] == {"da_disperser_private_key"}
    assert not any("private_key" in names for names in seen.values())  # the user's own key stays with the user
