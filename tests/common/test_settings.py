"""One loading mechanism, a settings class per component: each class holds its own fields, the same variable means
the same thing in every class, and network.json fills in what each class knows about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain_node.settings import ChainNodeSettings
from services.common.settings import DaemonSettings
from services.compute_provider.config import ProviderSettings
from services.da_server.config import DAServerSettings
from services.da_signer.config import DASignerSettings
from services.explorer.config import ExplorerDaemonSettings
from services.faucet.config import FaucetDaemonSettings
from services.storage_kv.config import KVNodeSettings
from services.storage_miner.config import StorageNodeSettings
from services.storage_miner.indexer.config import IndexerSettings
from zerog.compute.settings import ComputeSettings
from zerog.config import Settings, load_settings, settings_env
from zerog.da.settings import DASettings
from zerog.devnet.settings import NetworkSettings
from zerog.faucet.settings import FaucetSettings
from zerog.market.settings import MarketSettings
from zerog.storage.settings import StorageSettings

COMPONENTS = [
    StorageSettings,
    ComputeSettings,
    DASettings,
    FaucetSettings,
    MarketSettings,
    ChainNodeSettings,
    DaemonSettings,
]
DAEMONS = [
    StorageNodeSettings,
    KVNodeSettings,
    IndexerSettings,
    ProviderSettings,
    DASignerSettings,
    DAServerSettings,
    FaucetDaemonSettings,
    ExplorerDaemonSettings,
]
#: Daemons that also read another component's settings: the provider fetches models from Storage.
ALSO_READS: dict[type[Settings], set[type[Settings]]] = {ProviderSettings: {StorageSettings}}
PREFIXES = {
    StorageSettings: ("storage_", "indexer_url"),
    ComputeSettings: ("compute_",),
    DASettings: ("da_",),
    FaucetSettings: ("faucet_",),
    MarketSettings: ("market_",),
    ChainNodeSettings: ("chain_", "block_time", "dev_balance"),
    DaemonSettings: ("allowed_hosts", "cors_origins", "resync", "chain_wait"),
}


def own_fields(cls: type[Settings]) -> set[str]:
    return set(cls.model_fields) - set(Settings.model_fields)


def test_core__holds_only_what_every_component_shares() -> None:
    core = set(Settings.model_fields)
    assert {"rpc_url", "chain_id", "private_key", "data_dir", "deployments_dir"} <= core
    assert not [
        f
        for f in core
        if f.startswith(("storage_", "compute_", "da_", "faucet_", "market_", "indexer_", "chain_h", "chain_p"))
    ]
    assert len(core) <= 15, sorted(core)


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_component__holds_only_its_own_fields(cls: type[Settings]) -> None:
    fields = own_fields(cls)
    assert fields
    assert all(f.startswith(PREFIXES[cls]) for f in fields), sorted(fields)


@pytest.mark.parametrize("cls", DAEMONS, ids=lambda c: c.__name__)
def test_daemon__extends_its_component_and_the_platform(cls: type[Settings]) -> None:
    assert issubclass(cls, DaemonSettings)
    components = {c for c in COMPONENTS if c is not DaemonSettings and issubclass(cls, c)}
    assert len(components - ALSO_READS.get(cls, set())) == 1, components


def test_network__is_every_daemon_and_a_field_means_the_same_everywhere() -> None:
    for cls in [*DAEMONS, ChainNodeSettings, MarketSettings]:
        assert issubclass(NetworkSettings, cls)
        for name, field in cls.model_fields.items():
            union = NetworkSettings.model_fields[name]
            assert (field.annotation, field.default) == (union.annotation, union.default), name


def test_env__reaches_every_class_that_has_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZG_STORAGE_PORT", "7001")
    monkeypatch.setenv("ZG_DATA_DIR", str(tmp_path))
    node = load_settings(StorageNodeSettings)
    assert node.storage_port == load_settings(NetworkSettings).storage_port == 7001
    assert not hasattr(load_settings(ProviderSettings), "storage_port")


def test_child_env__carries_a_network_into_one_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    network = NetworkSettings(data_dir=tmp_path, storage_port=7002, compute_port=7003, indexer_url="http://x:1")
    for name, value in settings_env(network).items():
        monkeypatch.setenv(name, value)
    node = load_settings(StorageNodeSettings)
    assert (node.storage_port, node.indexer_url, node.data_dir) == (7002, "http://x:1", tmp_path)


def test_network_file__fills_what_each_class_knows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZG_RPC_URL", "ZG_CHAIN_ID", "ZG_FAUCET_URL", "ZG_INDEXER_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "network.json").write_text(
        json.dumps(
            {
                "rpc": "http://127.0.0.1:9999",
                "chainId": 31337,
                "faucet": "http://127.0.0.1:9998",
                "indexer": "http://127.0.0.1:9997",
                "manifest": str(tmp_path / "deployments" / "31337.json"),
            }
        )
    )
    core = load_settings(Settings, data_dir=tmp_path)
    assert (core.rpc_url, core.chain_id, core.deployments_dir) == (
        "http://127.0.0.1:9999",
        31337,
        tmp_path / "deployments",
    )
    assert load_settings(FaucetSettings, data_dir=tmp_path).faucet_url == "http://127.0.0.1:9998"
    assert load_settings(StorageSettings, data_dir=tmp_path).indexer_url == "http://127.0.0.1:9997"
    # An explicit setting wins over the running network's.
    assert load_settings(StorageSettings, data_dir=tmp_path, indexer_url="http://elsewhere:1").indexer_url == (
        "http://elsewhere:1"
    )
