"""Network profiles: built-in and file profiles resolve (or fail naming the file and the problem), settings come from
flags > env > profile > network.json > defaults, `zg network ls/show` print them with their sources, and a profile is
checked against the chain before anything is sent: chain id, contract code, the shared interface answering."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ape import project
from click.testing import CliRunner, Result

from zerog.accounts import load_account
from zerog.chain import Deployment, connect, get_web3
from zerog.cli import cli
from zerog.compute.client import Compute
from zerog.config import Settings, load_settings, resolve_settings
from zerog.devnet.settings import NetworkSettings
from zerog.errors import ComponentUnavailableError, ConfigError, NetworkMismatchError
from zerog.faucet.contracts import FAUCET
from zerog.networks import ABI_DIR, SHARED_INTERFACES, load_profile
from zerog.storage.client import submit
from zerog.storage.contracts import FLOW, MARKET, flow_contract, market_of
from zerog.storage.merkle import FileTree
from zerog.storage.settings import StorageSettings

GALILEO_FLOW = "0x22E03a6A89B950F1c82ec5e74F8eCa321a105296"
#: An address with no code on a fresh chain.
NOWHERE = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ZG_* of the caller's, no .env, and a data dir without network.json."""
    for name in [n for n in os.environ if n.startswith("ZG_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZG_DATA_DIR", str(tmp_path / "data"))


def write_profile(path: Path, **fields: Any) -> Path:
    path.write_text(json.dumps(fields))
    return path


def zg(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


# ---------------------------------------------------------------- profiles


def test_load_profile__builtin_public_networks() -> None:
    galileo, mainnet = load_profile("galileo"), load_profile("mainnet")
    assert galileo is not None and mainnet is not None
    assert (galileo.chain_id, galileo.rpc_url) == (16602, "https://evmrpc-testnet.0g.ai")
    assert (mainnet.chain_id, mainnet.rpc_url) == (16661, "https://evmrpc.0g.ai")
    assert (
        galileo.explorer_url == "https://chainscan-galileo.0g.ai" and mainnet.explorer_url == "https://chainscan.0g.ai"
    )
    assert galileo.contracts is not None and galileo.contracts[FLOW].address == GALILEO_FLOW
    for profile in (galileo, mainnet):
        assert set(profile.sources) == {"chain_id", "rpc_url", "indexer_url", "explorer_url"}
        assert all(ref.source.startswith("https://") for ref in (profile.contracts or {}).values())
    assert load_profile("local") is None


def test_load_profile__json_and_toml_files(tmp_path: Path) -> None:
    json_file = write_profile(tmp_path / "mine.json", chain_id=7, rpc_url="http://10.0.0.1:8545")
    toml_file = tmp_path / "other.toml"
    toml_file.write_text(
        f'name = "devbox"\nchain_id = 8\nrpc_url = "http://10.0.0.2:8545"\n'
        f'[contracts.Flow]\naddress = "{GALILEO_FLOW}"\n'
    )
    from_json, from_toml = load_profile(str(json_file)), load_profile(str(toml_file))
    assert from_json is not None and (from_json.name, from_json.chain_id, from_json.contracts) == ("mine", 7, None)
    assert from_toml is not None and from_toml.name == "devbox"
    assert from_toml.contracts is not None and from_toml.contracts[FLOW].address == GALILEO_FLOW


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not readable JSON"),
        ('{"rpc_url": "http://x"}', "chain_id: Field required"),
        ('{"chain_id": 1, "rpc_url": "http://x", "rpc": "typo"}', "rpc: Extra inputs are not permitted"),
        # One of 0G's own pages prints the mainnet Flow with a B where the checksum wants a C.
        (
            '{"chain_id": 1, "rpc_url": "x", "contracts": {"Flow": {"address": '
            '"0x62D4144dB0F0a6fBBaeb6296c785C71B3D57B526"}}}',
            "not an EIP-55 checksummed address",
        ),
        (
            f'{{"chain_id": 1, "rpc_url": "x", "contracts": {{"Ledger": {{"address": "{GALILEO_FLOW}"}}}}}}',
            "Ledger does not share 0G's interface",
        ),
    ],
)
def test_load_profile__bad_file_names_file_and_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=str(path)) as raised:
        load_profile(str(path))
    assert problem in raised.value.message


def test_load_profile__unknown_name() -> None:
    with pytest.raises(ConfigError, match="unknown network 'galilee': neither one of local, galileo, mainnet"):
        load_profile("galilee")


def test_shared_abis__are_our_compiled_interfaces() -> None:
    assert set(SHARED_INTERFACES) == {FLOW, MARKET}
    for interface in SHARED_INTERFACES.values():
        compiled = [
            item.model_dump(mode="json", by_alias=True) for item in getattr(project, interface).contract_type.abi
        ]
        assert json.loads((ABI_DIR / f"{interface}.json").read_text()) == compiled, "rerun `ape run abi`"


# ---------------------------------------------------------------- resolution order


def test_resolve_settings__flag_over_env_over_profile_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZG_NETWORK", "galileo")
    monkeypatch.setenv("ZG_INDEXER_URL", "http://my-indexer")
    settings, sources = resolve_settings(StorageSettings, rpc_url="http://my-node")
    assert (settings.rpc_url, sources["rpc_url"]) == ("http://my-node", "flag")
    assert (settings.indexer_url, sources["indexer_url"]) == ("http://my-indexer", "env")
    assert (settings.chain_id, sources["chain_id"]) == (16602, "profile galileo (built in)")
    assert sources["network"] == "env" and sources["tx_timeout"] == "default"


def test_resolve_settings__network_json_only_for_local(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "network.json").write_text(json.dumps({"rpc": "http://127.0.0.1:9999", "indexer": "http://idx"}))
    local, sources = resolve_settings(StorageSettings)
    assert (local.rpc_url, local.indexer_url) == ("http://127.0.0.1:9999", "http://idx")
    assert sources["rpc_url"] == f"network.json ({data_dir / 'network.json'})"
    # A public network never mixes in the local network's endpoints.
    galileo = load_settings(StorageSettings, network="galileo")
    assert (galileo.rpc_url, galileo.indexer_url) == (
        "https://evmrpc-testnet.0g.ai",
        "https://indexer-storage-testnet-turbo.0g.ai",
    )


def test_load_account__dev_keys_refused_on_public_networks() -> None:
    with pytest.raises(ConfigError, match="dev accounts are used only on the local network"):
        load_account(load_settings(Settings, network="galileo"))
    # Even through a tunnel to a loopback port: the chain id is a public one.
    with pytest.raises(ConfigError, match="dev accounts are used only on the local network"):
        load_account(load_settings(Settings, network="mainnet", rpc_url="http://127.0.0.1:8545"))


# ---------------------------------------------------------------- zg network


def test_zg_network_ls__lists_builtin_networks() -> None:
    result = zg("network", "ls")
    assert result.exit_code == 0, result.output
    for expected in ("local", "16688", "galileo", "16602", "https://evmrpc-testnet.0g.ai", GALILEO_FLOW, "mainnet"):
        assert expected in result.output
    rows = json.loads(zg("--json", "network", "ls").output)
    assert [row["name"] for row in rows] == ["local", "galileo", "mainnet"]
    assert rows[2]["indexer"] == "https://indexer-storage-turbo.0g.ai"


def test_zg_network_show__values_and_their_sources(tmp_path: Path) -> None:
    result = zg("--json", "--network", "galileo", "network", "show", env={"ZG_RPC_URL": "http://tunnel:8545"})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["settings"]["network"] == {"value": "galileo", "source": "flag"}
    assert shown["settings"]["rpc_url"] == {"value": "http://tunnel:8545", "source": "env"}
    assert shown["settings"]["chain_id"] == {
        "value": 16602,
        "source": "profile galileo (built in)",
        "published": "https://docs.0g.ai/developer-hub/testnet/testnet-overview",
    }
    assert shown["contracts"][FLOW]["address"] == GALILEO_FLOW
    local = zg("network", "show")
    assert (
        local.exit_code == 0 and "local  (default)" in local.output and "ours (deployments/16688.json)" in local.output
    )


def test_zg__unknown_network_is_a_clean_error() -> None:
    result = zg("--network", "galilee", "network", "show")
    assert result.exit_code == 1 and "Error: unknown network 'galilee'" in result.output


def test_zg_faucet__refused_where_the_network_runs_no_faucet_of_ours() -> None:
    result = zg("--network", "galileo", "faucet", "claim", NOWHERE)
    assert result.exit_code == 1
    assert f"network galileo does not run our faucet contracts ({FAUCET})" in result.output


# ---------------------------------------------------------------- against a chain


def test_chain_id_mismatch__refused_before_sending(devnet: NetworkSettings, tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "wrong.json", chain_id=16602, rpc_url=devnet.rpc_url)
    settings = load_settings(Settings, network=str(profile))
    with pytest.raises(
        NetworkMismatchError, match=rf"network wrong \(.*wrong.json\) is chain 16602, but {devnet.rpc_url} answers"
    ):
        get_web3(settings)
    upload = tmp_path / "file.bin"
    upload.write_bytes(b"x" * 100)
    result = zg("--network", str(profile), "storage", "upload", str(upload), env={"ZG_PRIVATE_KEY": "0x" + "11" * 32})
    assert result.exit_code == 1 and f"answers chain id {devnet.chain_id}" in result.output


def test_missing_code__names_contract_address_and_source(devnet: NetworkSettings, tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path / "stale.json",
        chain_id=devnet.chain_id,
        rpc_url=devnet.rpc_url,
        contracts={FLOW: {"address": NOWHERE, "source": "https://example.org/old-docs"}},
    )
    result = zg("--network", str(profile), "network", "show", "--check")
    assert result.exit_code == 1
    assert f"network stale: no code at {NOWHERE}, its Flow" in result.output
    assert "https://example.org/old-docs" in result.output


def test_compute__refused_on_a_network_without_our_compute(devnet: NetworkSettings, tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path / "storage-only.json",
        chain_id=devnet.chain_id,
        rpc_url=devnet.rpc_url,
        contracts={FLOW: {"address": NOWHERE}},
    )
    with pytest.raises(ComponentUnavailableError, match="storage-only does not run our compute contracts"):
        Compute(load_settings(Settings, network=str(profile)))
    result = zg("--network", str(profile), "compute", "ls")
    assert result.exit_code == 1
    assert "network storage-only does not run our compute contracts (Ledger, InferenceServing)" in result.output


class TestAgainstDeployment:
    """A profile naming only the storage contracts of a full deployment: 0G's situation, on our own contracts."""

    @pytest.fixture
    def manifest(self, deployed_devnet: NetworkSettings) -> Deployment:
        return Deployment.for_settings(deployed_devnet, connect(deployed_devnet.rpc_url).eth.chain_id)

    def profile(self, settings: NetworkSettings, path: Path, **contracts: str) -> Settings:
        refs = {name: {"address": address, "source": "test"} for name, address in contracts.items()}
        write_profile(path, chain_id=settings.chain_id, rpc_url=settings.rpc_url, contracts=refs)
        return load_settings(Settings, network=str(path))

    def test_check__passes_and_upload_pays_through_the_shared_interface(
        self, deployed_devnet: NetworkSettings, manifest: Deployment, tmp_path: Path
    ) -> None:
        settings = self.profile(deployed_devnet, tmp_path / "ours.json", Flow=manifest.address(FLOW))
        result = zg("--json", "--network", str(tmp_path / "ours.json"), "network", "show", "--check")
        assert result.exit_code == 0, result.output
        check = json.loads(result.output)["check"]
        assert (check["flow"], check["market"]) == (manifest.address(FLOW), manifest.address(MARKET))
        # Addresses from the profile, ABIs from our shipped interfaces: the Submit event decodes.
        w3 = get_web3(settings)
        deployment = Deployment.for_settings(settings, w3.eth.chain_id)
        tx_hash, [seq] = submit(w3, load_account(settings, 3), deployment, [FileTree.from_bytes(b"profile" * 100)])
        assert tx_hash.startswith("0x") and seq >= 0

    def test_check__flow_address_of_another_contract(
        self, deployed_devnet: NetworkSettings, manifest: Deployment, tmp_path: Path
    ) -> None:
        faucet = manifest.address(FAUCET)
        settings = self.profile(deployed_devnet, tmp_path / "mixed.json", Flow=faucet)
        w3 = get_web3(settings)
        deployment = Deployment.for_settings(settings, w3.eth.chain_id)
        with pytest.raises(NetworkMismatchError, match=f"network mixed: Flow at {faucet} does not answer market()"):
            market_of(w3, deployment, flow_contract(w3, deployment))

    def test_check__named_market_is_not_the_flows(
        self, deployed_devnet: NetworkSettings, manifest: Deployment, tmp_path: Path
    ) -> None:
        flow = manifest.address(FLOW)
        settings = self.profile(deployed_devnet, tmp_path / "docs.json", Flow=flow, FixedPriceMarket=flow)
        w3 = get_web3(settings)
        deployment = Deployment.for_settings(settings, w3.eth.chain_id)
        with pytest.raises(NetworkMismatchError, match=f"but the profile names {flow}"):
            market_of(w3, deployment, flow_contract(w3, deployment))


def test_zg_up__only_runs_the_local_network() -> None:
    result = zg("--network", "galileo", "up")
    assert result.exit_code == 2 and "`zg up` runs the local network, not galileo" in result.output


def test_zg_deploy__refused_where_the_profile_names_0g_contracts() -> None:
    result = zg("--network", "mainnet", "deploy")
    assert result.exit_code == 2 and "network mainnet runs 0G's contracts" in result.output
