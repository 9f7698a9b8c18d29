"""Helpers for the storage node and indexer tests: the daemons as real subprocesses, raw JSON-RPC calls,
Flow submissions with web3, and segment payloads as the official SDK builds them. No mocks."""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3
from web3.logs import DISCARD

from chain_node.process import free_port
from tests.daemon_process import DaemonProcess
from zerog.accounts import dev_account
from zerog.chain import Deployment, connect, send_transaction
from zerog.devnet.settings import NetworkSettings
from zerog.storage.merkle import CHUNK_SIZE, SEGMENT_SIZE, FileTree

SYNC_TIMEOUT_SECONDS = 20
#: The account the tests pay storage fees from (dev account 0 deploys; 1 drips).
UPLOADER_DEV_INDEX = 3
SUBMIT_GAS = 2_000_000


class RpcReply:
    """One JSON-RPC answer: `result`, or `error` {code, message, data}."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    @property
    def result(self) -> Any:
        assert "error" not in self.body, self.body
        return self.body["result"]

    @property
    def error(self) -> dict[str, Any]:
        assert "error" in self.body, self.body
        return self.body["error"]


class Daemon(DaemonProcess):
    """One `python -m <module>` process on its own port; its log is `<data_dir>/<name>.log`."""

    def __init__(
        self, module: str, settings: NetworkSettings, name: str, port: int, env: dict[str, str], host: str = "127.0.0.1"
    ) -> None:
        super().__init__(settings, name, module, port, **env)
        self.url = f"http://{host}:{port}"

    def health(self) -> dict[str, Any]:
        return self.http.get(f"{self.url}/health").json()

    def post(self, body: Any) -> httpx.Response:
        return self.http.post(self.url, json=body)

    def rpc(self, method: str, *params: Any) -> RpcReply:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 18_123_456_789_012_345}
        if params:
            body["params"] = list(params)
        response = self.post(body)
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["id"] == body["id"]
        return RpcReply(reply)

    def call(self, method: str, *params: Any) -> Any:
        return self.rpc(method, *params).result


def node_settings(settings: NetworkSettings, name: str, shard_id: int = 0, num_shard: int = 1) -> dict[str, str]:
    """Env of a storage node: its own port and name (so its own store), and its shard."""
    return {
        "ZG_STORAGE_PORT": str(free_port()),
        "ZG_STORAGE_NAME": name,
        "ZG_STORAGE_SHARD_ID": str(shard_id),
        "ZG_STORAGE_NUM_SHARD": str(num_shard),
        "ZG_POLL_INTERVAL": "0.1",
    }


def node_daemon(
    settings: NetworkSettings, name: str, shard_id: int = 0, num_shard: int = 1, host: str = "127.0.0.1", **extra: str
) -> Daemon:
    """A storage node not started yet, listening on `host` (another loopback address is another machine)."""
    env = {**node_settings(settings, name, shard_id, num_shard), "ZG_STORAGE_HOST": host, **extra}
    return Daemon("services.storage_miner", settings, name, int(env["ZG_STORAGE_PORT"]), env, host)


def start_node(
    settings: NetworkSettings, name: str, shard_id: int = 0, num_shard: int = 1, host: str = "127.0.0.1", **extra: str
) -> Daemon:
    return node_daemon(settings, name, shard_id, num_shard, host, **extra).start()


def start_indexer(settings: NetworkSettings, node_urls: list[str]) -> Daemon:
    port = free_port()
    env = {"ZG_INDEXER_PORT": str(port), "ZG_INDEXER_NODES": ",".join(node_urls)}
    return Daemon("services.storage_miner.indexer", settings, "indexer", port, env).start()


# ---------------------------------------------------------------- chain side


@dataclass
class Chain:
    settings: NetworkSettings
    w3: Web3
    deployment: Deployment

    @classmethod
    def of(cls, settings: NetworkSettings) -> Chain:
        w3 = connect(settings.rpc_url)
        return cls(settings, w3, Deployment.for_settings(settings, w3.eth.chain_id))

    @property
    def flow(self) -> Any:
        return self.deployment.contract(self.w3, "Flow")

    def submit(self, tree: FileTree, tags: bytes = b"") -> dict[str, Any]:
        """Pay for `tree` in the Flow as the SDK does (fee = Σ2^height · pricePerSector); the Submit args."""
        flow = self.flow
        market = self.w3.eth.contract(
            address=flow.functions.market().call(), abi=self.deployment.record("FixedPriceMarket")["abi"]
        )
        nodes = tree.submission_nodes()
        fee = sum(1 << h for _, h in nodes) * market.functions.pricePerSector().call()
        account = dev_account(UPLOADER_DEV_INDEX)
        submission = ((tree.size, tags, [(root, h) for root, h in nodes]), account.address)
        # A fixed gas limit: the first submit of an epoch also makes the epoch's context (~200k gas more),
        # which an estimate against the latest block does not see (reported to the contracts' owner).
        call = {"to": flow.address, "data": flow.encode_abi("submit", [submission]), "gas": SUBMIT_GAS}
        receipt = send_transaction(self.w3, account, call, value=fee, decoder=self.deployment.error_decoder())
        (event,) = flow.events.Submit().process_receipt(receipt, errors=DISCARD)
        return {**event["args"], "blockNumber": receipt["blockNumber"]}

    def mine(self, blocks: int = 1) -> None:
        self.w3.provider.make_request("anvil_mine", [blocks])  # type: ignore[arg-type]

    def snapshot(self) -> str:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]

    def revert(self, snapshot: str) -> None:
        assert self.w3.provider.make_request("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]


# ---------------------------------------------------------------- files and segments


@dataclass
class File:
    data: bytes
    tree: FileTree

    @classmethod
    def random(cls, size: int, seed: int | None = None) -> File:
        data = random.Random(seed).randbytes(size)
        return cls(data, FileTree.from_bytes(data))

    @property
    def root(self) -> str:
        return self.tree.root_hex

    def segment(self, index: int, /, **overrides: Any) -> dict[str, Any]:
        """SegmentWithProof of local segment `index`, cut as the SDK cuts it (last chunk zero-padded)."""
        chunk_bytes = self.tree.segment_chunks(index) * CHUNK_SIZE
        raw = self.data[index * SEGMENT_SIZE : index * SEGMENT_SIZE + chunk_bytes]
        raw += bytes(chunk_bytes - len(raw))
        segment = {
            "root": self.root,
            "data": base64.b64encode(raw).decode(),
            "index": index,
            "proof": self.tree.proof(index).to_json(),
            "fileSize": self.tree.size,
        }
        segment.update(overrides)
        return segment


def wait_for(predicate: Callable[[], Any], timeout: float = SYNC_TIMEOUT_SECONDS, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def wait_synced(node: Daemon, root: str) -> dict[str, Any]:
    return wait_for(lambda: node.call("zgs_getFileInfo", root, True), what=f"{node.name} to sync {root}")


def download(node: Daemon, seq: int, size: int) -> bytes:
    """The file as the SDK downloads it: zgs_downloadSegmentByTxSeq per segment, trailing padding cut."""
    chunks = -(-size // CHUNK_SIZE)
    out = b""
    for start in range(0, chunks, 1024):
        encoded = node.call("zgs_downloadSegmentByTxSeq", seq, start, min(start + 1024, chunks))
        assert encoded is not None, f"segment at chunk {start} not available"
        out += base64.b64decode(encoded)
    return out[:size]


def node_dir(settings: NetworkSettings, name: str) -> Path:
    return settings.data_dir / name
