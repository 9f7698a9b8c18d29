"""The stack on a second EVM, Hardhat Network (npm `hardhat`), so that nothing depends on anvil's own RPC methods:
the real deployment, a storage upload through a storage node daemon, a compute settlement by the provider's
settler, and a DA put attested by a signer daemon."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from chain_node.process import wait_until
from services.compute_provider.settlement import Settler
from services.compute_provider.store import ProviderStore
from tests.chain.hardhat_node import HardhatNode
from tests.conftest import make_settings
from tests.da.daemons import start_network
from tests.explorer.test_explorer import explorer_daemon, indexed_through
from tests.storage.node_fixtures import start_node
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.compute import Compute, Voucher
from zerog.compute.client import service_params
from zerog.config import LOCAL_CHAIN_ID
from zerog.da.client import DAClient
from zerog.devnet.deploy import deploy
from zerog.devnet.settings import NetworkSettings
from zerog.errors import TransactionError
from zerog.storage.client import connect_nodes, download, upload
from zerog.storage.merkle import SEGMENT_SIZE

DRIPPER, PROVIDER, USER, UPLOADER = 1, 2, 7, 8
FUNDS = 10**16
#: Enough for a drip, so the transaction is sent without an estimate and reverts on chain.
DRIP_GAS = 200_000
EXPLORER_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def hardhat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkSettings]:
    """A hardhat node with every contract deployed by `ape run deploy`; one DA signer, so one daemon attests."""
    settings = make_settings(tmp_path_factory.mktemp("hardhat"), poll_interval=0.1, da_signers=1)
    with HardhatNode(settings):
        deploy(settings)
        yield settings


def test_deploy__every_contract_on_the_hardhat_chain(hardhat: NetworkSettings) -> None:
    w3 = connect(hardhat.rpc_url)
    assert w3.client_version.startswith("HardhatNetwork/") and w3.eth.chain_id == LOCAL_CHAIN_ID
    deployment = Deployment.for_settings(hardhat, w3.eth.chain_id)
    assert all(w3.eth.get_code(deployment.address(name)) for name in deployment.data["contracts"])


def test_revert__decoded_before_sending_after_inclusion_and_by_the_explorer(hardhat: NetworkSettings) -> None:
    """Hardhat wraps revert data in an object where anvil and geth give it bare, fails the send of a transaction
    that reverts in its block rather than returning its hash, and has no eth_getBlockReceipts nor call tracer: the
    reason reads the same everywhere."""
    w3 = connect(hardhat.rpc_url)
    deployment = Deployment.for_settings(hardhat, w3.eth.chain_id)
    faucet = deployment.contract(w3, "Faucet")
    recipient = Account.create().address
    send_transaction(w3, dev_account(DRIPPER), faucet.functions.drip(recipient))
    available_at = faucet.functions.nextDripAt(recipient).call()
    reason = f"FaucetCooldownActive(recipient={recipient}, availableAt={available_at})"
    drip = {"to": faucet.address, "data": faucet.encode_abi("drip", [recipient])}
    decoder = deployment.error_decoder()
    with pytest.raises(TransactionError, match="would revert") as estimated:
        send_transaction(w3, dev_account(DRIPPER), drip, decoder=decoder)
    assert estimated.value.reason == reason
    with pytest.raises(TransactionError, match="reverted") as mined:
        send_transaction(w3, dev_account(DRIPPER), {**drip, "gas": DRIP_GAS}, decoder=decoder)
    assert mined.value.reason == reason and mined.value.tx_hash is not None
    assert w3.eth.get_transaction_receipt(mined.value.tx_hash)["status"] == 0
    explorer = explorer_daemon(hardhat).start()
    try:
        assert wait_until(lambda: indexed_through(explorer, w3.eth.block_number), EXPLORER_TIMEOUT_SECONDS)
        shown = explorer.http.get(f"{explorer.url}/api/tx/{mined.value.tx_hash}").json()["transaction"]
        assert (shown["status"], shown["error"]) == (0, reason)
    finally:
        explorer.stop()


def test_storage__upload_through_a_node_daemon_and_download(hardhat: NetworkSettings, tmp_path: Path) -> None:
    node = start_node(hardhat, "hardhat-node")
    try:
        original = tmp_path / "file.bin"
        original.write_bytes(os.urandom(3 * SEGMENT_SIZE + 5))
        w3 = connect(hardhat.rpc_url)
        nodes = connect_nodes([node.url])
        result = upload(original, nodes, w3, dev_account(UPLOADER), Deployment.for_settings(hardhat, w3.eth.chain_id))
        assert result.tx_hash is not None
        copy = tmp_path / "copy.bin"
        download(result.root, copy, nodes)
        assert copy.read_bytes() == original.read_bytes()
    finally:
        node.stop()


def test_compute__settler_settles_a_signed_voucher(hardhat: NetworkSettings, tmp_path: Path) -> None:
    provider = Compute(hardhat, dev_account(PROVIDER))
    provider.register(service_params("http://127.0.0.1:8700", "m", 1, 1, provider.address), 10**18)
    user = dev_account(USER)
    Compute(hardhat, user).transfer(provider.address, FUNDS, acknowledge=False)
    voucher = Voucher(user.address, provider.address, 700, 1, "0x" + keccak(text="request").hex())
    store = ProviderStore.open(tmp_path / "provider.db", provider.address)
    try:
        store.admit(voucher, voucher.sign(user, provider.domain), 700)
        result = Settler(provider, store, 10, 3600).settle_once()
        assert (result.vouchers, result.paid, result.skipped) == (1, 700, 0)
        assert provider.sub_account(provider.address, user.address).settled == 700
    finally:
        store.close()


def test_da__put_attested_by_a_signer_daemon_and_get(hardhat: NetworkSettings) -> None:
    network = start_network(hardhat, count=1)
    try:
        data = os.urandom(100_000)
        with DAClient(hardhat, dev_account(0)) as client:
            result = client.put(data)
            assert result.signer_bitmap == 0b1 and not result.failures
            assert network.contracts.status(bytes.fromhex(result.data_root[2:])).verified
            assert client.get(result.data_root) == data
    finally:
        network.stop()
