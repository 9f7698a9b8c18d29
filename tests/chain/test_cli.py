"""`zg` command groups, `chain status`, `deploy`, and their errors (CliRunner, real chains)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chain_node import ChainNode
from chain_node.process import free_port
from tests.conftest import make_settings, tool_env
from zerog.cli import cli


def invoke(settings, *args: str, **env: str):
    return CliRunner().invoke(cli, list(args), env={**tool_env(settings), **env}, catch_exceptions=False)


def test_help__lists_command_groups() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for group in ("chain", "deploy", "up", "faucet", "storage", "compute", "da"):
        assert f"\n  {group} " in result.output


def test_chain_status__reports_chain(devnet) -> None:
    result = invoke(devnet, "--json", "chain", "status")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["chainId"] == devnet.chain_id and data["block"] == 0


def test_chain_status__unreachable_rpc_is_a_clear_error(devnet) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke(devnet, "--rpc-url", url, "chain", "status")
    assert result.exit_code == 1
    assert f"no EVM node answers at {url}" in result.output


def test_deploy__writes_manifest_then_is_a_no_op(devnet) -> None:
    first = invoke(devnet, "--json", "deploy")
    assert first.exit_code == 0, first.output
    manifest = json.loads(first.output)
    assert manifest["chainId"] == devnet.chain_id
    stored = json.loads(devnet.manifest_path(devnet.chain_id).read_text())
    assert stored["contracts"]["Faucet"]["address"] == manifest["contracts"]["Faucet"]
    assert stored["contracts"]["Faucet"]["abi"] and stored["contracts"]["Faucet"]["deployBlock"] == 1

    second = invoke(devnet, "deploy")
    assert second.exit_code == 0
    assert "nothing deployed" in second.output
    assert manifest["contracts"]["Faucet"] in second.output


def test_deploy__bad_private_key_is_refused_without_echoing_it(devnet) -> None:
    secret = "0x" + "zz" * 32
    result = invoke(devnet, "deploy", ZG_PRIVATE_KEY=secret)
    assert result.exit_code == 1
    assert "not a valid 32-byte hex key" in result.output
    assert secret not in result.output


def test_deploy__dev_keys_refused_on_a_public_chain_id(tmp_path) -> None:
    settings = make_settings(tmp_path, chain_id=16602)  # looks like Galileo: maybe a tunnel to it
    with ChainNode(settings):
        result = invoke(settings, "deploy")
    assert result.exit_code == 1
    assert "set ZG_PRIVATE_KEY or ZG_KEYSTORE" in result.output
    assert not settings.manifest_path(16602).exists()
