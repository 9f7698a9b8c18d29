"""The provider as users meet it: `python -m services.compute_provider` over real HTTP, paid by the SDK's
vouchers through the real `openai` client, on a real chain with the contracts of `ape run deploy`.

The module's daemon trains the test model on its first start (into its own model dir), registers itself, and
settles when it stops; the tests share it and use one user each (dev accounts 3..9).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from web3 import Web3

from services.compute_provider.main import MAX_BODY_BYTES as PROVIDER_MAX_BODY_BYTES
from tests.compute.provider_fixtures import TEST_MODEL, ProviderDaemon, provider_settings
from tests.guards import assert_guarded, json_code
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.compute import Compute, PaymentSession, Receipt, ReceiptError
from zerog.compute.protocol import HEADER_RECEIPT, HEADER_RECEIPT_SIGNATURE, Voucher, request_hash
from zerog.devnet.settings import NetworkSettings

FUNDS = 10**16
PROVIDER = dev_account(2)
MESSAGES = [{"role": "user", "content": "What is the chain id of the local network?"}]


@pytest.fixture(scope="module")
def daemon(deployed_devnet: NetworkSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderDaemon]:
    settings = provider_settings(deployed_devnet, tmp_path_factory.mktemp("provider"))
    provider = ProviderDaemon(settings).start()
    yield provider
    assert provider.stop() == 0, provider.log()


@pytest.fixture(scope="module")
def w3(deployed_devnet: NetworkSettings) -> Web3:
    return connect(deployed_devnet.rpc_url)


@pytest.fixture(scope="module")
def manifest(deployed_devnet: NetworkSettings, w3: Web3) -> Deployment:
    return Deployment.for_settings(deployed_devnet, w3.eth.chain_id)


def funded_user(settings: NetworkSettings, index: int, amount: int = FUNDS, acknowledge: bool = True) -> Compute:
    """Dev account `index` with `amount` in its sub-account with the provider (and the signer acknowledged)."""
    user = Compute(settings, dev_account(index))
    user.transfer(PROVIDER.address, amount, acknowledge=acknowledge)
    return user


def assert_openai_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code, error
    assert error["message"]
    return error


def voucher_post(
    url: str, user: Compute, body: dict[str, Any], amount: int, nonce: int, path: str = "/v1/chat/completions"
) -> httpx.Response:
    """A request with a hand-made voucher (what a client other than the SDK would send)."""
    return raw_voucher_post(url, user, json.dumps(body).encode(), amount, nonce, path)


def raw_voucher_post(
    url: str, user: Compute, raw: bytes, amount: int, nonce: int, path: str = "/v1/chat/completions"
) -> httpx.Response:
    voucher = Voucher(user.address, PROVIDER.address, amount, nonce, request_hash(raw))
    headers = {"content-type": "application/json", **voucher.headers(voucher.sign(user.account, user.domain))}
    return httpx.post(url + path, content=raw, headers=headers, timeout=30)


# ---------------------------------------------------------------- start, registration, models


def test_start__registers_service_on_chain(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    health = httpx.get(daemon.url + "/health").json()
    assert health["status"] == "ok" and health["model"] == TEST_MODEL
    [service] = Compute(deployed_devnet, dev_account(0)).services()
    assert service.provider == PROVIDER.address == health["provider"]
    assert (service.url, service.model, service.signer) == (daemon.url, TEST_MODEL, PROVIDER.address)
    assert (service.input_price, service.output_price) == (
        deployed_devnet.compute_input_price_wei,
        deployed_devnet.compute_output_price_wei,
    )
    assert service.stake == deployed_devnet.compute_stake_wei
    assert (daemon.settings.compute_model_dir / f"{TEST_MODEL}.pt").is_file()  # trained on first start


def test_models__lists_the_served_model_free(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    client = openai.OpenAI(base_url=daemon.url + "/v1", api_key="none")
    assert [m.id for m in client.models.list()] == [TEST_MODEL]
    assert client.models.retrieve(TEST_MODEL).id == TEST_MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


# ---------------------------------------------------------------- the openai client, paid


def test_openai_chat__non_streaming_is_paid_and_verified(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings
) -> None:
    user = funded_user(deployed_devnet, 3)
    session = user.session(PROVIDER.address)
    client = session.openai_client()

    answer = client.chat.completions.create(model=TEST_MODEL, messages=MESSAGES, max_tokens=20, temperature=0)

    assert isinstance(answer.choices[0].message.content, str)
    assert answer.choices[0].finish_reason in ("stop", "length")
    [receipt] = session.receipts
    assert (receipt.input_tokens, receipt.output_tokens) == (
        answer.usage.prompt_tokens,
        answer.usage.completion_tokens,
    )
    assert receipt.input_tokens == len(f"<|user|>\n{MESSAGES[0]['content']}\n<|assistant|>\n".encode())
    assert receipt.fee == receipt.input_tokens * session.service.input_price + receipt.output_tokens * (
        session.service.output_price
    )
    assert session.owed == receipt.fee == receipt.cumulative


def test_openai_chat__streaming_is_paid_and_verified(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    user = funded_user(deployed_devnet, 4)
    session = user.session(PROVIDER.address)
    client = session.openai_client()

    stream = client.chat.completions.create(
        model=TEST_MODEL, messages=MESSAGES, max_tokens=30, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish in (["stop"], ["length"])
    usage = chunks[-1].usage
    [receipt] = session.receipts
    assert (receipt.input_tokens, receipt.output_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert len(text) <= usage.completion_tokens <= 30  # one byte per token; U+FFFD for stray bytes
    # The next request's voucher covers the streamed one: the provider accepts it.
    client.chat.completions.create(model=TEST_MODEL, messages=MESSAGES, max_tokens=5)
    assert len(session.receipts) == 2
    assert session.owed == sum(r.fee for r in session.receipts)


def test_openai_completions__both_modes(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    user = funded_user(deployed_devnet, 5)
    session = user.session(PROVIDER.address)
    client = session.openai_client()

    answer = client.completions.create(model=TEST_MODEL, prompt="The chain", max_tokens=8, temperature=0)
    streamed = list(client.completions.create(model=TEST_MODEL, prompt="The chain", max_tokens=8, stream=True))

    assert answer.usage.prompt_tokens == len(b"The chain")
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert any(c.choices and c.choices[0].finish_reason for c in streamed)
    assert len(session.receipts) == 2 and session.owed == sum(r.fee for r in session.receipts)


def test_new_session__resumes_from_the_providers_account_view(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings
) -> None:
    """A new process (no local state) checks the provider's view and goes on paying exactly what is owed."""
    user = funded_user(deployed_devnet, 6)
    first = user.session(PROVIDER.address)
    first.openai_client().chat.completions.create(model=TEST_MODEL, messages=MESSAGES, max_tokens=5)

    second = Compute(deployed_devnet, dev_account(6)).session(PROVIDER.address)

    assert (second.owed, second.nonce) == (first.owed, first.nonce)
    second.openai_client().chat.completions.create(model=TEST_MODEL, messages=MESSAGES, max_tokens=5)
    assert second.owed == first.owed + second.receipts[-1].fee


# ---------------------------------------------------------------- bad input: refused before the model runs


def test_no_voucher__401_in_openai_shape(daemon: ProviderDaemon) -> None:
    client = openai.OpenAI(base_url=daemon.url + "/v1", api_key="none", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model=TEST_MODEL, messages=MESSAGES)
    assert info.value.code == "missing_voucher"
    response = httpx.post(daemon.url + "/v1/chat/completions", json={"model": TEST_MODEL, "messages": MESSAGES})
    error = assert_openai_error(response, 401, "missing_voucher")
    assert error["type"] == "authentication_error"


def test_bad_vouchers__401(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    user = funded_user(deployed_devnet, 7)
    body = {"model": TEST_MODEL, "messages": MESSAGES, "max_tokens": 4}
    raw = json.dumps(body).encode()
    good = Voucher(user.address, PROVIDER.address, 0, 1, request_hash(raw))
    signature = good.sign(user.account, user.domain)
    url = daemon.url + "/v1/chat/completions"

    def post(headers: dict[str, str], content: bytes = raw) -> httpx.Response:
        return httpx.post(url, content=content, headers={"content-type": "application/json", **headers})

    forged = good.sign(dev_account(8), user.domain)
    assert_openai_error(post(good.headers(forged)), 401, "invalid_signature")
    other = Voucher(user.address, dev_account(9).address, 0, 1, good.request_hash)
    assert_openai_error(post(other.headers(other.sign(user.account, user.domain))), 401, "wrong_provider")
    tampered = json.dumps({**body, "max_tokens": 5}).encode()
    assert_openai_error(post(good.headers(signature), tampered), 401, "request_hash_mismatch")
    partial = {k: v for k, v in good.headers(signature).items() if k != "X-0G-Nonce"}
    assert_openai_error(post(partial), 401, "invalid_voucher")
    assert_openai_error(post({**good.headers(signature), "X-0G-Amount": "lots"}), 401, "invalid_voucher")

    assert post(good.headers(signature)).status_code == 200
    # The very same request again: a replay.
    assert_openai_error(post(good.headers(signature)), 401, "voucher_replayed")


def test_voucher_below_owed__402(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    user = funded_user(deployed_devnet, 8)
    body = {"model": TEST_MODEL, "messages": MESSAGES, "max_tokens": 4}
    first = voucher_post(daemon.url, user, body, 0, 1)
    assert first.status_code == 200
    fee = Receipt.from_json(json.loads(first.headers[HEADER_RECEIPT])).fee

    error = assert_openai_error(voucher_post(daemon.url, user, body, fee - 1, 2), 402, "voucher_below_owed")
    assert str(fee) in error["message"]
    assert voucher_post(daemon.url, user, body, fee, 3).status_code == 200


def test_underfunded_and_unacknowledged__refused(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    body = {"model": TEST_MODEL, "messages": MESSAGES, "max_tokens": 200}
    poor = funded_user(deployed_devnet, 9, amount=10**9)
    error = assert_openai_error(voucher_post(daemon.url, poor, body, 0, 1), 402, "insufficient_balance")
    assert "zg compute transfer" in error["message"]
    assert error["type"] == "payment_required"

    unacked = Compute(deployed_devnet, dev_account(1))
    unacked.transfer(PROVIDER.address, FUNDS, acknowledge=False)
    assert_openai_error(voucher_post(daemon.url, unacked, body, 0, 1), 401, "signer_not_acknowledged")
    assert httpx.get(f"{daemon.url}/v1/account/{poor.address}").json()["nonce"] == 0  # nothing recorded


def test_malformed_requests__400_and_404(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    user = funded_user(deployed_devnet, 3)
    fresh_nonce = 10**6  # a malformed request uses no nonce: the same one serves every case
    for content, param in [
        (b"{not json", None),
        (b"[]", None),
        (json.dumps({"model": TEST_MODEL}).encode(), "messages"),
        (json.dumps({"model": TEST_MODEL, "messages": []}).encode(), "messages"),
        (json.dumps({"model": TEST_MODEL, "messages": MESSAGES, "max_tokens": 10**6}).encode(), "max_tokens"),
        (json.dumps({"model": TEST_MODEL, "messages": MESSAGES, "n": 2}).encode(), "n"),
        (json.dumps({"model": TEST_MODEL, "messages": MESSAGES, "temperature": 9}).encode(), "temperature"),
        (json.dumps({"model": TEST_MODEL, "messages": [{"role": "tool", "content": "x"}]}).encode(), None),
    ]:
        response = raw_voucher_post(daemon.url, user, content, 0, fresh_nonce)
        error = assert_openai_error(response, 400, response.json()["error"]["code"])
        assert error["type"] == "invalid_request_error"
        if param:
            assert error["param"].startswith(param), (content, error)

    client = user.session(PROVIDER.address).openai_client(max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert info.value.code == "model_not_found"
    assert_openai_error(httpx.get(daemon.url + "/v1/nothing"), 404, "not_found")


def test_deeply_nested_body__400_not_500(daemon: ProviderDaemon, deployed_devnet: NetworkSettings) -> None:
    """Found by fuzzing (tests/faults/test_fuzz.py): JSON nested past Python's recursion limit was a 500."""
    user = funded_user(deployed_devnet, 3)
    for path in ("/v1/chat/completions", "/v1/completions"):
        for content in (b"[" * 100_000, b'{"model":' * 5000):
            response = raw_voucher_post(daemon.url, user, content, 0, 10**6, path)  # paid for: it gets parsed
            assert_openai_error(response, 400, "invalid_json")
    assert httpx.get(daemon.url + "/v1/models").status_code == 200


def test_sdk_rejects_a_receipt_not_signed_by_the_service(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings
) -> None:
    user = Compute(deployed_devnet, dev_account(3))
    session = PaymentSession(user.account, user.service(PROVIDER.address), user.domain)
    body = b'{"model": "x"}'
    headers = session.voucher_headers(body)
    receipt = Receipt(user.address, PROVIDER.address, request_hash(body), int(headers["X-0G-Nonce"]), 1, 1, 1, 1)
    with pytest.raises(ReceiptError, match="not by the service's signer"):
        session.accept(receipt, receipt.sign(dev_account(9), user.domain))
    overcharged = Receipt(user.address, PROVIDER.address, request_hash(body), receipt.nonce, 1, 1, 10**18, 10**18)
    with pytest.raises(ReceiptError, match="registered prices"):
        session.accept(overcharged, overcharged.sign(PROVIDER, user.domain))
    assert session.owed == 0


def test_receipt_headers__verify_against_the_chain(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings, w3: Web3, manifest: Deployment
) -> None:
    """The receipt's EIP-712 digest as the contract computes it is what the provider's signer signed."""
    user = Compute(deployed_devnet, dev_account(5))
    session = user.session(PROVIDER.address)
    body = {"model": TEST_MODEL, "messages": MESSAGES, "max_tokens": 3}
    response = voucher_post(daemon.url, user, body, session.owed, session.nonce + 1)
    receipt = Receipt.from_json(json.loads(response.headers[HEADER_RECEIPT]))
    digest = manifest.contract(w3, "InferenceServing").functions.hashReceipt(receipt.as_tuple()).call()
    signer = w3.eth.account._recover_hash(
        digest, signature=bytes.fromhex(response.headers[HEADER_RECEIPT_SIGNATURE][2:])
    )
    assert signer == PROVIDER.address


# ---------------------------------------------------------------- the CLI


def zg(settings: NetworkSettings, tmp_path: Path, key_index: int, *args: str) -> Any:
    from click.testing import CliRunner

    from zerog.cli import cli

    env = {
        "ZG_PRIVATE_KEY": dev_account(key_index).key.hex(),
        "ZG_DEPLOYMENTS_DIR": str(settings.deployments_dir),
        "ZG_DATA_DIR": str(tmp_path),
    }
    return CliRunner().invoke(cli, ["--rpc-url", settings.rpc_url, *args], env=env)


def test_cli__ls_deposit_transfer_chat_refund(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings, tmp_path: Path
) -> None:
    listed = zg(deployed_devnet, tmp_path, 9, "--json", "compute", "ls")
    assert listed.exit_code == 0, listed.output
    assert [s["provider"] for s in json.loads(listed.output)] == [PROVIDER.address]
    human = zg(deployed_devnet, tmp_path, 9, "compute", "ls")
    assert PROVIDER.address in human.output and f"{TEST_MODEL} at {daemon.url}" in human.output
    assert f"{deployed_devnet.compute_input_price_wei} wei per input token" in human.output

    deposited = zg(deployed_devnet, tmp_path, 9, "compute", "deposit", "0.5")
    assert deposited.exit_code == 0, deposited.output
    assert "deposited 0.5 0G" in deposited.output
    moved = zg(deployed_devnet, tmp_path, 9, "--json", "compute", "transfer", PROVIDER.address, "0.01 0G")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output)["subAccount"]["acknowledgedSigner"] == PROVIDER.address

    chat = zg(deployed_devnet, tmp_path, 9, "compute", "chat", PROVIDER.address, "Hello", "--max-tokens", "12")
    assert chat.exit_code == 0, chat.output
    assert "tokens" in chat.output and "wei" in chat.output
    answer = zg(deployed_devnet, tmp_path, 9, "--json", "compute", "chat", PROVIDER.address, "Hi", "--max-tokens", "5")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["receipt"]["nonce"] == 2  # the second request: a fresh session re-synced

    requested = zg(deployed_devnet, tmp_path, 9, "compute", "refund", PROVIDER.address)
    assert requested.exit_code == 0, requested.output
    assert "refund of" in requested.output
    early = zg(deployed_devnet, tmp_path, 9, "compute", "refund", PROVIDER.address)
    assert early.exit_code == 1
    assert "unlocks at" in early.output
    withdrawn = zg(deployed_devnet, tmp_path, 9, "compute", "withdraw")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "withdrew 0.49 0G" in withdrawn.output

    bad = zg(deployed_devnet, tmp_path, 9, "compute", "transfer", PROVIDER.address, "lots")
    assert bad.exit_code == 2 and "not an amount" in bad.output
    unknown = zg(deployed_devnet, tmp_path, 9, "compute", "transfer", dev_account(9).address, "1")
    assert unknown.exit_code == 1 and "has no inference service" in unknown.output


# ---------------------------------------------------------------- settlement on shutdown


def test_shutdown__settles_exactly_the_signed_amounts(
    daemon: ProviderDaemon, deployed_devnet: NetworkSettings, w3: Web3, manifest: Deployment
) -> None:
    """Runs last in this module: stopping the daemon settles every user's latest voucher, paying exactly its
    amount (the fees of every request but each user's last, whose fee the next voucher would carry)."""
    serving = manifest.contract(w3, "InferenceServing")
    views = {i: httpx.get(f"{daemon.url}/v1/account/{dev_account(i).address}").json() for i in (3, 4, 5, 6, 7, 8, 9)}
    before = serving.functions.earnings(PROVIDER.address).call()

    assert daemon.stop() == 0, daemon.log()

    expected = 0
    for i, view in views.items():
        account = serving.functions.getSubAccount(dev_account(i).address, PROVIDER.address).call()
        voucher = view["voucher"]
        if int(voucher["amount"]) == 0:  # a user's first voucher promises nothing: no gas spent on it
            assert (account[1], account[2]) == (0, 0), i
            continue
        assert (account[1], account[2]) == (int(voucher["amount"]), voucher["nonce"]), i
        expected += int(voucher["amount"])
    assert serving.functions.earnings(PROVIDER.address).call() - before == expected > 0
    assert "on shutdown" in daemon.log()
    daemon.start()  # the module fixture stops it again
    # Nothing is settled twice: a restart has nothing left to settle.
    assert httpx.get(daemon.url + "/health").json()["unsettled"] == 0


def test_cli_path__account_json(daemon: ProviderDaemon, deployed_devnet: NetworkSettings, tmp_path: Path) -> None:
    """`zg compute account` reads the same sub-account the provider settled against."""
    result = zg(deployed_devnet, tmp_path, 4, "--json", "compute", "account", PROVIDER.address)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["user"] == dev_account(4).address
    assert int(data["subAccount"]["settled"]) > 0


def test_guard__oversized_foreign_host_and_cross_site_requests_are_refused(daemon: ProviderDaemon) -> None:
    body = b'{"model": "x", "messages": []}'
    assert_guarded(daemon.url, "/v1/chat/completions", PROVIDER_MAX_BODY_BYTES, json_code, body=body)


def test_cheap_checks__nothing_is_parsed_for_a_request_nobody_pays_for(daemon: ProviderDaemon) -> None:
    """The voucher is checked before the body is parsed or tokenised: garbage without one is a 401, not a 400."""
    url = daemon.url + "/v1/chat/completions"
    for content in (b"{not json", b"[]", b"x" * 100_000):
        response = httpx.post(url, content=content, headers={"content-type": "application/json"})
        assert_openai_error(response, 401, "missing_voucher")
