"""The faucet daemon as users meet it: `python -m services.faucet` over real HTTP, against a real chain
with the contracts deployed by `ape run deploy`. No mocks.

The tests of this module share one chain and one daemon and run in file order: the budget test moves the
chain's clock past a budget window (and so past every on-chain cooldown), the empty-faucet test drains the
faucet; they come last.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_node import ChainNode
from chain_node.process import free_port
from services.faucet.dripper import Dripper, load_dripper
from services.faucet.errors import ApiError
from services.faucet.main import MAX_BODY_BYTES as FAUCET_MAX_BODY_BYTES
from services.faucet.store import FaucetStore
from tests.conftest import deployed_state, make_settings
from tests.daemon_process import DaemonProcess
from tests.guards import assert_guarded, json_code
from zerog import faucet as faucet_client
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.devnet.settings import NetworkSettings

#: The shared daemon's per-IP limit: high, so only the dedicated IP test runs into it.
SHARED_IP_LIMIT = 100
#: Runtime code that reverts every call: a recipient contract that refuses native tokens.
REJECTING_CODE = "0x60006000fd"


class FaucetDaemon(DaemonProcess):
    """One `python -m services.faucet` process; its log is in `<data_dir>/faucet.log`."""

    healthy_status = "ok"

    def __init__(self, settings: NetworkSettings, **env: str) -> None:
        super().__init__(settings, "faucet", "services.faucet", settings.faucet_port, **env)

    def claim(self, address: Any, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/api/claim", json={"address": address}, timeout=30, **kwargs)

    def info(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/info", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def _daemon_settings(settings: NetworkSettings, data_dir: Path, **overrides: Any) -> NetworkSettings:
    """`settings` with its own data dir (so its own store) and port: a second, independent faucet."""
    port = free_port()
    values = {"data_dir": data_dir, "faucet_port": port, "faucet_url": f"http://127.0.0.1:{port}", **overrides}
    return settings.model_copy(update=values)


def fresh_address() -> str:
    return Account.create().address


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def w3(deployed_devnet: NetworkSettings) -> Web3:
    return connect(deployed_devnet.rpc_url)


@pytest.fixture(scope="module")
def manifest(deployed_devnet: NetworkSettings, w3: Web3) -> Deployment:
    return Deployment.for_settings(deployed_devnet, w3.eth.chain_id)


@pytest.fixture(scope="module")
def daemon(deployed_devnet: NetworkSettings) -> Iterator[FaucetDaemon]:
    """The module's faucet, on the deployed chain's own data dir."""
    faucet = FaucetDaemon(deployed_devnet, ZG_FAUCET_IP_LIMIT=str(SHARED_IP_LIMIT)).start()
    yield faucet
    assert faucet.stop() == 0, faucet.log()


@pytest.fixture
def other_daemon(deployed_devnet: NetworkSettings, tmp_path: Path) -> Iterator[Callable[..., FaucetDaemon]]:
    """Factory: another faucet on the same chain, with a store of its own."""
    started: list[FaucetDaemon] = []

    def start(expect_status: str = "ok", overrides: dict[str, Any] | None = None, **env: str) -> FaucetDaemon:
        settings = _daemon_settings(deployed_devnet, tmp_path / f"faucet{len(started)}", **(overrides or {}))
        faucet = FaucetDaemon(settings, **env)
        started.append(faucet)
        return faucet.start(expect_status)

    yield start
    for faucet in started:
        faucet.stop()


@pytest.fixture
def in_process_dripper(deployed_devnet: NetworkSettings, tmp_path: Path) -> Iterator[Callable[..., Dripper]]:
    """Factory: the service's Dripper in this process (own store), to drive its revert mapping directly."""
    stores: list[FaucetStore] = []

    def create(account: LocalAccount | None = None) -> Dripper:
        stores.append(FaucetStore.open(tmp_path / f"dripper{len(stores)}.db"))
        return Dripper(
            deployed_devnet,
            connect(deployed_devnet.rpc_url),
            Deployment.for_settings(deployed_devnet),
            account or load_dripper(deployed_devnet),
            stores[-1],
        )

    yield create
    for store in stores:
        store.close()


@pytest.fixture(scope="module")
def first_claim(daemon: FaucetDaemon, w3: Web3) -> dict[str, Any]:
    """One successful claim through the SDK client, shared by the tests that build on it."""
    address = fresh_address()
    before = w3.eth.get_balance(address)
    answer = faucet_client.claim(daemon.url, address)
    return {"address": address, "before": before, "answer": answer, "claimed_at": time.time()}


# ---------------------------------------------------------------- page, health, info


def test_page__serves_claim_form(daemon: FaucetDaemon) -> None:
    response = httpx.get(daemon.url + "/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<form id="claim-form"' in page
    assert 'id="address"' in page and "/api/claim" in page and "/api/info" in page
    assert "https://" not in page  # self-contained: works offline


def test_health__reports_chain_and_follower(daemon: FaucetDaemon, manifest: Deployment) -> None:
    health = httpx.get(daemon.url + "/health").json()

    assert health["status"] == "ok"
    assert health["chain"] == "ok"
    assert health["chainId"] == manifest.chain_id
    assert health["faucet"] == manifest.address("Faucet")
    assert health["blockNumber"] >= 1


def test_info__shows_parameters_and_balance(
    daemon: FaucetDaemon, deployed_devnet: NetworkSettings, manifest: Deployment, w3: Web3
) -> None:
    info = daemon.info()

    assert info["chainId"] == manifest.chain_id == deployed_devnet.chain_id
    assert info["network"] == "0G local devnet"
    assert info["faucet"] == manifest.address("Faucet")
    assert info["dripper"] == dev_account(1).address
    assert info["dripAmount"] == str(deployed_devnet.faucet_drip_wei)
    assert info["cooldown"] == deployed_devnet.faucet_cooldown
    assert info["balance"] == str(w3.eth.get_balance(manifest.address("Faucet")))
    assert info["windowSeconds"] == deployed_devnet.faucet_window
    assert info["ipLimit"] == SHARED_IP_LIMIT
    assert isinstance(info["recentDrips"], list)


# ---------------------------------------------------------------- claims


def test_claim__sends_drip_on_chain(
    first_claim: dict[str, Any], deployed_devnet: NetworkSettings, manifest: Deployment, w3: Web3
) -> None:
    answer, address = first_claim["answer"], first_claim["address"]

    assert answer["address"] == address
    assert answer["amount"] == str(deployed_devnet.faucet_drip_wei)
    assert w3.eth.get_balance(address) == first_claim["before"] + deployed_devnet.faucet_drip_wei
    receipt = w3.eth.get_transaction_receipt(answer["txHash"])
    assert receipt["status"] == 1
    assert receipt["to"] == manifest.address("Faucet")
    assert receipt["from"] == dev_account(1).address
    assert receipt["blockNumber"] == answer["blockNumber"]
    assert answer["nextClaimAt"] >= first_claim["claimed_at"] + deployed_devnet.faucet_window - 1


def test_claim__same_address_again_is_429(daemon: FaucetDaemon, first_claim: dict[str, Any]) -> None:
    response = daemon.claim(first_claim["address"])

    error = assert_error(response, 429, "address_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 3600
    assert error["retryAfter"] == retry_after


def test_claim__any_case_of_same_address_is_limited(daemon: FaucetDaemon, first_claim: dict[str, Any]) -> None:
    response = daemon.claim(first_claim["address"].lower())

    assert_error(response, 429, "address_limited")


def test_claim__client_raises_with_retry_after(daemon: FaucetDaemon, first_claim: dict[str, Any]) -> None:
    with pytest.raises(faucet_client.FaucetError) as info:
        faucet_client.claim(daemon.url, first_claim["address"])

    assert info.value.status == 429
    assert info.value.code == "address_limited"
    assert info.value.retry_after and info.value.retry_after > 0
    assert "already claimed" in info.value.message and "retry in" in info.value.message


@pytest.mark.parametrize("case", ["lower", "upper"])
def test_claim__single_case_hex_is_accepted(daemon: FaucetDaemon, w3: Web3, case: str) -> None:
    address = fresh_address()
    digits = address[2:].lower() if case == "lower" else address[2:].upper()

    response = daemon.claim("0x" + digits)

    assert response.status_code == 200, response.text
    assert response.json()["address"] == address  # answered checksummed
    assert w3.eth.get_balance(address) > 0


def _bad_checksum(address: str) -> str:
    """`address` with the case of its first letter flipped: mixed case, wrong EIP-55 checksum."""
    i = next(i for i, c in enumerate(address) if i >= 2 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("0x1234", "40 hex digits"),
        ("hello", "40 hex digits"),
        ("12" * 20, "40 hex digits"),
        ("0x" + "g" * 40, "40 hex digits"),
        ("0x" + "a" * 41, "40 hex digits"),
        (_bad_checksum(Account.create().address), "checksum"),
        ("0x" + "0" * 40, "zero address"),
        (12345, "must be a string"),
    ],
)
def test_claim__bad_address_is_400(daemon: FaucetDaemon, address: Any, message: str) -> None:
    error = assert_error(daemon.claim(address), 400, "invalid_address")

    assert message in error["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"address": "0x', "not valid JSON"),
        (b"not json at all", "not valid JSON"),
        (b"", "body is missing"),
        (b'["0x0000000000000000000000000000000000000001"]', "JSON object"),
        (b'{"addr": "0x0000000000000000000000000000000000000001"}', '"address" is required'),
    ],
)
def test_claim__malformed_body_is_400(daemon: FaucetDaemon, content: bytes, message: str) -> None:
    response = httpx.post(
        f"{daemon.url}/api/claim", content=content, headers={"Content-Type": "application/json"}, timeout=30
    )

    error = assert_error(response, 400, "invalid_request")
    assert message in error["message"]


def test_claim__concurrent_claims_for_one_address_drip_once(daemon: FaucetDaemon, w3: Web3) -> None:
    address = fresh_address()
    responses: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: responses.append(daemon.claim(address))) for _ in range(4)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [200, 429, 429, 429]
    [ok] = [r for r in responses if r.status_code == 200]
    assert w3.eth.get_balance(address) == int(ok.json()["amount"])


def test_unknown_route__is_json_404(daemon: FaucetDaemon) -> None:
    response = httpx.get(daemon.url + "/api/nope")

    assert_error(response, 404, "not_found")


def test_claim__wrong_method_is_json_405(daemon: FaucetDaemon) -> None:
    assert_error(httpx.get(daemon.url + "/api/claim"), 405, "method_not_allowed")


def test_claim__recipient_refusing_funds_is_400(daemon: FaucetDaemon, w3: Web3) -> None:
    contract = fresh_address()
    w3.provider.make_request("anvil_setCode", [contract, REJECTING_CODE])  # type: ignore[arg-type]

    error = assert_error(daemon.claim(contract), 400, "recipient_rejected")

    assert contract in error["message"]
    assert_error(daemon.claim(contract), 400, "recipient_rejected")  # nothing was recorded


# ---------------------------------------------------------------- revert mapping (drip sent past the checks)


def test_send_drip__cooldown_revert_is_429(
    in_process_dripper: Callable[..., Dripper], first_claim: dict[str, Any]
) -> None:
    with pytest.raises(ApiError) as info:
        in_process_dripper().send_drip(first_claim["address"])

    assert (info.value.status, info.value.code) == (429, "cooldown_active")
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 3600


def test_send_drip__key_without_role_is_503(in_process_dripper: Callable[..., Dripper]) -> None:
    stranger = dev_account(5)

    with pytest.raises(ApiError) as info:
        in_process_dripper(stranger).send_drip(fresh_address())

    assert (info.value.status, info.value.code) == (503, "faucet_misconfigured")
    assert stranger.address in info.value.message and "DRIPPER_ROLE" in info.value.message


# ---------------------------------------------------------------- follower, restart


def test_info__lists_drips_seen_by_follower(daemon: FaucetDaemon, first_claim: dict[str, Any]) -> None:
    tx_hash = first_claim["answer"]["txHash"]
    deadline = time.monotonic() + 15
    while True:
        drips = {d["txHash"]: d for d in daemon.info()["recentDrips"]}
        if tx_hash in drips or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert tx_hash in drips, f"follower never recorded {tx_hash}:\n{daemon.log()}"
    drip = drips[tx_hash]
    assert drip["recipient"] == first_claim["address"]
    assert drip["amount"] == first_claim["answer"]["amount"]
    assert drip["blockNumber"] == first_claim["answer"]["blockNumber"]
    assert abs(drip["timestamp"] - first_claim["claimed_at"]) < 60


def test_restart__limits_survive(
    daemon: FaucetDaemon, first_claim: dict[str, Any], deployed_devnet: NetworkSettings
) -> None:
    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()
    daemon.start()

    response = daemon.claim(first_claim["address"])

    # address_limited comes from the service's store; without it the on-chain cooldown would answer.
    assert_error(response, 429, "address_limited")
    assert (deployed_devnet.data_dir / "faucet" / "faucet.db").is_file()
    assert first_claim["answer"]["txHash"] in {d["txHash"] for d in daemon.info()["recentDrips"]}


def _wait_for(predicate: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_follower__reorg_rolls_back_recent_drips(daemon: FaucetDaemon, w3: Web3) -> None:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    tx_hash = faucet_client.claim(daemon.url, fresh_address())["txHash"]

    def seen() -> bool:
        return tx_hash in {d["txHash"] for d in daemon.info()["recentDrips"]}

    assert _wait_for(seen), daemon.log()

    # Replace the drip's block by other blocks: the follower must notice and forget the drip.
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(2):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    assert _wait_for(lambda: not seen()), daemon.log()
    assert "reorg detected" in daemon.log(tail=100_000)


# ---------------------------------------------------------------- other daemons: IP limit, dead chain


def test_claim__ip_limit_is_429_and_failed_claims_cost_nothing(
    other_daemon: Callable[..., FaucetDaemon], first_claim: dict[str, Any], w3: Web3
) -> None:
    faucet = other_daemon(ZG_FAUCET_IP_LIMIT="2")

    # This store never saw the address, but the contract's cooldown does: refused, and not counted.
    assert_error(faucet.claim(first_claim["address"]), 429, "cooldown_active")
    assert faucet.claim(fresh_address()).status_code == 200
    assert faucet.claim(fresh_address()).status_code == 200
    third = fresh_address()
    response = faucet.claim(third)

    error = assert_error(response, 429, "ip_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert error["retryAfter"] == int(response.headers["Retry-After"])
    assert w3.eth.get_balance(third) == 0


def test_claim__chain_unreachable_is_503(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The chain stops under a running faucet (a faucet does not start without one): claims and info answer 503
    promptly, without naming the RPC URL, and /health says why."""
    settings = deployed_state(make_settings(tmp_path), tmp_path_factory)
    with ChainNode(settings) as chain:
        faucet = FaucetDaemon(settings).start()
        chain.stop()
        try:
            started = time.monotonic()
            response = faucet.claim(fresh_address())

            assert_error(response, 503, "chain_unavailable")
            assert time.monotonic() - started < 10
            assert settings.rpc_url not in response.text  # the RPC URL may hold an API key
            assert_error(httpx.get(faucet.url + "/api/info", timeout=30), 503, "chain_unavailable")
            assert httpx.get(faucet.url + "/health").json()["chain"] == "unreachable"
        finally:
            faucet.stop()


def test_client__nothing_listening_raises_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(faucet_client.FaucetUnavailableError) as info:
        faucet_client.claim(url, fresh_address(), timeout=5)

    assert info.value.status is None
    assert f"no faucet answers at {url}" in info.value.message
    assert "zg up" in info.value.message


# ---------------------------------------------------------------- last: spend the budget, drain the faucet


def _advance_chain(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_claim__budget_exhausted_is_503_with_retry_after(
    daemon: FaucetDaemon,
    deployed_devnet: NetworkSettings,
    manifest: Deployment,
    w3: Web3,
    in_process_dripper: Callable[..., Dripper],
) -> None:
    faucet_contract = manifest.contract(w3, "Faucet")
    admin = dev_account(0)
    window = deployed_devnet.faucet_budget_window
    # A budget of one drip, in a window of its own: the first claim spends it.
    send_transaction(w3, admin, faucet_contract.functions.setDripBudget(deployed_devnet.faucet_drip_wei, window))
    _advance_chain(w3, window)
    assert daemon.claim(fresh_address()).status_code == 200
    address = fresh_address()

    response = daemon.claim(address)

    error = assert_error(response, 503, "faucet_budget_exhausted")
    retry_after = int(response.headers["Retry-After"])
    assert error["retryAfter"] == retry_after and 0 < retry_after <= window
    assert w3.eth.get_balance(address) == 0
    # Sent past the service's check, the contract's FaucetBudgetExhausted revert maps the same way.
    with pytest.raises(ApiError) as info:
        in_process_dripper().send_drip(address)
    assert (info.value.status, info.value.code) == (503, "faucet_budget_exhausted")
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= window
    # The window ends: drips go on (the refused claim used up nothing).
    _advance_chain(w3, retry_after)
    assert daemon.claim(address).status_code == 200
    send_transaction(w3, admin, faucet_contract.functions.setDripBudget(deployed_devnet.faucet_budget_wei, window))


def test_claim__empty_faucet_is_503(
    daemon: FaucetDaemon, manifest: Deployment, w3: Web3, in_process_dripper: Callable[..., Dripper]
) -> None:
    faucet_contract = manifest.contract(w3, "Faucet")
    balance = w3.eth.get_balance(faucet_contract.address)
    admin = dev_account(0)
    send_transaction(w3, admin, faucet_contract.functions.withdraw(admin.address, balance))
    address = fresh_address()

    response = daemon.claim(address)

    error = assert_error(response, 503, "faucet_empty")
    assert "empty" in error["message"]
    assert w3.eth.get_balance(address) == 0
    assert daemon.info()["balance"] == "0"
    # Emptied between the balance check and the drip: the contract's FaucetEmpty revert maps the same way.
    with pytest.raises(ApiError) as info:
        in_process_dripper().send_drip(address)
    assert (info.value.status, info.value.code) == (503, "faucet_empty")
    assert "FaucetEmpty(balance=0" in info.value.message


def test_guard__oversized_foreign_host_and_cross_site_claims_are_refused(daemon: FaucetDaemon) -> None:
    body = b'{"address": "0x000000000000000000000000000000000000dEaD"}'
    assert_guarded(daemon.url, "/api/claim", FAUCET_MAX_BODY_BYTES, json_code, body=body)
    # The faucet's own page posts from its own origin: that one passes.
    own = httpx.post(f"{daemon.url}/api/claim", content=b"{}", headers={"origin": daemon.url})
    assert own.status_code == 400
