"""Quorums, fees and retention end to end: a chain deployed with quorums of at least 2 signers, so the four signer
daemons form two quorums of two. Puts go to the quorums round-robin, only the blob's quorum stores and signs it,
gets read from it, the fee reaches the signers that attested, and a root past its retention is deleted and
refused (410, DataExpiredError). Kept lean: one chain, payloads of under one blob."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from web3.types import RPCEndpoint

from chain_node import ChainNode
from chain_node.process import wait_until
from services.da_signer.config import signer_account
from tests.conftest import make_settings
from tests.da.daemons import DANetwork, start_network
from zerog.chain import connect
from zerog.da.errors import DataExpiredError
from zerog.da.wire import CONTENT_TYPE, bundle
from zerog.devnet.deploy import run_deploy

EPOCH_BLOCKS = 40
RETENTION_EPOCHS = 2
rng = random.Random(1807)


@pytest.fixture(scope="module")
def two_quorums(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DANetwork]:
    settings = make_settings(
        tmp_path_factory.mktemp("da-quorums"), poll_interval=0.1, da_min_signers_per_quorum=2,
        da_epoch_blocks=EPOCH_BLOCKS, da_grace_blocks=5, da_retention_epochs=RETENTION_EPOCHS,
    )  # fmt: skip
    with ChainNode(settings):
        result = run_deploy(settings)
        assert result.returncode == 0, result.stdout + result.stderr
        network = start_network(settings, env={"ZG_DA_PRUNE_INTERVAL": "0.5"})
        try:
            yield network
        finally:
            network.stop()


def test_two_quorums__put_get_fees_and_retention(two_quorums: DANetwork) -> None:
    da = two_quorums
    view = da.contracts.current_signers()
    assert view.quorum_count == 2
    quorums = {q: [s.slot for s in view.quorum(q).signers] for q in (0, 1)}
    assert sorted(quorums[0] + quorums[1]) == [0, 1, 2, 3] and all(len(v) == 2 for v in quorums.values())
    payloads = [rng.randbytes(5000), rng.randbytes(7000)]
    with da.client() as client:
        results = [client.put(p) for p in payloads]
        assert [r.quorum_id for r in results] == [0, 1]
        for r in results:  # the whole quorum signed: all of its stake, none of the other quorum's
            assert [i for i in range(4) if r.signer_bitmap >> i & 1] == quorums[r.quorum_id]
            assert r.total_stake == sum(s.stake for s in view.quorum(r.quorum_id).signers)
        for q, r in enumerate(results):  # only the blob's quorum stores it
            stored = [s.index for s in da.signers if s.get(f"/v1/data/{r.data_root}").status_code == 200]
            assert stored == quorums[q]
        assert [client.get(r.data_root) for r in results] == payloads
        status = client.status(results[1].data_root)
        expiry = da.contracts.status(bytes.fromhex(results[0].data_root[2:])).expiry_epoch
        assert (status["quorumId"], status["quorumCount"]) == (1, 2)
        assert status["expiryEpoch"] == status["uploadEpoch"] + RETENTION_EPOCHS
        assert [s["slot"] for s in status["signers"]] == quorums[1] and status["recoverable"]

    # A signer of the other quorum refuses the blob.
    other = da.signers[quorums[1][0]]
    encoded_root = bytes.fromhex(results[0].data_root[2:])
    refused = other.post(
        f"/v1/data/{results[0].data_root}/columns",
        params={"epoch": view.epoch, "quorum": 0},
        content=bundle_of(payloads[0]),
        headers={"content-type": CONTENT_TYPE},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_in_quorum"

    # Fees: each blob's fee (one blob each) split between its quorum's two equal-stake signers.
    contracts = da.contracts
    fee = contracts.fee_for(1)
    earned = [contracts.earnings(signer_account(da.settings.da_signer(i)).address) for i in range(4)]
    assert earned == [fee // 2] * 4
    account = signer_account(da.settings.da_signer(0))
    contracts.withdraw_earnings(account)
    assert contracts.earnings(account.address) == 0

    # Retention: past the expiry epoch the signers delete the cells and say so.
    w3 = connect(da.settings.rpc_url)
    expiry_block = contracts.epoch_start_block(expiry)
    w3.provider.make_request(RPCEndpoint("anvil_mine"), [max(1, expiry_block - w3.eth.block_number)])
    holder = da.signers[quorums[0][0]]
    assert wait_until(lambda: holder.get("/health").json()["stored"]["columns"] == 0, 30, 0.2)
    gone = holder.get(f"/v1/data/{results[0].data_root}")
    assert gone.status_code == 410 and f"ended at epoch {expiry}" in gone.json()["error"]["message"]
    with da.client() as client, pytest.raises(DataExpiredError, match=f"expired at epoch {expiry}"):
        client.get(encoded_root)


def bundle_of(data: bytes) -> bytes:
    from zerog.da.encoding import encode

    encoded = encode(data, parallel=False)
    return bundle(encoded, range(64)).encode()
