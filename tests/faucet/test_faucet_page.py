"""The faucet's web page (services/faucet/static/index.html) in a real browser (tests/browser.py), served by the faucet
daemon on a chain with the contracts deployed: a claim, an invalid address, light and dark, a phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from chain_node.process import wait_until
from tests.browser import PageErrors, assert_no_horizontal_scroll, color_scheme, phone, screenshot
from tests.faucet.test_faucet_api import FaucetDaemon, fresh_address
from zerog import faucet as faucet_client
from zerog.chain import connect
from zerog.devnet.settings import NetworkSettings


@pytest.fixture(scope="module")
def daemon(deployed_devnet: NetworkSettings) -> Iterator[FaucetDaemon]:
    faucet = FaucetDaemon(deployed_devnet).start()
    yield faucet
    assert faucet.stop() == 0, faucet.log()


def open_faucet(page: Page, daemon: FaucetDaemon) -> None:
    page.goto(daemon.url)
    # The status line shows the block once /api/info has answered and the page has rendered it.
    expect(page.locator("#status")).to_have_text(re.compile(r"^block \d+$"))


def claim(page: Page, address: str) -> None:
    page.get_by_label("Your address").fill(address)
    page.get_by_role("button", name="Claim").click()


def test_claim__shows_the_drip_and_funds_the_address(
    page: Page, daemon: FaucetDaemon, deployed_devnet: NetworkSettings
) -> None:
    address = fresh_address()
    open_faucet(page, daemon)

    claim(page, address)

    result = page.locator("#result")
    expect(result).to_have_class("ok")
    expect(result.locator(".title")).to_have_text(re.compile(rf"^Sent \d.* to {address}$"))
    # The page looks again until the follower lists the drip, not at its next 5 s refresh.
    expect(page.locator("#drips tbody td.mono").first).to_have_attribute("title", address, timeout=2000)
    assert connect(deployed_devnet.rpc_url).eth.get_balance(address) == int(daemon.info()["dripAmount"])


def test_invalid_address__shows_the_faucets_message(page: Page, page_errors: PageErrors, daemon: FaucetDaemon) -> None:
    page_errors.expect_status(400, "/api/claim")
    open_faucet(page, daemon)

    claim(page, "0x1234")

    result = page.locator("#result")
    expect(result).to_have_class("err")
    expect(result.locator(".title")).to_have_text("Claim failed")
    expect(result.locator(".body")).to_have_text(daemon.claim("0x1234").json()["error"]["message"])


def test_layout__light_dark_and_a_phone(page: Page, daemon: FaucetDaemon) -> None:
    # A row in the drips table, the widest part, once the faucet's follower has seen it.
    tx_hash = faucet_client.claim(daemon.url, fresh_address())["txHash"]
    assert wait_until(lambda: any(d["txHash"] == tx_hash for d in daemon.info()["recentDrips"]), 5, 0.1)
    open_faucet(page, daemon)

    screenshot(page, "faucet-light")
    color_scheme(page, "dark")
    screenshot(page, "faucet-dark")
    phone(page)

    assert_no_horizontal_scroll(page)
    screenshot(page, "faucet-phone")
