"""The gRPC disperser (`python -m services.da_disperser`) on a real chain with four signer daemons, driven by a
client generated from our disperser.proto: DisperseBlob → GetBlobStatus (CONFIRMED, then FINALIZED once the
verifying block is ZG_CONFIRMATIONS deep) → RetrieveBlob; the argument and lookup errors; a kill -9 with a request
pending, resumed on restart. Plus the dispersal queue alone (no chain), and the committed stubs being current."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import grpc
import pytest

from chain_node.process import free_port
from services.common.dispersal import (
    DISPERSING,
    DONE,
    FAILED,
    INSUFFICIENT_SIGNATURES,
    QUEUED,
    DispersalPipeline,
    DispersalQueue,
)
from services.da_disperser.config import queue_dir
from tests.conftest import REPO_ROOT
from tests.da.daemons import DANetwork
from tests.daemon_process import DaemonProcess
from zerog.chain import connect
from zerog.da.disperse import PutResult
from zerog.da.errors import InsufficientSignaturesError
from zerog.da.proto import disperser_pb2 as pb
from zerog.da.proto import disperser_pb2_grpc as pb_grpc
from zerog.devnet.settings import NetworkSettings

#: Blocks on top of the verifying one before FINALIZED (the test chain mines a block per transaction).
CONFIRMATIONS = 2
MAX_BLOB = 8 * 1024
DATA = bytes(range(256)) * 4


class DisperserDaemon(DaemonProcess):
    start_timeout = 60

    def __init__(self, settings: NetworkSettings) -> None:
        self.grpc_port = free_port()
        http_port = free_port()
        env = {
            "ZG_DA_DISPERSER_PORT": str(self.grpc_port),
            "ZG_DA_DISPERSER_HTTP_PORT": str(http_port),
            "ZG_CONFIRMATIONS": str(CONFIRMATIONS),
            "ZG_DA_MAX_BLOB_SIZE": str(MAX_BLOB),
        }
        super().__init__(settings, "da-disperser", "services.da_disperser", http_port, **env)
        self.channel: grpc.Channel | None = None
        self.connect()

    def connect(self) -> None:
        """A new channel: after a restart the old one's connection was reset, and its next call would fail."""
        if self.channel is not None:
            self.channel.close()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self.stub = pb_grpc.DisperserStub(self.channel)

    def start(self, status: str | None = None) -> Self:
        super().start(status)
        self.connect()
        return self


@pytest.fixture(scope="module")
def disperser(da_network: DANetwork) -> Iterator[DisperserDaemon]:
    daemon = DisperserDaemon(da_network.settings).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def wait_status(daemon: DisperserDaemon, request_id: bytes, wanted: int, timeout: float = 60) -> pb.BlobStatusReply:
    deadline = time.monotonic() + timeout
    while True:
        reply = daemon.stub.GetBlobStatus(pb.BlobStatusRequest(request_id=request_id))
        if reply.status == wanted:
            return reply
        assert reply.status in (pb.PROCESSING, pb.CONFIRMED), pb.BlobStatus.Name(reply.status)
        assert time.monotonic() < deadline, f"still {pb.BlobStatus.Name(reply.status)}:\n{daemon.log()}"
        time.sleep(0.1)


def code_of(call: object, request: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        call(request)  # type: ignore[operator]
    return info.value.code(), info.value.details()


def test_disperse_status_retrieve(da: DANetwork, disperser: DisperserDaemon) -> None:
    reply = disperser.stub.DisperseBlob(pb.DisperseBlobRequest(data=DATA))
    assert reply.result == pb.PROCESSING and reply.request_id

    confirmed = wait_status(disperser, reply.request_id, pb.CONFIRMED)
    header = confirmed.info.blob_header
    root = header.storage_root
    assert len(root) == 32 and header.quorum_id == 0
    status = da.contracts.status(root)
    assert status.verified and header.epoch == status.verified_epoch
    w3 = connect(da.settings.rpc_url)
    for _ in range(CONFIRMATIONS):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finalized = wait_status(disperser, reply.request_id, pb.FINALIZED, timeout=5)
    assert finalized.info == confirmed.info

    retrieved = disperser.stub.RetrieveBlob(
        pb.RetrieveBlobRequest(storage_root=root, epoch=header.epoch, quorum_id=header.quorum_id)
    )
    assert retrieved.data == DATA
    wrong_epoch = pb.RetrieveBlobRequest(storage_root=root, epoch=header.epoch + 1, quorum_id=header.quorum_id)
    assert code_of(disperser.stub.RetrieveBlob, wrong_epoch)[0] == grpc.StatusCode.NOT_FOUND


def test_invalid_and_unknown(disperser: DisperserDaemon) -> None:
    code, details = code_of(disperser.stub.DisperseBlob, pb.DisperseBlobRequest(data=b""))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "empty" in details
    code, details = code_of(disperser.stub.DisperseBlob, pb.DisperseBlobRequest(data=b"x" * (MAX_BLOB + 1)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "over the limit" in details
    code, _ = code_of(disperser.stub.GetBlobStatus, pb.BlobStatusRequest(request_id=b"no-such-request"))
    assert code == grpc.StatusCode.NOT_FOUND
    unknown = pb.RetrieveBlobRequest(storage_root=b"\xab" * 32, epoch=0, quorum_id=0)
    assert code_of(disperser.stub.RetrieveBlob, unknown)[0] == grpc.StatusCode.NOT_FOUND
    short = pb.RetrieveBlobRequest(storage_root=b"\xab" * 31)
    assert code_of(disperser.stub.RetrieveBlob, short)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert disperser.http.get(f"{disperser.url}/v1/requests/no-such-request").status_code == 404


def test_kill_with_a_request_pending__restart_completes_it(da: DANetwork, disperser: DisperserDaemon) -> None:
    data = DATA[::-1]
    reply = disperser.stub.DisperseBlob(pb.DisperseBlobRequest(data=data))
    disperser.kill()
    db = sqlite3.connect(queue_dir(da.settings) / "queue.db")
    (state,) = db.execute("SELECT state FROM dispersal WHERE id = ?", (reply.request_id.decode(),)).fetchone()
    db.close()
    assert state in (QUEUED, DISPERSING)  # killed before the put could end (it takes two transactions)

    disperser.start()
    w3 = connect(da.settings.rpc_url)
    deadline = time.monotonic() + 60
    while (status := disperser.stub.GetBlobStatus(pb.BlobStatusRequest(request_id=reply.request_id))).status not in (
        pb.FINALIZED, pb.FAILED, pb.INSUFFICIENT_SIGNATURES,
    ):  # fmt: skip
        assert time.monotonic() < deadline, disperser.log()
        if status.status == pb.CONFIRMED:
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        time.sleep(0.1)
    assert status.status == pb.FINALIZED
    header = status.info.blob_header
    request = pb.RetrieveBlobRequest(storage_root=header.storage_root, epoch=header.epoch, quorum_id=header.quorum_id)
    assert disperser.stub.RetrieveBlob(request).data == data
    state = disperser.http.get(f"{disperser.url}/v1/requests/{reply.request_id.decode()}").json()
    assert state["status"] == "FINALIZED" and state["attempts"] >= 1


def test_stubs__regenerating_gives_the_committed_files() -> None:
    check = subprocess.run(
        [sys.executable, "tools/disperser_stubs.py", "--check"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


# ---------------------------------------------------------------- the queue alone


class FakeClient:
    """A DA client whose put answers from a script (no chain)."""

    def __init__(self, outcomes: list[PutResult | Exception]) -> None:
        self.outcomes = outcomes

    def check_size(self, length: int) -> None:
        pass

    def put(self, data: bytes) -> PutResult:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_queue__recovers_dispersals_and_records_outcomes(tmp_path: Path) -> None:
    queue = DispersalQueue.at(tmp_path)
    first, second = queue.submit(b"one"), queue.submit(b"two")
    claimed = queue.claim()
    assert claimed is not None and claimed[0].id == first.id and claimed[1] == b"one"
    (tmp_path / "payloads" / "orphan").write_bytes(b"no row")  # a crash between payload and row
    queue.close()

    queue = DispersalQueue.at(tmp_path)  # as after a crash mid-dispersal
    assert queue.get(first.id).state == QUEUED and queue.get(first.id).attempts == 1  # type: ignore[union-attr]
    assert not (tmp_path / "payloads" / "orphan").exists()
    result = PutResult("0x" + "ab" * 32, 3, 1, 7, 0, 0b1111, 4, 4, "0x01", "0x02")
    queue.finish(first.id, result, 42)
    done = queue.wait(first.id, 0)
    assert (done.state, done.data_root, done.epoch, done.verified_block) == (DONE, result.data_root, 7, 42)
    assert done.commitment == result.commitment and done.quorum_id == result.quorum_id
    assert not (tmp_path / "payloads" / first.id).exists()
    assert queue.claim()[0].id == second.id  # type: ignore[index]
    queue.close()


def test_pipeline__insufficient_signatures_is_its_own_failure(tmp_path: Path) -> None:
    client = FakeClient([InsufficientSignaturesError("only 1 of 4 wei of stake attested")])
    pipeline = DispersalPipeline(tmp_path, client)  # type: ignore[arg-type]
    pipeline.open()
    try:
        request = pipeline.submit(b"data")
        failed = pipeline.queue.wait(request.id, 10)
        assert (failed.state, failed.error_code) == (FAILED, INSUFFICIENT_SIGNATURES)
        assert "only 1 of 4" in (failed.error or "")
    finally:
        pipeline.close()
