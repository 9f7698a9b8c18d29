"""kill -9 of each daemon in the middle of its work, then a restart by the same command line and env; and a chain
frozen (SIGSTOP) for a few seconds under a client at work. Afterwards the operation completes on retry (or failed
with a clear error), nothing stored or paid is lost, and nothing is paid twice — counted on chain: Flow Submit
events per root, DataUpload events per DA root, Dripped events per address, the miner's accepted answers.

The provider killed mid-stream is tests/compute/test_provider_restart.py (vouchers settle after the restart, the cut
stream is not charged); the node killed mid-batch at the RPC level is tests/storage/test_node_api.py (test_kill9_*);
a signer killed after storing is tests/da/test_signer_api.py (test_kill_9_*). These ones drive the SDK clients."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from services.storage_miner.mining.config import MINER_DEV_INDEX
from tests.faults.network import BLOCKS_PER_EPOCH, DRIP_WEI, MODEL, PROVIDER, FaultNetwork, record
from tests.storage.node_fixtures import wait_for
from tests.storage.test_miner import accepted_on_chain, miner_id
from zerog.accounts import dev_account
from zerog.compute import Compute
from zerog.da.client import DAClient
from zerog.da.errors import DAError
from zerog.errors import ZeroGError
from zerog.storage.client import download, upload
from zerog.storage.merkle import SEGMENT_SIZE, FileTree

#: The faucet's dev account (DEV_DRIPPER_INDEX).
DRIPPER_DEV_INDEX = 1
#: Every wait of this module is bounded by this.
WAIT_SECONDS = 30
#: How long a freeze lasts: a few seconds, below every client's RPC timeout (the 45 s one is test_chain_outage).
FREEZE_SECONDS = 3


class Background:
    """`work()` in a thread: its result or its exception, joined with a bound."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            self.result = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def join(self, timeout: float = WAIT_SECONDS * 4) -> Background:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the client did not return within {timeout}s"
        return self


def submits_of(fault_net: FaultNetwork, sender: str) -> int:
    """Flow Submit events paid by `sender` (every test pays from a fresh account): what it paid, on chain."""
    flow = fault_net.net.flow
    return len(flow.events.Submit().get_logs(from_block=0, argument_filters={"sender": sender}))


def uploads_of(fault_net: FaultNetwork, root: str) -> int:
    entrance = fault_net.da.contracts.entrance
    logs = entrance.events.DataUpload().get_logs(
        from_block=0, argument_filters={"dataRoot": bytes.fromhex(root.removeprefix("0x"))}
    )
    return len(logs)


def drips_to(fault_net: FaultNetwork, address: str) -> int:
    faucet = fault_net.net.deployment.contract(fault_net.w3, "Faucet")
    return len(faucet.events.Dripped().get_logs(from_block=0, argument_filters={"recipient": address}))


def uploaded_segments(fault_net: FaultNetwork, root: str) -> int:
    info = fault_net.node.call("zgs_getFileInfo", root, True)
    return int(info["uploadedSegNum"]) if info else 0


# ---------------------------------------------------------------- kill -9


def test_kill_storage_node__mid_upload_resumes_without_paying_twice(fault_net: FaultNetwork, tmp_path: Path) -> None:
    account = fault_net.fresh_account()
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(24 * SEGMENT_SIZE + 123))
    root = FileTree.from_path(path).root_hex
    deployment = fault_net.net.deployment

    first = Background(lambda: upload(path, fault_net.nodes(), fault_net.w3, account, deployment, timeout=WAIT_SECONDS))
    wait_for(lambda: uploaded_segments(fault_net, root) > 0 or not first.thread.is_alive(), WAIT_SECONDS, "segments")
    fault_net.node.kill()
    first.join()
    fault_net.node.start()
    killed_mid = first.error is not None
    if killed_mid:  # what the user sees: a clear error from the SDK, not a hang
        assert isinstance(first.error, ZeroGError | httpx.HTTPError | OSError), repr(first.error)

    again = upload(path, fault_net.nodes(), fault_net.w3, account, deployment, timeout=WAIT_SECONDS)
    assert again.tx_hash is None  # resumed: paid nothing the second time
    paid = submits_of(fault_net, account.address)
    copy = tmp_path / "copy.bin"
    download(root, copy, fault_net.nodes())
    lost = sum(a != b for a, b in zip(copy.read_bytes(), path.read_bytes(), strict=True))
    record("fault", daemon="storage node", fault="kill -9 mid-upload", survived=paid == 1 and lost == 0, mid=killed_mid,
           bytes_lost=lost,
           double_payments=paid - 1)  # fmt: skip
    assert paid == 1 and lost == 0


@pytest.fixture
def stored_file(fault_net: FaultNetwork, tmp_path: Path) -> str:
    """Something for the miner to mine, whatever ran before."""
    path = tmp_path / "mined.bin"
    path.write_bytes(os.urandom(3 * SEGMENT_SIZE + 1))
    nodes, deployment = fault_net.nodes(), fault_net.net.deployment
    return upload(path, nodes, fault_net.w3, fault_net.fresh_account(), deployment, timeout=WAIT_SECONDS).root


def test_kill_miner__mid_submit_no_answer_counted_twice(fault_net: FaultNetwork, stored_file: str) -> None:
    """The node is killed as soon as its miner logs an answer found (its submit is on the way), restarted, and
    mines on: every accepted answer on chain is unique, no epoch takes more than its target, rewards match."""
    node, net = fault_net.node, fault_net.net
    ident = miner_id(fault_net.settings, "node")
    start = net.w3.eth.block_number
    before = node.log(tail=10**7).count("found an answer")
    net.mine(BLOCKS_PER_EPOCH)  # a new epoch: the miner searches (difficulty 1) and submits at once
    wait_for(lambda: node.log(tail=10**7).count("found an answer") > before, WAIT_SECONDS, "the miner to find one")
    node.kill()
    node.start()
    # The restarted miner settles what it had sent (accepted or failed, never stuck "sent") and goes on.
    mark = net.w3.eth.block_number
    net.mine(BLOCKS_PER_EPOCH)
    wait_for(lambda: accepted_on_chain(net, ident, mark + 1), WAIT_SECONDS, "an answer after the restart")

    def settled() -> bool:  # nothing left "sent": each answer accepted or failed, as the chain says
        answers = httpx.get(f"{node.url}/mining", timeout=10).json()["answers"]
        return not answers.get("sent") and answers["accepted"] == len(accepted_on_chain(net, ident, 0))

    wait_for(settled, WAIT_SECONDS, "the miner's own count to match the chain")
    accepted = accepted_on_chain(net, ident, start + 1)
    keys = [(a["epoch"], a["nonce"]) for a in accepted]
    per_epoch: dict[int, int] = {}
    for epoch, _ in keys:
        per_epoch[epoch] = per_epoch.get(epoch, 0) + 1
    doubles = len(keys) - len(set(keys))
    record("fault", daemon="miner", fault="kill -9 after an answer was found", survived=True, bytes_lost=0,
           double_payments=doubles)  # fmt: skip
    assert doubles == 0
    assert max(per_epoch.values()) <= fault_net.settings.storage_mining_target_answers


def test_kill_miner__submit_still_in_the_mempool_is_counted_when_it_lands(
    fault_net: FaultNetwork, stored_file: str
) -> None:
    """Blocks not mined on their own (automine off): the node is killed while its answer's transaction waits in the
    chain's mempool, restarted, and then the block comes. The restarted miner must not write that answer off as
    "not sent": its own count (accepted, not failed) matches the chain's."""
    node, net, w3 = fault_net.node, fault_net.net, fault_net.w3
    ident = miner_id(fault_net.settings, "node")
    owner = dev_account(MINER_DEV_INDEX).address

    def pending() -> bool:
        return w3.eth.get_transaction_count(owner, "pending") > w3.eth.get_transaction_count(owner, "latest")

    found = node.log(tail=10**7).count("found an answer")
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        net.mine(BLOCKS_PER_EPOCH)  # a new epoch; the miner's makeContext waits in the mempool...
        wait_for(pending, WAIT_SECONDS, "the miner's makeContext")
        net.mine(1)  # ...lands, and its first answer's submit waits in the mempool
        wait_for(lambda: node.log(tail=10**7).count("found an answer") > found and pending(), WAIT_SECONDS, "submit")
        node.kill()
        node.start()
        time.sleep(1)  # the restarted miner has looked at the answers of its previous run
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    net.mine(1)  # the submit lands (the restarted miner may send more meanwhile: automine mines those)

    def counts() -> tuple[int, int]:
        answers = httpx.get(f"{node.url}/mining", timeout=10).json()["answers"]
        return answers["accepted"], len(accepted_on_chain(net, ident, 0))

    wait_for(lambda: counts()[0] == counts()[1], WAIT_SECONDS, f"the miner's count to match the chain {counts()}")
    record("fault", daemon="miner", fault="kill -9 with the submit in the mempool", survived=True, bytes_lost=0,
           double_payments=0)  # fmt: skip


def test_kill_da_signer__mid_put_completes_or_fails_clearly_paid_once(fault_net: FaultNetwork) -> None:
    da = fault_net.da
    account = fault_net.fresh_account()
    data = os.urandom(200_000)
    client = DAClient(da.settings, account)
    first = Background(lambda: client.put(data))
    victim = da.signers[0]
    # Killed once the root is paid for: the client is dispersing the cells.
    wait_for(lambda: not first.thread.is_alive() or _paid_roots(fault_net, account.address), WAIT_SECONDS, "payment")
    victim.kill()
    first.join()
    victim.start()
    if first.error is not None:
        assert isinstance(first.error, DAError), repr(first.error)
        result = client.put(data)
    else:
        result = first.result
    assert uploads_of(fault_net, result.data_root) == 1  # paid once, retry or not
    assert DAClient(da.settings).get(result.data_root) == data
    record("fault", daemon="DA signer", fault="kill -9 mid-put", survived=True, bytes_lost=0,
           mid=first.error is not None,
           double_payments=uploads_of(fault_net, result.data_root) - 1)  # fmt: skip
    client.close()


def _paid_roots(fault_net: FaultNetwork, sender: str) -> int:
    entrance = fault_net.da.contracts.entrance
    return len(entrance.events.DataUpload().get_logs(from_block=0, argument_filters={"sender": sender}))


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_kill_faucet__mid_drip_drips_at_most_once(fault_net: FaultNetwork, delay: float) -> None:
    faucet = fault_net.faucet
    address = Account.create().address
    url = f"{faucet.url}/api/claim"
    first = Background(lambda: httpx.post(url, json={"address": address}, timeout=WAIT_SECONDS))
    time.sleep(delay)
    faucet.kill()
    first.join()
    faucet.start()
    if first.error is None:
        assert first.result.status_code == 200, first.result.text
    retry = httpx.post(url, json={"address": address}, timeout=WAIT_SECONDS)
    # Dripped before the kill: the retry is refused (429, retry later); not dripped: it drips now.
    assert retry.status_code in (200, 429), retry.text
    drips = drips_to(fault_net, address)
    record("fault", daemon="faucet", fault=f"kill -9 {delay}s into a claim", survived=drips == 1, bytes_lost=0,
           mid=first.error is not None,
           double_payments=max(0, drips - 1))  # fmt: skip
    assert drips == 1
    assert fault_net.w3.eth.get_balance(address) == DRIP_WEI


def test_kill_faucet__drip_still_in_the_mempool_is_not_sent_twice(fault_net: FaultNetwork) -> None:
    """Blocks not mined on their own: the faucet dies with its drip waiting in the mempool (nothing recorded yet),
    is restarted, and the user claims again before the block comes: one drip on chain, whatever the answers."""
    faucet, w3 = fault_net.faucet, fault_net.w3
    dripper = dev_account(DRIPPER_DEV_INDEX).address
    address = Account.create().address
    url = f"{faucet.url}/api/claim"

    def pending() -> bool:
        return w3.eth.get_transaction_count(dripper, "pending") > w3.eth.get_transaction_count(dripper, "latest")

    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        first = Background(lambda: httpx.post(url, json={"address": address}, timeout=WAIT_SECONDS))
        wait_for(pending, WAIT_SECONDS, "the drip in the mempool")
        faucet.kill()
        first.join()
        faucet.start()
        retry = Background(lambda: httpx.post(url, json={"address": address}, timeout=WAIT_SECONDS))
        time.sleep(1)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    fault_net.net.mine(1)
    retry.join()
    assert retry.error is None, repr(retry.error)
    assert retry.result.status_code in (200, 429), retry.result.text
    fault_net.net.mine(1)
    drips = drips_to(fault_net, address)
    record("fault", daemon="faucet", fault="kill -9 with the drip in the mempool", survived=drips == 1,
           bytes_lost=0, double_payments=max(0, drips - 1))  # fmt: skip
    assert drips == 1
    assert w3.eth.get_balance(address) == DRIP_WEI


# ---------------------------------------------------------------- a chain frozen for a few seconds


def frozen_under(fault_net: FaultNetwork, client: Background, started: Callable[[], bool]) -> Background:
    wait_for(lambda: started() or not client.thread.is_alive(), WAIT_SECONDS, "the client to start")
    fault_net.freeze_chain()
    try:
        time.sleep(FREEZE_SECONDS)
    finally:
        fault_net.thaw_chain()
    return client.join()


def test_frozen_chain__mid_upload_completes_paid_once(fault_net: FaultNetwork, tmp_path: Path) -> None:
    account = fault_net.fresh_account()
    path = tmp_path / "file.bin"
    path.write_bytes(os.urandom(8 * SEGMENT_SIZE + 5))
    root = FileTree.from_path(path).root_hex
    deployment = fault_net.net.deployment
    client = Background(lambda: upload(path, fault_net.nodes(), fault_net.w3, account, deployment))
    frozen_under(fault_net, client, lambda: True)
    assert client.error is None, repr(client.error)
    copy = tmp_path / "copy.bin"
    download(root, copy, fault_net.nodes())
    assert copy.read_bytes() == path.read_bytes()
    record("fault", daemon="chain", fault="frozen 3 s mid-upload", survived=True, bytes_lost=0,
           double_payments=submits_of(fault_net, account.address) - 1)  # fmt: skip
    assert submits_of(fault_net, account.address) == 1


def test_frozen_chain__mid_da_put_completes_paid_once(fault_net: FaultNetwork) -> None:
    account = fault_net.fresh_account()
    data = os.urandom(100_000)
    client = DAClient(fault_net.da.settings, account)
    put = frozen_under(fault_net, Background(lambda: client.put(data)), lambda: True)
    assert put.error is None, repr(put.error)
    root = put.result.data_root
    assert DAClient(fault_net.da.settings).get(root) == data
    record("fault", daemon="chain", fault="frozen 3 s mid-DA-put", survived=True, bytes_lost=0,
           double_payments=uploads_of(fault_net, root) - 1)  # fmt: skip
    assert uploads_of(fault_net, root) == 1
    client.close()


def test_frozen_chain__mid_chat_stream_completes_charged_once(fault_net: FaultNetwork) -> None:
    user = Compute(fault_net.provider_settings, fault_net.fresh_account())
    user.transfer(PROVIDER.address, 10**17)
    session = user.session(PROVIDER.address)
    client = session.openai_client(max_retries=0)
    messages = [{"role": "user", "content": "Hello"}]
    stream = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=48, temperature=0, stream=True)
    next(stream)
    fault_net.freeze_chain()
    try:
        time.sleep(FREEZE_SECONDS)
    finally:
        fault_net.thaw_chain()
    rest = Background(lambda: list(stream)).join()
    assert rest.error is None, repr(rest.error)
    client.chat.completions.create(model=MODEL, messages=messages, max_tokens=2, temperature=0)
    view = httpx.get(f"{fault_net.provider.url}/v1/account/{user.address}", timeout=10).json()
    nonces = [r.nonce for r in session.receipts]
    record("fault", daemon="chain", fault="frozen 3 s mid-chat", survived=True, bytes_lost=0,
           double_payments=len(nonces) - len(set(nonces)))  # fmt: skip
    assert nonces == [1, 2]
    assert session.owed == sum(r.fee for r in session.receipts)
    assert not view["inflight"]
