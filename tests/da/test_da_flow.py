"""DA end to end on a real chain with four signer daemons: `zg da put/get/status`, puts and gets with signers down
(one killed; exactly half of the columns left; below two thirds of the stake), a signer serving damaged cells,
the size limit, and the OP alt-DA server."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import TxReceipt

from tests.da.daemons import DANetwork, altda_server
from tests.guards import declared_post
from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.config import load_settings
from zerog.da.altda import OCTET_STREAM, decode_commitment
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB
from zerog.da.errors import BlobTooLargeError, DAError, DataNotFoundError
from zerog.da.settings import DASettings
from zerog.errors import TransactionError

rng = random.Random(2024)


def payload(blobs: float = 1.5) -> bytes:
    return rng.randbytes(int(blobs * PAYLOAD_BYTES_PER_BLOB))


def test_cli__put_status_get(da: DANetwork, tmp_path: Path) -> None:
    original = tmp_path / "batch.bin"
    original.write_bytes(payload(2.3))
    put = da.zg("--json", "da", "put", str(original))
    assert put.returncode == 0, put.stdout + put.stderr
    result = json.loads(put.stdout)
    root = result["dataRoot"]
    assert (result["blobs"], result["signers"], result["failures"]) == (3, [0, 1, 2, 3], {})
    assert result["signedStake"] == result["totalStake"]
    w3 = connect(da.settings.rpc_url)
    assert w3.eth.get_transaction_receipt(result["verifyTx"])["status"] == 1
    assert decode_commitment(bytes.fromhex(result["commitment"][2:]))[0].hex() == root[2:]

    status = da.zg("da", "status", root)
    assert status.returncode == 0, status.stderr
    text = " ".join(status.stdout.split())  # the console wraps long lines
    assert "verified in epoch 0" in text and "128 of 128 columns reachable: recoverable" in text

    copy = tmp_path / "copy.bin"
    got = da.zg("da", "get", root, str(copy))
    assert got.returncode == 0, got.stdout + got.stderr
    assert copy.read_bytes() == original.read_bytes()
    refused = da.zg("da", "get", root, str(copy))
    assert refused.returncode == 1 and "exists" in refused.stderr

    again = da.zg("da", "put", str(original))
    assert again.returncode == 0 and "already available (nothing paid)" in " ".join(again.stdout.split())
    unknown = da.zg("da", "get", "0x" + "ab" * 32, str(tmp_path / "none.bin"))
    assert unknown.returncode == 1 and "nobody paid for it" in " ".join(unknown.stderr.split())


def test_put_get__one_signer_killed(da: DANetwork) -> None:
    data = payload()
    da.signers[1].kill()
    with da.client() as client:
        result = client.put(data)
        assert result.signer_bitmap == 0b1101 and list(result.failures) == [1]
        assert "unreachable" in result.failures[1]
        assert da.contracts.status(bytes.fromhex(result.data_root[2:])).verified
        # Columns 32..63 are gone: the payload is recovered from the others.
        assert client.get(result.data_root) == data


def test_get__recovers_from_exactly_half_of_the_columns(da: DANetwork) -> None:
    data = payload()
    with da.client() as client:
        root = client.put(data).data_root
        da.signers[0].kill()
        da.signers[2].kill()  # columns 32..63 and 96..127 are left: 64 of 128
        assert client.status(root)["columnsAvailable"] == 64
        assert client.get(root) == data
        da.signers[3].kill()
        with pytest.raises(DataNotFoundError, match="only 32 of the 64 columns"):
            client.get(root)


def test_get__damaged_cells_of_a_signer_are_detected_and_recovered_around(da: DANetwork) -> None:
    data = payload()
    with da.client() as client:
        root = client.put(data).data_root
        # Flip a bit of a stored cell on signer 0's disk (same size: the signer cannot tell).
        column = da.settings.data_dir / "da-signer-0" / "cells" / root[2:] / "5.col"
        damaged = bytearray(column.read_bytes())
        damaged[1000] ^= 0x10
        column.write_bytes(bytes(damaged))
        assert client.get(root) == data


def test_put__below_two_thirds_fails_then_resumes_without_paying_twice(da: DANetwork) -> None:
    data = payload(0.5)
    da.signers[0].kill()
    da.signers[1].kill()
    w3 = connect(da.settings.rpc_url)
    with da.client() as client:
        with pytest.raises(DAError, match="less than two thirds") as info:
            client.put(data)
        assert "signer 0: unreachable" in info.value.message and "signer 1: unreachable" in info.value.message
        fees_before = w3.eth.get_balance(da.contracts.entrance_address)
        da.ensure_running()
        result = client.put(data)
        assert result.upload_tx is None and result.verify_tx is not None and result.signer_bitmap == 0b1111
        assert w3.eth.get_balance(da.contracts.entrance_address) == fees_before


def test_put__attestation_front_run_by_someone_else_reports_the_data_as_available(
    da: DANetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone copies the client's submission and lands it first: DAEntrance skips the client's copy, and the put
    says the data is available through the other transaction, not that its own one verified it."""
    data = payload(0.5)
    with da.client() as client:
        submit = client.contracts.submit_verified

        def front_run(account: LocalAccount, *args: Any) -> TxReceipt:
            submit(dev_account(2), *args)
            return submit(account, *args)

        monkeypatch.setattr(client.contracts, "submit_verified", front_run)
        result = client.put(data)
    status = da.contracts.status(bytes.fromhex(result.data_root[2:]))
    assert (result.already_verified, result.verify_tx, result.failures) == (True, None, {})
    assert status.verified and result.epoch == status.verified_epoch


def test_put__attestation_expired_at_an_epoch_change_is_collected_again(
    da: DANetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The epoch moved on and the previous one's grace window closed before the aggregate landed: the client
    disperses again in the new epoch instead of failing."""
    epochs: list[int] = []
    with da.client() as client:
        submit = client.contracts.submit_verified

        def expire_once(account: LocalAccount, root: bytes, epoch: int, *args: Any) -> TxReceipt:
            epochs.append(epoch)
            if len(epochs) == 1:
                reason = f"DAEntranceAttestationExpired(signedEpoch={epoch}, deadlineBlock=1)"
                raise TransactionError(f"transaction would revert: {reason}", reason=reason)
            return submit(account, root, epoch, *args)

        monkeypatch.setattr(client.contracts, "submit_verified", expire_once)
        result = client.put(payload(0.5))
    assert len(epochs) == 2 and result.verify_tx is not None and not result.already_verified


def test_put__over_the_size_limit_fails_before_paying(da: DANetwork, tmp_path: Path) -> None:
    w3 = connect(da.settings.rpc_url)
    fees_before = w3.eth.get_balance(da.contracts.entrance_address)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x01" * 1001)
    result = da.zg("da", "put", str(big), ZG_DA_MAX_BLOB_SIZE="1000")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "1001 bytes, over the DA limit of 1000 bytes" in message and "nothing was paid" in message
    with da.client(da_max_blob_size=1000) as client, pytest.raises(BlobTooLargeError, match="nothing was paid"):
        client.put(b"\x01" * 1001)
    assert w3.eth.get_balance(da.contracts.entrance_address) == fees_before


# ---------------------------------------------------------------- OP alt-DA server


@pytest.fixture
def altda(da: DANetwork) -> Iterator[str]:
    with altda_server(da.settings) as url:
        yield url


def test_altda__generic_and_keccak_commitments_round_trip(altda: str) -> None:
    http = httpx.Client(base_url=altda, timeout=120, headers={"content-type": OCTET_STREAM})
    batch = payload(0.3)
    # What op-batcher does in generic mode: POST /put/ with the batch, read the commitment back.
    put = http.post("/put/", content=batch, headers={"content-type": "application/octet-stream"})
    assert put.status_code == 200, put.text
    commitment = put.content
    assert len(commitment) == 50 and commitment[:2] == b"\x01\x47"
    got = http.get(f"/get/0x{commitment.hex()}")
    assert got.status_code == 200 and got.content == batch
    assert http.post("/put", content=batch).content == commitment  # same batch, same commitment

    # Keccak mode: the batcher computes the commitment itself.
    other = payload(0.1)
    keccak_commitment = b"\x00" + keccak(other)
    assert http.post(f"/put/0x{keccak_commitment.hex()}", content=other).status_code == 200
    got = http.get(f"/get/0x{keccak_commitment.hex()}")
    assert got.status_code == 200 and got.content == other
    assert http.post(f"/put/0x{keccak_commitment.hex()}", content=other + b"!").status_code == 400

    unknown = b"\x01\x47" + bytes(16) + b"\xee" * 32
    assert http.get(f"/get/0x{unknown.hex()}").status_code == 404
    assert http.get(f"/get/0x00{'11' * 32}").status_code == 404
    for bad in ("/get/0x0148" + "00" * 48, "/get/0x02", "/get/zz", "/get/0x0147"):
        assert http.get(bad).status_code == 400, bad
    assert http.post("/put", content=b"").status_code == 400


def test_altda__puts_are_refused_before_any_work(altda: str) -> None:
    """Every put spends the operator's blob fees: no octet stream, a cross-site page or an oversized batch is
    refused before the batch is read or paid for."""
    http = httpx.Client(base_url=altda, timeout=30)
    batch = b"batch"
    assert http.post("/put", content=batch).status_code == 415  # no content type
    form = http.post("/put", content=batch, headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    octet = {"content-type": OCTET_STREAM}
    page = http.post("/put", content=batch, headers={**octet, "origin": "https://evil.example"})
    assert page.status_code == 403 and page.json()["error"]["code"] == "cross_site_request"
    rebound = http.post("/put", content=batch, headers={**octet, "host": "evil.example"})
    assert rebound.status_code == 403 and rebound.json()["error"]["code"] == "forbidden_host"
    status, raw = declared_post(altda, "/put", load_settings(DASettings).da_max_blob_size + 1, octet)
    assert status == 413 and json.loads(raw)["error"]["code"] == "payload_too_large"
