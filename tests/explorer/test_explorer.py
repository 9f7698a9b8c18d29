"""The explorer as users meet it: `python -m services.explorer` over real HTTP, indexing a real chain with our
contracts deployed, its pages in a real headless Chromium. One chain and one explorer for the module; the tests run
in file order (the restart, reorg and outage tests come last)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from eth_account import Account
from playwright.sync_api import Page, expect

from chain_node.process import wait_until
from services.explorer.config import db_path
from tests.browser import assert_no_horizontal_scroll, color_scheme, phone, screenshot
from tests.daemon_process import DaemonProcess
from tests.rpc_relay import RpcRelay
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.compute.client import Compute, service_params
from zerog.devnet.settings import NetworkSettings
from zerog.market.client import Market
from zerog.market.records import Kind, ListingParams
from zerog.storage.client import submit
from zerog.storage.merkle import FileTree

#: Faucet.drip is DRIPPER_ROLE's (dev account 1 on the local network); the user is dev account 5.
DRIPPER, USER = dev_account(1), dev_account(5)
#: The Marketplace's admin is the deployer (dev account 0); its lister, buyer and a compute provider.
ADMIN, LISTER, BUYER, PROVIDER = dev_account(0), dev_account(6), dev_account(7), dev_account(8)
INDEX_TIMEOUT_SECONDS = 20
FEE_BPS = 250


@dataclass
class Activity:
    drip_tx: str
    failed_tx: str
    recipient: str
    storage_root: str
    storage_tx: str
    da_root: str


@dataclass
class MarketActivity:
    dataset: int
    model: int
    model_buy_tx: str
    grant_tx: str
    reclaim_tx: str
    provider_url: str


class ExplorerDaemon(DaemonProcess):
    healthy_status = "ok"


def explorer_daemon(settings: NetworkSettings, **env: str) -> ExplorerDaemon:
    return ExplorerDaemon(
        settings, "explorer", "services.explorer", settings.explorer_port, ZG_POLL_INTERVAL="0.1", **env
    )


def indexed_through(explorer: DaemonProcess, block: int) -> bool:
    return httpx.get(f"{explorer.url}/api/status", timeout=5).json()["indexedBlock"] >= block


@pytest.fixture(scope="module")
def explorer(deployed_devnet: NetworkSettings) -> Iterator[DaemonProcess]:
    daemon = explorer_daemon(deployed_devnet).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def activity(deployed_devnet: NetworkSettings, explorer: DaemonProcess) -> Activity:
    """A drip, a drip that reverts with the faucet's custom error, a storage submission and a DA blob."""
    w3 = connect(deployed_devnet.rpc_url)
    deployment = Deployment.for_settings(deployed_devnet, w3.eth.chain_id)
    faucet = deployment.contract(w3, "Faucet")
    recipient = Account.create().address
    drip = send_transaction(w3, DRIPPER, faucet.functions.drip(recipient))
    # Again within the cooldown, with the gas given so that no estimate stops it: mined, and reverted.
    again = faucet.functions.drip(recipient).build_transaction(
        {"from": DRIPPER.address, "gas": 200_000, "nonce": w3.eth.get_transaction_count(DRIPPER.address)}
    )
    failed = w3.eth.send_raw_transaction(DRIPPER.sign_transaction(again).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(failed)["status"] == 0
    tree = FileTree.from_bytes(os.urandom(3000))
    storage_tx, _ = submit(w3, USER, deployment, [tree])
    da_root = os.urandom(32)
    entrance = deployment.contract(w3, "DAEntrance")
    send_transaction(
        w3, USER, entrance.functions.submitOriginalData([da_root], [1000]), value=entrance.functions.feeFor(1000).call()
    )
    assert wait_until(lambda: indexed_through(explorer, w3.eth.block_number), INDEX_TIMEOUT_SECONDS, 0.1)
    return Activity(
        drip.transactionHash.to_0x_hex(), failed.to_0x_hex(), recipient, tree.root_hex, storage_tx, "0x" + da_root.hex()
    )


@pytest.fixture(scope="module")
def market(deployed_devnet: NetworkSettings, explorer: DaemonProcess, activity: Activity) -> MarketActivity:
    """On the stored file's root: a public dataset bought, repriced and delisted; a private model bought by two,
    the key granted to one (and to a provider, which links its service to it), the other purchase reclaimed after
    the grant timeout. The fee is 2.5%."""
    w3 = connect(deployed_devnet.rpc_url)
    lister, buyer, user = (Market(deployed_devnet, a, w3=w3) for a in (LISTER, BUYER, USER))
    contract = lister.contract
    send_transaction(w3, ADMIN, contract.functions.setFee(FEE_BPS, ADMIN.address))

    def listed(params: ListingParams) -> int:
        (event,) = contract.events.ItemListed().process_receipt(
            send_transaction(w3, LISTER, contract.functions.list(params.to_tuple()))
        )
        return int(event["args"]["id"])

    roots = [activity.storage_root]
    dataset = listed(
        ListingParams(Kind.DATASET, "chats", roots, 3000, 10**15, license="CC-BY-4.0", format="jsonl-chat")
    )
    model = listed(
        ListingParams(
            Kind.MODEL, "tiny-lm", roots, 3000, 10**16, private=True, description="A tiny byte LM",
            format="zerog-bytelm", content_hash=b"\x01" * 32,
        )
    )  # fmt: skip
    buyer.buy(dataset)
    lister.update(dataset, 2 * 10**15, "Chats, cleaned", "CC-BY-4.0")
    lister.delist(dataset)

    model_buy = buyer.buy(model)
    user.buy(model)
    # The sealed key is opaque to the explorer: any bytes do.
    grant = send_transaction(w3, LISTER, contract.functions.grant(model, BUYER.address, os.urandom(113)))
    w3.provider.make_request("evm_increaseTime", [lister.grant_timeout() + 1])
    w3.provider.make_request("evm_mine", [])
    reclaim = user.reclaim(model)

    url = "http://127.0.0.1:9/v1"
    Compute(deployed_devnet, PROVIDER, w3=w3).register(
        service_params(url, "tiny-lm", 1, 2, PROVIDER.address), deployed_devnet.compute_min_stake_wei
    )
    send_transaction(w3, LISTER, contract.functions.grant(model, PROVIDER.address, os.urandom(113)))
    Market(deployed_devnet, PROVIDER, w3=w3).link(model)
    assert wait_until(lambda: indexed_through(explorer, w3.eth.block_number), INDEX_TIMEOUT_SECONDS, 0.1)
    return MarketActivity(
        dataset, model, model_buy.transactionHash.to_0x_hex(), grant.transactionHash.to_0x_hex(),
        reclaim.transactionHash.to_0x_hex(), url,
    )  # fmt: skip


def get(explorer: DaemonProcess, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{explorer.url}{path}", params=params, timeout=10)


def test_api__decoded_calls_events_and_custom_error_reverts(explorer: DaemonProcess, activity: Activity) -> None:
    drip = get(explorer, f"/api/tx/{activity.drip_tx}").json()
    tx = drip["transaction"]
    assert (tx["contract"], tx["method"], tx["args"], tx["status"]) == (
        "Faucet",
        "drip",
        {"recipient": activity.recipient},
        1,
    )
    assert [(log["contract"], log["event"]) for log in drip["logs"]] == [("Faucet", "Dripped")]
    assert drip["logs"][0]["args"]["recipient"] == activity.recipient

    failed = get(explorer, f"/api/tx/{activity.failed_tx}").json()["transaction"]
    assert failed["status"] == 0
    assert failed["error"].startswith(f"FaucetCooldownActive(recipient={activity.recipient}, availableAt=")
    assert failed["error_args"]["name"] == "FaucetCooldownActive"

    # The recipient's page lists the drip (an address met only in an event) and the failed attempt.
    address = get(explorer, f"/api/address/{activity.recipient.lower()}").json()
    assert address["address"] == activity.recipient and int(address["balance"]) > 0
    assert {t["hash"] for t in address["transactions"]} == {activity.drip_tx, activity.failed_tx}


def test_api__storage_and_da_views(explorer: DaemonProcess, activity: Activity, deployed_devnet) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    file = get(explorer, f"/api/storage/{activity.storage_root}").json()
    (submission,) = file["submissions"]
    receipt = w3.eth.get_transaction_receipt(activity.storage_tx)
    assert submission["tx_hash"] == activity.storage_tx and submission["submitter"] == USER.address
    assert submission["size"] == 3000 and submission["block_number"] == receipt["blockNumber"]
    assert int(submission["fee"]) > 0
    # No storage indexer runs here: the holders are unknown, said so rather than failing the page.
    assert file["holders"] is None and file["finalized"] is None
    listed = get(explorer, "/api/storage").json()["files"]
    assert [f["root"] for f in listed] == [activity.storage_root]

    blob = get(explorer, f"/api/da/{activity.da_root}").json()["blobs"][0]
    assert blob["sender"] == USER.address and int(blob["fee"]) > 0 and blob["verified_block"] is None
    members = get(explorer, "/api/da/signers").json()["members"]
    assert len(members) == deployed_devnet.da_signers


def test_search__every_kind_of_id_and_friendly_404s(explorer: DaemonProcess, activity: Activity) -> None:
    expected = {
        activity.drip_tx: f"/tx/{activity.drip_tx}",
        activity.storage_root: f"/storage/{activity.storage_root}",
        activity.da_root: f"/da/{activity.da_root}",
        activity.recipient.lower(): f"/address/{activity.recipient}",
        "1": "/block/1",
    }
    for query, path in expected.items():
        found = get(explorer, "/search", q=query)
        assert found.status_code == 303 and found.headers["location"] == path, query
    unknown = get(explorer, "/search", q="0x" + "ab" * 32)
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert "nothing found" in unknown.text and "Traceback" not in unknown.text
    # A block number beyond any chain (and beyond SQLite's integers) is not found, not an internal error.
    huge = "9" * 30
    for path in ("/block/notanumber", f"/block/{huge}", "/tx/0x12", "/address/0xnope", "/no/such/page"):
        page = get(explorer, path)
        assert page.status_code == 404 and "<h1>Not found</h1>" in page.text, path
    assert get(explorer, "/search", q=huge).status_code == 404
    assert get(explorer, "/api/blocks", before=huge).json()["blocks"] == get(explorer, "/api/blocks").json()["blocks"]
    api = get(explorer, "/api/tx/0x12")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert get(explorer, "/api/search", q="nothing").json()["error"]["code"] == "not_found"
    # A huge limit is capped; a malformed one is a clear 400.
    assert len(get(explorer, "/api/blocks", limit=10**9).json()["blocks"]) <= 100
    bad = get(explorer, "/api/blocks", limit="many")
    assert bad.status_code == 400 and "limit" in bad.json()["error"]["message"]


def test_etherscan_api__balance_txlist_abi_and_verified_source(
    explorer: DaemonProcess, activity: Activity, deployed_devnet
) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    deployment = Deployment.for_settings(deployed_devnet, w3.eth.chain_id)
    faucet = deployment.address("Faucet")

    def call(**params: object) -> dict:
        return get(explorer, "/api", **params).json()

    balance = call(module="account", action="balance", address=activity.recipient)
    assert balance == {"status": "1", "message": "OK", "result": str(w3.eth.get_balance(activity.recipient))}
    txlist = call(module="account", action="txlist", address=activity.recipient, sort="asc")["result"]
    assert [t["hash"] for t in txlist] == [activity.drip_tx, activity.failed_tx]
    assert [t["isError"] for t in txlist] == ["0", "1"] and txlist[0]["functionName"] == "drip"
    assert int(txlist[0]["timeStamp"]) > 0 and txlist[0]["nonce"] != ""
    # Pages of `offset` rows, newest first with sort=desc: the second page of one row is the first drip.
    second = call(module="account", action="txlist", address=activity.recipient, sort="desc", page=2, offset=1)
    assert [t["hash"] for t in second["result"]] == [activity.drip_tx]
    beyond = call(module="account", action="txlist", address=activity.recipient, page=10**30)
    assert (beyond["status"], beyond["message"]) == ("0", "No transactions found")
    abi = call(module="contract", action="getabi", address=faucet)["result"]
    assert json.loads(abi) == deployment.record("Faucet")["abi"]
    (source,) = call(module="contract", action="getsourcecode", address=faucet)["result"]
    assert source["ContractName"] == "Faucet" and source["CompilerVersion"].startswith("v0.8.28+commit")
    assert "contracts/faucet/Faucet.sol" in json.loads(source["SourceCode"][1:-1])["sources"]
    (unverified,) = call(module="contract", action="getsourcecode", address=activity.recipient)["result"]
    assert unverified["SourceCode"] == "" and unverified["ABI"] == "Contract source code not verified"
    assert call(module="proxy", action="eth_blockNumber")["result"] == hex(w3.eth.block_number)
    assert call(module="account", action="balance", address="0x123")["status"] == "0"


def test_pages__in_a_real_browser(explorer: DaemonProcess, activity: Activity, page: Page) -> None:
    page.goto(explorer.url)
    expect(page.locator("h2", has_text="Latest blocks")).to_be_visible()
    screenshot(page, "explorer-home-light")
    color_scheme(page, "dark")
    screenshot(page, "explorer-home-dark")
    color_scheme(page, "light")

    # Search a tx hash from the form, then follow links: tx → block → back to the tx → its sender.
    page.fill("input[name=q]", activity.drip_tx)
    page.click("form.search button")
    expect(page.locator("h1")).to_have_text("Transaction")
    expect(page.locator(".tag", has_text="Faucet.drip").first).to_be_visible()
    screenshot(page, "explorer-tx")
    page.locator("dd a[href^='/block/']").first.click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Block \d+$"))
    page.locator(f"a[href='/tx/{activity.drip_tx}']").click()
    page.locator("dd a[href^='/address/']").first.click()
    expect(page.locator("dd.mono").first).to_have_text(DRIPPER.address)

    # The failed drip shows its decoded custom error.
    page.goto(f"{explorer.url}/tx/{activity.failed_tx}")
    expect(page.locator("#revert")).to_contain_text("FaucetCooldownActive")

    # A storage root and a DA root from the search box; the file links to its submission.
    for query, heading in ((activity.storage_root, "Stored file"), (activity.da_root, "DA blob")):
        page.fill("input[name=q]", query)
        page.press("input[name=q]", "Enter")
        expect(page.locator("h1").first).to_have_text(heading)
    page.goto(f"{explorer.url}/storage/{activity.storage_root}")
    page.locator(f"a[href='/tx/{activity.storage_tx}']").click()
    expect(page.locator(".tag", has_text="Flow.submit").first).to_be_visible()

    # Our contract's page says its source is verified and shows it.
    page.locator("a.mono[href^='/address/']", has_text="Flow").first.click()
    expect(page.locator(".ok", has_text="verified")).to_be_visible()
    screenshot(page, "explorer-contract")

    for path in ("/da/signers", "/compute", "/mining", "/faucet", "/storage", "/da", "/blocks", "/txs", "/status"):
        page.goto(f"{explorer.url}{path}")
        expect(page.locator("h1").first).to_be_visible()

    phone(page)
    for path in ("/", f"/tx/{activity.drip_tx}", f"/storage/{activity.storage_root}"):
        page.goto(f"{explorer.url}{path}")
        assert_no_horizontal_scroll(page)
    screenshot(page, "explorer-phone")


def test_pages__unknown_search_is_a_friendly_page(explorer: DaemonProcess, page: Page, page_errors) -> None:
    page_errors.expect_status(404, "/search")
    page.goto(f"{explorer.url}/search?q=nothing-like-this")
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("nothing found for 'nothing-like-this'")


def test_market_api__listings_purchases_grants_providers_and_search(
    explorer: DaemonProcess, activity: Activity, market: MarketActivity
) -> None:
    listings = get(explorer, "/api/market").json()["listings"]
    assert [(row["id"], row["kind"], row["name"]) for row in listings] == [
        (market.model, "model", "tiny-lm"),
        (market.dataset, "dataset", "chats"),
    ]
    model, dataset = listings
    assert (model["private"], model["active"], model["sales"], model["providers"]) == (True, True, 1, 1)
    assert (dataset["private"], dataset["active"], dataset["sales"]) == (False, False, 1)
    assert dataset["price"] == str(2 * 10**15)  # updated before it was delisted
    assert model["lister"] == dataset["lister"] == LISTER.address and model["price"] == str(10**16)
    assert [row["id"] for row in get(explorer, "/api/market", kind="dataset").json()["listings"]] == [market.dataset]
    assert [row["id"] for row in get(explorer, "/api/market", limit=1).json()["listings"]] == [market.model]
    assert get(explorer, "/api/market", kind="song").status_code == 400

    page = get(explorer, f"/api/market/{market.model}").json()
    assert page["listing"] == model
    assert page["details"] == {
        "roots": [activity.storage_root], "size": 3000, "contentHash": "0x" + "01" * 32,
        "description": "A tiny byte LM", "license": "", "format": "zerog-bytelm",
        "listedAt": page["details"]["listedAt"], "updatedAt": page["details"]["listedAt"],
    }  # fmt: skip
    fee = 10**16 * FEE_BPS // 10_000
    assert [(p["buyer"], p["price"], p["fee"], p["state"]) for p in page["purchases"]] == [
        (USER.address, str(10**16), str(fee), "reclaimed"),
        (BUYER.address, str(10**16), str(fee), "granted"),
    ]
    assert page["purchases"][0]["reclaimed_tx"] == market.reclaim_tx
    assert page["purchases"][1]["tx_hash"] == market.model_buy_tx
    assert page["purchases"][1]["granted_tx"] == market.grant_tx
    # Newest first: the provider's grant without purchase, then the buyer's; the sealed key only as a prefix.
    grants = page["grants"]
    assert [g["grantee"] for g in grants] == [PROVIDER.address, BUYER.address]
    assert all(len(g["sealed_key"]) == 2 + 16 + 1 and g["sealed_key_bytes"] == 113 for g in grants)
    (provider,) = page["providers"]
    assert provider["provider"] == PROVIDER.address
    assert (provider["service"]["model"], provider["service"]["url"]) == ("tiny-lm", market.provider_url)
    assert [e["event"] for e in page["history"]] == ["ItemListed"]

    delisted = get(explorer, f"/api/market/{market.dataset}").json()
    assert [e["event"] for e in delisted["history"]] == ["ItemDelisted", "ItemUpdated", "ItemListed"]
    assert [(p["buyer"], p["state"], p["fee"]) for p in delisted["purchases"]] == [
        (BUYER.address, "paid", str(10**15 * FEE_BPS // 10_000))
    ]
    assert delisted["details"]["description"] == "Chats, cleaned" and delisted["details"]["contentHash"] is None
    for path in ("/api/market/999", "/api/market/nope", f"/api/market/{'9' * 30}"):
        missing = get(explorer, path)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", path
    assert "<h1>Not found</h1>" in get(explorer, "/market/999").text

    # The lister's and the buyer's address pages; a market tx links its listing.
    assert [row["id"] for row in get(explorer, f"/api/address/{LISTER.address}").json()["listings"]] == [
        market.model,
        market.dataset,
    ]
    bought = get(explorer, f"/api/address/{BUYER.address}").json()["purchases"]
    assert [(b["args"]["id"], b["name"]) for b in bought] == [(market.model, "tiny-lm"), (market.dataset, "chats")]
    tx = get(explorer, f"/api/tx/{market.model_buy_tx}").json()
    assert (tx["transaction"]["method"], tx["listings"]) == ("buy", [market.model])
    assert get(explorer, "/api/status").json()["listings"] == 2

    for query in (f"#{market.model}", f"listing {market.model}", f"Listing  {market.model}"):
        found = get(explorer, "/search", q=query)
        assert found.status_code == 303 and found.headers["location"] == f"/market/{market.model}", query
    for query in ("#999", f"#{'9' * 30}"):
        assert get(explorer, "/search", q=query).status_code == 404
    # A plain number is still a block.
    assert get(explorer, "/search", q=str(market.model)).headers["location"] == f"/block/{market.model}"


def test_market_pages__in_a_real_browser(
    explorer: DaemonProcess, activity: Activity, market: MarketActivity, page: Page
) -> None:
    page.goto(explorer.url)
    page.locator("nav a", has_text="Market").click()
    expect(page.locator("h1")).to_have_text("Market listings")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr").first).to_contain_text("private")
    expect(page.locator(f"tbody a[href='/address/{LISTER.address}']")).to_have_count(2)
    page.locator("a", has_text="Datasets").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("delisted")
    screenshot(page, "explorer-market")

    page.fill("input[name=q]", f"#{market.model}")
    page.press("input[name=q]", "Enter")
    expect(page.locator("h1")).to_have_text(f"Listing #{market.model} · tiny-lm")
    main = page.locator("main")
    expect(main).to_contain_text("A tiny byte LM")
    expect(main).to_contain_text("key granted")
    expect(main).to_contain_text("reclaimed")
    for href in (
        f"/storage/{activity.storage_root}",
        f"/compute/provider/{PROVIDER.address}",
        f"/tx/{market.grant_tx}",
        f"/address/{BUYER.address}",
    ):
        expect(page.locator(f"main a[href='{href}']").first).to_be_visible()
    screenshot(page, "explorer-listing")
    page.locator(f"main a[href='/storage/{activity.storage_root}']").click()
    expect(page.locator("h1")).to_have_text("Stored file")

    phone(page)
    for path in ("/market", f"/market/{market.model}", f"/market/{market.dataset}", f"/address/{BUYER.address}"):
        page.goto(f"{explorer.url}{path}")
        assert_no_horizontal_scroll(page)
    screenshot(page, "explorer-market-phone")


def test_restart__resumes_without_duplicates(explorer: DaemonProcess, deployed_devnet) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    explorer.stop()
    # Activity while it is down.
    deployment = Deployment.for_settings(deployed_devnet, w3.eth.chain_id)
    receipt = send_transaction(w3, DRIPPER, deployment.contract(w3, "Faucet").functions.drip(Account.create().address))
    explorer.start()
    assert wait_until(lambda: indexed_through(explorer, receipt.blockNumber), INDEX_TIMEOUT_SECONDS, 0.1)
    assert get(explorer, f"/api/tx/{receipt.transactionHash.to_0x_hex()}").status_code == 200
    with sqlite3.connect(db_path(deployed_devnet)) as db:
        blocks, txs_in_blocks = db.execute("SELECT COUNT(*), SUM(tx_count) FROM blocks").fetchone()
        (txs,) = db.execute("SELECT COUNT(*) FROM txs").fetchone()
    head = w3.eth.block_number
    assert blocks == head + 1 and txs == txs_in_blocks
    assert txs == sum(len(w3.eth.get_block(n)["transactions"]) for n in range(head + 1))


def test_reorg__rolled_back_and_reindexed(explorer: DaemonProcess, deployed_devnet) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    gone = w3.eth.send_transaction({"from": USER.address, "to": Account.create().address, "value": 1})
    assert wait_until(lambda: get(explorer, f"/api/tx/{gone.to_0x_hex()}").status_code == 200, INDEX_TIMEOUT_SECONDS)
    w3.provider.make_request("evm_revert", [snapshot])
    kept = w3.eth.send_transaction({"from": USER.address, "to": Account.create().address, "value": 2})
    w3.provider.make_request("anvil_mine", [3])
    assert wait_until(lambda: get(explorer, f"/api/tx/{kept.to_0x_hex()}").status_code == 200, INDEX_TIMEOUT_SECONDS)
    assert get(explorer, f"/api/tx/{gone.to_0x_hex()}").status_code == 404
    assert wait_until(lambda: indexed_through(explorer, w3.eth.block_number), INDEX_TIMEOUT_SECONDS, 0.1)
    for block in get(explorer, "/api/blocks", limit=10).json()["blocks"]:
        assert block["hash"] == w3.eth.get_block(block["number"])["hash"].to_0x_hex()
    assert "reorg detected" in explorer.log(20_000)


def test_outage__pages_show_a_banner_not_an_error(
    explorer: DaemonProcess, activity: Activity, market: MarketActivity, deployed_devnet
) -> None:
    explorer.stop()
    # Same data dir; the chain node stops answering once it runs (it does not start without its chain).
    relay = RpcRelay(deployed_devnet.rpc_url)
    down = explorer_daemon(deployed_devnet, ZG_RPC_URL=relay.url).start()
    relay.close()
    down.wait_healthy("degraded")
    try:
        home = get(down, "/")
        assert home.status_code == 200 and 'id="banner"' in home.text and "does not answer" in home.text
        tx = get(down, f"/tx/{activity.drip_tx}")
        assert tx.status_code == 200 and "Faucet.drip" in tx.text and 'id="banner"' in tx.text
        assert get(down, "/api/status").json()["rpcReachable"] is False
        # What only the contract holds is unavailable; what the events said is still there.
        listing = get(down, f"/api/market/{market.model}").json()
        assert listing["details"] is None and listing["providers"][0]["service"] is None
        assert listing["listing"]["sales"] == 1 and len(listing["purchases"]) == 2
        assert "unavailable" in get(down, f"/market/{market.model}").text
    finally:
        down.stop()
