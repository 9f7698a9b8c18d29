"""The DA signer daemon as clients meet it: `python -m services.da_signer` over real HTTP against a real chain with
the contracts deployed by `ape run deploy`. Registration, refusals (each with its reason, nothing stored or
signed), attestations that verify, serving cells back, durability across kill -9, and the store's crash
recovery."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.da_signer.api.routes.data import max_bundle_bytes
from services.da_signer.store import SignerStore
from tests.da.daemons import DANetwork, SignerDaemon
from tests.guards import assert_guarded, declared_post, json_code
from zerog.accounts import dev_account
from zerog.da import bls, encoding, wire
from zerog.da.contracts import EpochSigner
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB
from zerog.da.wire import CONTENT_TYPE

rng = random.Random(4844)


def encode_and_pay(da: DANetwork, size: int = PAYLOAD_BYTES_PER_BLOB + 99) -> encoding.Encoded:
    encoded = encoding.encode(rng.randbytes(size), parallel=False)
    da.contracts.submit_original_data(dev_account(0), [encoded.root], [encoded.length])
    return encoded


def me(da: DANetwork, signer: SignerDaemon) -> EpochSigner:
    view = da.contracts.current_signers()
    found = view.by_slot(signer.index)
    assert found is not None
    return found


def post(signer: SignerDaemon, root: bytes, body: bytes, epoch: int = 0, **params: Any) -> httpx.Response:
    """POST a bundle, waiting out `unknown_data_root` while the signer syncs the upload."""
    deadline = time.monotonic() + 20
    while True:
        response = signer.post(
            f"/v1/data/0x{root.hex()}/columns", params={"epoch": epoch, **params}, content=body,
            headers={"content-type": CONTENT_TYPE},
        )  # fmt: skip
        if response.status_code != 409 or response.json()["error"]["code"] != "unknown_data_root":
            return response
        assert time.monotonic() < deadline, "the signer never saw the upload"
        time.sleep(0.1)


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    return body["message"]


# ---------------------------------------------------------------- identity and registration


def test_health_and_signer__registered_members_with_their_socket(da: DANetwork) -> None:
    view = da.contracts.current_signers()
    for signer in da.signers:
        health = signer.get("/health").json()
        assert (health["status"], health["registered"], health["member"], health["slot"]) == (
            "ok",
            True,
            True,
            signer.index,
        )
        info = signer.get("/v1/signer").json()
        # The genesis record said http://127.0.0.1:880x; the daemon moved it to where it really listens.
        assert view.by_slot(signer.index).url == signer.url == info["socket"]
        assert info["columns"] == list(range(32 * signer.index, 32 * signer.index + 32))
        assert bls.G1.from_json(info["pkG1"]) == view.by_slot(signer.index).pk1


def test_registration__a_new_signer_registers_once_and_joins_next_epoch(da: DANetwork) -> None:
    newcomer = SignerDaemon(da.settings, 4)  # dev account 7: not in the genesis set
    da.extra.append(newcomer)
    newcomer.start()
    health = newcomer.get("/health").json()
    assert (health["registered"], health["member"]) == (True, False)
    record = da.contracts.signer_of(dev_account(7).address)
    assert record.registered and record.socket == newcomer.url and record.active_from_epoch == 1
    assert record.stake == 0 and record.next_stake == da.settings.da_signer_stake_wei
    # Restarted (even killed): no second registration, same slot.
    newcomer.kill()
    newcomer.start()
    assert da.contracts.signer_of(dev_account(7).address).slot == record.slot
    events = da.contracts.signers.events.SignerRegistered().get_logs(from_block=0)
    assert [e["args"]["account"] for e in events].count(dev_account(7).address) == 1
    newcomer.stop()


def test_registration__failure_is_reported_and_health_stays_503(da: DANetwork) -> None:
    below_minimum = SignerDaemon(da.settings, 5, ZG_DA_SIGNER_STAKE_WEI="1")  # dev account 8
    da.extra.append(below_minimum)
    below_minimum.spawn()
    deadline = time.monotonic() + 60
    while True:
        try:
            health = below_minimum.get("/health")
            if health.json().get("registrationError"):
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, below_minimum.log()
        time.sleep(0.1)
    assert health.status_code == 503
    body = health.json()
    assert (body["status"], body["registered"]) == ("starting", False)
    assert "DASignersStakeTooLow(stake=1" in body["registrationError"]
    assert below_minimum.running and not da.contracts.signer_of(dev_account(8).address).registered
    assert below_minimum.stop() == 0


# ---------------------------------------------------------------- refusals


def test_put_columns__refusals_say_why_and_store_nothing(da: DANetwork) -> None:
    signer = da.signers[1]
    mine = me(da, signer).columns
    unpaid = encoding.encode(b"never paid for", parallel=False)
    body = wire.bundle(unpaid, mine).encode()
    message = error(signer.post(f"/v1/data/0x{unpaid.root.hex()}/columns", params={"epoch": 0}, content=body),
                    409, "unknown_data_root")  # fmt: skip
    assert "submitOriginalData" in message

    encoded, other = encode_and_pay(da), encode_and_pay(da, PAYLOAD_BYTES_PER_BLOB + 7)
    root = encoded.root
    good = wire.bundle(encoded, mine).encode()
    mismatch = error(post(signer, other.root, good), 400, "root_mismatch")
    assert f"not to the data root 0x{other.root.hex()}" in mismatch
    assert error(post(signer, root, good, epoch=7), 409, "epoch_mismatch") == "this is epoch 0, not 7"
    assert "belongs to quorum 0 in epoch 0, not 3" in error(post(signer, root, good, quorum=3), 400, "wrong_quorum")
    assert "columns [0]" in error(
        post(signer, root, wire.bundle(encoded, [0, *mine]).encode()), 400, "columns_not_assigned"
    )
    assert f"[{mine.stop - 1}]" in error(
        post(signer, root, wire.bundle(encoded, mine[:-1]).encode()), 400, "missing_columns"
    )
    error(post(signer, root, b"garbage"), 400, "invalid_bundle")
    error(signer.post("/v1/data/0x1234/columns", params={"epoch": 0}, content=good), 400, "invalid_root")
    error(signer.post(f"/v1/data/0x{root.hex()}/columns", content=good), 400, "invalid_request")  # no epoch
    # A body declared far over the largest bundle is refused before it is read.
    status, answer = declared_post(signer.url, f"/v1/data/0x{root.hex()}/columns?epoch=0", 10**10)
    assert status == 413 and b"payload_too_large" in answer

    # One flipped bit in one cell: refused, and the signer says which column.
    columns = {c: encoded.column(c) for c in mine}
    tampered = bytearray(columns[mine[3]])
    tampered[100] ^= 0x01
    columns[mine[3]] = bytes(tampered)
    forged = wire.ColumnBundle(encoded.length, encoded.commitments, columns).encode()
    assert f"columns [{mine[3]}]" in error(post(signer, root, forged), 422, "invalid_proofs")
    error(signer.get(f"/v1/data/0x{root.hex()}"), 404, "not_stored")


# ---------------------------------------------------------------- attesting and serving


def test_put_columns__attests_and_serves_the_columns_back(da: DANetwork) -> None:
    signer = da.signers[2]
    member = me(da, signer)
    encoded = encode_and_pay(da)
    before = signer.get("/health").json()["stored"]
    body = wire.bundle(encoded, member.columns).encode()
    response = post(signer, encoded.root, body)
    assert response.status_code == 200, response.text
    after = signer.get("/health").json()["stored"]
    assert (after["cells"] - before["cells"], after["bytesReceived"] - before["bytesReceived"]) == (
        len(member.columns) * encoded.blobs, len(body),
    )  # fmt: skip
    answer = response.json()
    assert (answer["dataRoot"], answer["epoch"], answer["quorumId"], answer["slot"]) == (
        "0x" + encoded.root.hex(), 0, 0, signer.index,
    )  # fmt: skip
    assert answer["columns"] == list(member.columns)
    digest = da.contracts.attestation_digest(encoded.root, 0, 0)
    assert bls.verify(digest, bls.G1.from_json(answer["signature"]), member.pk1, member.pk2)

    payload = signer.get(f"/v1/data/0x{encoded.root.hex()}").json()
    assert payload["length"] == encoded.length and payload["uploaded"] is True
    assert payload["commitments"] == ["0x" + c.hex() for c in encoded.commitments]
    served = signer.get(f"/v1/data/0x{encoded.root.hex()}/columns", params={"columns": "70,64"})
    bundle = wire.ColumnBundle.decode(served.content, da.settings.da_max_blob_size)
    assert bundle.root == encoded.root and bundle.columns == {64: encoded.column(64), 70: encoded.column(70)}
    error(signer.get(f"/v1/data/0x{encoded.root.hex()}/columns", params={"columns": "1"}), 404, "not_stored")
    error(signer.get(f"/v1/data/0x{encoded.root.hex()}/columns", params={"columns": "x"}), 400, "invalid_columns")

    # Sending nothing new re-attests from what is stored (a client resuming after a crash).
    again = post(signer, encoded.root, wire.bundle(encoded, []).encode())
    assert again.status_code == 200 and again.json()["signature"] == answer["signature"]


def test_kill_9__stored_cells_survive_the_restart(da: DANetwork) -> None:
    signer = da.signers[3]
    member = me(da, signer)
    encoded = encode_and_pay(da)
    assert post(signer, encoded.root, wire.bundle(encoded, member.columns).encode()).status_code == 200
    signer.kill()
    signer.start()
    served = signer.get(f"/v1/data/0x{encoded.root.hex()}/columns")
    bundle = wire.ColumnBundle.decode(served.content, da.settings.da_max_blob_size)
    assert sorted(bundle.columns) == list(member.columns)
    assert encoding.verify_columns(bundle.commitments, bundle.columns) == []
    assert signer.get("/health").json()["stored"]["payloads"] >= 1


# ---------------------------------------------------------------- the store, in process


def test_store__crash_leftovers_are_cleaned_and_damage_dropped(tmp_path: Path) -> None:
    encoded = encoding.encode(b"durable" * 1000, parallel=False)
    store = SignerStore.open(tmp_path, account="0xA", deployment_id="d1")
    store.write_columns(encoded.root, encoded.length, encoded.commitments, {c: encoded.column(c) for c in (1, 2, 3)})
    store.close()
    directory = tmp_path / "cells" / encoded.root.hex()
    (directory / ".4.abc.tmp").write_bytes(b"half a write")  # died before the rename
    (directory / "5.col").write_bytes(encoded.column(5))  # died before the index commit
    (directory / "2.col").write_bytes(encoded.column(2)[:-10])  # damaged on disk
    (directory / "3.col").unlink()  # lost

    store = SignerStore.open(tmp_path, account="0xA", deployment_id="d1")
    assert store.payload(encoded.root).columns == [1]
    assert store.read_columns(encoded.root, [1, 2, 3, 5]) == {1: encoded.column(1)}
    assert sorted(p.name for p in directory.iterdir()) == ["1.col"]
    store.close()

    with pytest.raises(Exception, match="holds the data of DA signer 0xA"):
        SignerStore.open(tmp_path, account="0xB", deployment_id="d1")
    # Another deployment (a fresh chain): everything of the old one is forgotten.
    store = SignerStore.open(tmp_path, account="0xA", deployment_id="d2")
    assert store.payload(encoded.root) is None and not directory.exists()
    store.close()


def test_guard__oversized_foreign_host_and_cross_site_posts_are_refused(da: DANetwork) -> None:
    signer = da.signers[0]
    path = f"/v1/data/0x{bytes(32).hex()}/columns?epoch=0"
    limit = max_bundle_bytes(da.settings.da_max_blob_size)
    assert_guarded(signer.url, path, limit, json_code, headers={"content-type": CONTENT_TYPE})
