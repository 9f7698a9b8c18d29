"""The marketplace end to end, as its users run it: `zg market` against a real chain with the contracts deployed,
a storage node and an indexer; private items bought, granted and decrypted only by their buyers; a provider
serving a model from its listing, answering a paid chat through the `openai` client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import SecretStr

from chain_node import ChainNode
from services.compute_provider.model.checkpoint import save_checkpoint
from services.compute_provider.model.network import ByteLM, ModelConfig
from tests.compute.provider_fixtures import ProviderDaemon, provider_settings
from tests.conftest import deployed_state, make_settings, tool_env
from tests.storage.node_fixtures import start_indexer, start_node
from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.compute.client import Compute
from zerog.devnet.settings import NetworkSettings
from zerog.market.client import Market, content_hash
from zerog.storage.client import nodes_from_indexer

ZG = str(Path(sys.executable).parent / "zg")
LISTER, BUYER, STRANGER = dev_account(7), dev_account(8), dev_account(9)
PROVIDER = dev_account(2)  # the local network's provider key
PRICE_WEI = 10**16


@dataclass
class MarketNet:
    settings: NetworkSettings

    def zg(self, account: Any, *args: str) -> subprocess.CompletedProcess[str]:
        env = tool_env(self.settings, ZG_PRIVATE_KEY=account.key.to_0x_hex())
        return subprocess.run([ZG, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    def ok(self, account: Any, *args: str) -> Any:
        done = self.zg(account, "--json", *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def fails(self, account: Any, *args: str) -> str:
        done = self.zg(account, *args)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def market(self, account: Any) -> Market:
        return Market(self.settings, account)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarketNet]:
    """A chain with every contract, one storage node holding everything, and an indexer naming it."""
    settings = deployed_state(make_settings(tmp_path_factory.mktemp("market")), tmp_path_factory)
    with ChainNode(settings):
        node = start_node(settings, "node")
        indexer = start_indexer(settings, [node.url])
        try:
            yield MarketNet(settings.model_copy(update={"indexer_url": indexer.url}))
        finally:
            indexer.stop()
            node.stop()


def test_private_dataset__bought_granted_and_opened_by_the_buyer_only(net: MarketNet, tmp_path: Path) -> None:
    data = tmp_path / "chats.jsonl"
    data.write_text(
        "".join(json.dumps({"messages": [{"role": "user", "content": f"hi {i}"}]}) + "\n" for i in range(300))
    )
    listed = net.ok(
        LISTER, "market", "list", "dataset", "--name", "chats", "--file", str(data), "--private",
        "--price", f"{PRICE_WEI} wei", "--license", "CC-BY-4.0", "--format", "jsonl-chat",
    )  # fmt: skip
    item = str(listed["id"])
    assert (listed["private"], listed["size"], listed["priceWei"]) == (True, data.stat().st_size, PRICE_WEI)
    assert listed["contentHash"] == "0x" + content_hash(data).hex()
    stored = tmp_path / "stored.bin"
    net.ok(STRANGER, "storage", "download", listed["roots"][0], str(stored))
    assert data.read_bytes() not in stored.read_bytes()  # what Storage holds is ciphertext

    out = tmp_path / "mine.jsonl"
    assert "buy it first" in net.fails(BUYER, "market", "get", item, str(out))
    bought = net.ok(BUYER, "market", "buy", item)
    assert bought["priceWei"] == PRICE_WEI
    assert "MarketAlreadyBought" in net.fails(BUYER, "market", "buy", item)
    assert "has not delivered the key yet" in net.fails(BUYER, "market", "get", item, str(out))
    assert not out.exists()
    assert net.market(LISTER).proceeds() == 0  # escrowed until the key is delivered

    granted = net.ok(LISTER, "market", "grant")  # every purchase still waiting, of every private item of the lister
    assert [(g["id"], g["grantee"]) for g in granted] == [(listed["id"], BUYER.address)]
    assert net.ok(LISTER, "market", "grant") == []
    net.ok(BUYER, "market", "get", item, str(out))
    assert out.read_bytes() == data.read_bytes()

    theirs = tmp_path / "theirs.jsonl"
    assert "buy it first" in net.fails(STRANGER, "market", "get", item, str(theirs))
    assert not theirs.exists()
    shown = net.ok(BUYER, "market", "show", item)
    assert shown["yours"]["access"] is True and shown["sales"] == 1

    assert net.market(LISTER).proceeds() == PRICE_WEI
    before = connect(net.settings.rpc_url).eth.get_balance(LISTER.address)
    assert net.ok(LISTER, "market", "withdraw")["amountWei"] == PRICE_WEI
    assert connect(net.settings.rpc_url).eth.get_balance(LISTER.address) > before
    net.ok(LISTER, "market", "delist", item)
    assert "MarketListingInactive" in net.fails(STRANGER, "market", "buy", item)
    assert [row["id"] for row in net.ok(STRANGER, "market", "ls", "--all", "--search", "chats")] == [listed["id"]]
    assert net.ok(STRANGER, "market", "ls", "--search", "chats") == []


def test_list__root_not_on_storage_refused_before_any_transaction(net: MarketNet) -> None:
    w3 = connect(net.settings.rpc_url)
    nonce = w3.eth.get_transaction_count(LISTER.address)
    missing = "0x" + os.urandom(32).hex()
    error = net.fails(LISTER, "market", "list", "model", "--name", "ghost", "--root", missing)
    assert "is not stored" in error and missing in error
    assert w3.eth.get_transaction_count(LISTER.address) == nonce


def tiny_checkpoint(path: Path) -> Path:
    torch.manual_seed(1)
    save_checkpoint(path, ByteLM(ModelConfig(block_size=64, n_layer=1, n_head=2, n_embd=32)), {"name": "tiny"})
    return path


def test_provider__serves_its_private_model_from_the_listing_and_is_paid(net: MarketNet, tmp_path: Path) -> None:
    model = tiny_checkpoint(tmp_path / "tiny.pt")
    listed = net.ok(
        PROVIDER, "market", "list", "model", "--name", "market-tiny", "--file", str(model), "--private",
        "--format", "zerog-bytelm",
    )  # fmt: skip
    settings = provider_settings(net.settings, tmp_path / "provider", compute_listing=listed["id"])
    provider = ProviderDaemon(settings).start()
    try:
        cached = settings.compute_model_dir / "storage" / f"{listed['roots'][0]}.pt"
        assert cached.read_bytes() == model.read_bytes()  # downloaded, proof-checked and decrypted
        [row] = net.ok(BUYER, "market", "ls", "--kind", "model", "--search", "market-tiny")
        [service] = row["services"]
        assert (service["provider"], service["url"], service["model"]) == (
            PROVIDER.address,
            provider.url,
            "market-tiny",
        )

        user = Compute(net.settings, BUYER)
        user.transfer(PROVIDER.address, 10**17)
        session = user.session(PROVIDER.address)
        answer = session.openai_client().chat.completions.create(
            model="market-tiny", messages=[{"role": "user", "content": "hello"}], max_tokens=8, temperature=0
        )
        assert answer.usage is not None and answer.usage.completion_tokens > 0
        assert session.owed == session.receipts[-1].cumulative > 0
    finally:
        provider.stop()


def test_provider__refuses_a_listed_model_that_does_not_load(net: MarketNet, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(5000))
    listed = net.ok(LISTER, "market", "list", "model", "--name", "junk", "--file", str(junk))
    settings = provider_settings(
        net.settings, tmp_path / "provider", compute_listing=listed["id"],
        compute_provider_private_key=SecretStr(STRANGER.key.to_0x_hex()),
    )  # fmt: skip
    provider = ProviderDaemon(settings).spawn()
    assert provider.proc is not None
    assert provider.proc.wait(60) == 1
    assert "does not load, refusing to serve it" in provider.log()
    assert not Compute(net.settings, STRANGER).serving.functions.isRegistered(STRANGER.address).call()
    nodes = nodes_from_indexer(net.settings.indexer_url)
    assert nodes  # the network itself is fine: only the model was refused


def test_v1_item_stored_elsewhere__listed_by_root_and_granted_with_its_key(net: MarketNet, tmp_path: Path) -> None:
    data = tmp_path / "weights.bin"
    data.write_bytes(os.urandom(3000))
    key = os.urandom(32).hex()
    stored = net.ok(LISTER, "storage", "upload", str(data), "--encrypt-key", key)
    listed = net.ok(LISTER, "market", "list", "model", "--name", "v1-model", "--root", stored["root"], "--private")
    item = str(listed["id"])
    assert (listed["size"], listed["contentHash"]) == (data.stat().st_size, None)  # the content after the v1 header
    net.ok(BUYER, "market", "buy", item)
    assert "give its 32-byte content key" in net.fails(LISTER, "market", "grant", item)
    net.ok(LISTER, "market", "grant", item, "--key", key)
    out = tmp_path / "weights.copy"
    net.ok(BUYER, "market", "get", item, str(out))
    assert out.read_bytes() == data.read_bytes()
