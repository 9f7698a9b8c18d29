"""Restart safety: the provider is killed (SIGKILL, no graceful shutdown) in the middle of a stream; after a
restart it still settles the vouchers it had received, charges nothing for the cut stream, and the client's
session picks up where it was. Serves a checkpoint given by path (an untrained model that streams slowly)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from web3 import Web3

from chain_node.process import wait_until
from tests.compute.provider_fixtures import ProviderDaemon, provider_settings, slow_checkpoint
from tests.conftest import REPO_ROOT, tool_env
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect
from zerog.compute import Compute
from zerog.devnet.settings import NetworkSettings

PROVIDER = dev_account(2)
MODEL = "slow-test"
MESSAGES = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def settings(deployed_devnet: NetworkSettings, tmp_path_factory: pytest.TempPathFactory) -> NetworkSettings:
    data_dir = tmp_path_factory.mktemp("restart")
    checkpoint = slow_checkpoint(data_dir / "slow.pt")
    return provider_settings(deployed_devnet, data_dir, compute_model_path=checkpoint, compute_model_name=MODEL)


@pytest.fixture
def daemon(settings: NetworkSettings) -> Iterator[ProviderDaemon]:
    provider = ProviderDaemon(settings).start()
    yield provider
    provider.stop()


def test_kill_mid_stream__received_vouchers_settle_after_restart(
    daemon: ProviderDaemon, settings: NetworkSettings, tmp_path: Path
) -> None:
    user = Compute(settings, dev_account(3))
    user.transfer(PROVIDER.address, 10**17)
    serving = user.serving
    session = user.session(PROVIDER.address)
    client = session.openai_client(max_retries=0)
    client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=4, temperature=0)
    first_fee = session.owed

    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=256, temperature=0, stream=True)
    received = [next(stream) for _ in range(3)]  # the stream is running...
    assert received[1].choices[0].delta.content
    daemon.kill()  # ...and the provider dies
    with pytest.raises((openai.APIError, httpx.HTTPError)):
        list(stream)
    # The voucher of the cut stream (promising the first request's fee) was committed before the model ran.
    assert serving.functions.getSubAccount(user.address, PROVIDER.address).call()[2] == 0

    restarted = ProviderDaemon(settings.model_copy(update={"compute_settle_interval": 1})).start()
    try:
        health = httpx.get(restarted.url + "/health").json()
        assert health["unsettled"] in (0, 1)
        settled = wait_until(
            lambda: serving.functions.getSubAccount(user.address, PROVIDER.address).call()[2] == 2, 30, 0.2
        )
        assert settled, restarted.log()
        account = serving.functions.getSubAccount(user.address, PROVIDER.address).call()
        assert account[1] == first_fee  # exactly what the user had signed, nothing for the cut stream
        assert serving.functions.earnings(PROVIDER.address).call() == first_fee
        assert "were not charged" in restarted.log()

        # The same client goes on: it re-syncs (its last request had no receipt) and pays exactly what is owed.
        client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=4, temperature=0)
        assert session.owed == first_fee + session.receipts[-1].fee
        assert session.receipts[-1].nonce == 3
    finally:
        assert restarted.stop() == 0, restarted.log()
    account = serving.functions.getSubAccount(user.address, PROVIDER.address).call()
    assert (account[1], account[2]) == (first_fee, 2)  # the last voucher promised nothing new: no transaction


def test_restart__keeps_registration_and_is_idempotent(daemon: ProviderDaemon, settings: NetworkSettings) -> None:
    w3: Web3 = connect(settings.rpc_url)
    serving = Deployment.for_settings(settings, w3.eth.chain_id).contract(w3, "InferenceServing")
    registered = serving.events.ServiceRegistered().get_logs(from_block=0)
    updated = serving.events.ServiceUpdated().get_logs(from_block=0)
    assert [e["args"]["provider"] for e in registered] == [PROVIDER.address]
    assert updated == []
    service = serving.functions.getService(PROVIDER.address).call()
    assert service[9] == MODEL


def test_client_drops_stream__charged_for_computed_tokens_and_session_resyncs(
    daemon: ProviderDaemon, settings: NetworkSettings
) -> None:
    user = Compute(settings, dev_account(4))
    user.transfer(PROVIDER.address, 10**17)
    session = user.session(PROVIDER.address)
    client = session.openai_client(max_retries=0)

    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=256, temperature=0, stream=True)
    [next(stream) for _ in range(3)]
    # One request per user at a time: each voucher must cover the previous request's receipt.
    other = Compute(settings, dev_account(4)).session(PROVIDER.address, sync=False).openai_client(max_retries=0)
    with pytest.raises(openai.ConflictError) as info:
        other.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=1)
    assert info.value.code == "request_in_flight"
    stream.close()  # the client goes away mid-stream

    view_url = f"{daemon.url}/v1/account/{user.address}"

    def settled() -> bool:
        # On a loaded 2-core box the provider may take longer than httpx's 5 s default to answer while it stops the
        # abandoned generation: a slow answer is "not yet", not a failure.
        try:
            return not httpx.get(view_url, timeout=30).json()["inflight"]
        except httpx.TimeoutException:
            return False

    assert wait_until(settled, 60, 0.1), daemon.log()
    [partial] = httpx.get(view_url).json()["receipts"]
    assert 3 <= partial["receipt"]["outputTokens"] < 256  # charged for what was computed, not for max_tokens
    assert session.owed == 0 and session.receipts == []  # the client never saw that receipt...

    client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=2, temperature=0)

    # ...and took it from the provider's view (checked: our voucher's request, the signer, the prices).
    assert [r.nonce for r in session.receipts] == [1, 2]
    assert session.receipts[0].fee == int(partial["receipt"]["fee"])
    assert session.owed == sum(r.fee for r in session.receipts)


def test_start__settle_interval_not_below_refund_lock_is_refused(settings: NetworkSettings, tmp_path: Path) -> None:
    refund_lock = settings.compute_refund_lock
    bad = provider_settings(settings, tmp_path, compute_settle_interval=refund_lock)
    proc = subprocess.run(
        [sys.executable, "-m", "services.compute_provider"],
        env=tool_env(bad),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert f"must be shorter than the contract's refund timelock ({refund_lock} s)" in proc.stdout
