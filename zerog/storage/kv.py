"""0G KV streams: the write blob and tags of the official `Batcher`, its upload through the Flow, and a client of
the KV node's `kv_*` JSON-RPC (formats: docs/storage-wire.md §7).

A KV transaction is an ordinary storage file whose submission tags are sha256("STREAM") followed by the ids of
the streams it touches. Its bytes are the blob `encode` makes: a version, a read set, a write set (keys, then all
values), and access-control operations. A KV node replays these files in tx-seq order.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from zerog.chain import Deployment
from zerog.storage.client import Node, UploadResult, upload
from zerog.storage.rpc import JsonRpcClient

STREAM_DOMAIN = hashlib.sha256(b"STREAM").digest()
#: Keys are sized by 3 bytes on the wire; the official builder refuses keys of 2^24 bytes and up, and empty ones.
MAX_KEY_SIZE = (1 << 24) - 1
#: Most reads, writes or access-control operations in one blob (the official node's MAX_SIZE_LEN).
MAX_SET_SIZE = 1 << 16
#: Most value bytes one kv_get* call returns (the official client's MAX_QUERY_SIZE, the node's default limit).
MAX_QUERY_SIZE = 256 * 1024
#: "No version given": the newest (the official clients' default version for writes, too).
LATEST = 2**64 - 1
#: The official KV node's JSON-RPC port.
DEFAULT_KV_PORT = 6789


class KvError(ValueError):
    """A blob that cannot be built or parsed (a DataParseError on the node)."""


class Op(IntEnum):
    """Access-control operation types (the high nibble is the category: admin, special key, writer, key writer)."""

    GRANT_ADMIN_ROLE = 0x00
    RENOUNCE_ADMIN_ROLE = 0x01
    SET_KEY_TO_SPECIAL = 0x10
    SET_KEY_TO_NORMAL = 0x11
    GRANT_WRITER_ROLE = 0x20
    REVOKE_WRITER_ROLE = 0x21
    RENOUNCE_WRITER_ROLE = 0x22
    GRANT_SPECIAL_WRITER_ROLE = 0x30
    REVOKE_SPECIAL_WRITER_ROLE = 0x31
    RENOUNCE_SPECIAL_WRITER_ROLE = 0x32

    @property
    def has_key(self) -> bool:
        return self in _KEYED

    @property
    def has_account(self) -> bool:
        return self in _WITH_ACCOUNT


_KEYED = {
    Op.SET_KEY_TO_SPECIAL, Op.SET_KEY_TO_NORMAL, Op.GRANT_SPECIAL_WRITER_ROLE, Op.REVOKE_SPECIAL_WRITER_ROLE,
    Op.RENOUNCE_SPECIAL_WRITER_ROLE,
}  # fmt: skip
_WITH_ACCOUNT = {
    Op.GRANT_ADMIN_ROLE, Op.GRANT_WRITER_ROLE, Op.REVOKE_WRITER_ROLE, Op.GRANT_SPECIAL_WRITER_ROLE,
    Op.REVOKE_SPECIAL_WRITER_ROLE,
}  # fmt: skip


@dataclass(frozen=True)
class Control:
    op: Op
    stream_id: bytes
    key: bytes = b""
    account: bytes = b""  # 20 bytes when op.has_account


@dataclass
class StreamData:
    """One KV transaction: reads (stream, key), writes (stream, key, value), controls, and the version its reads
    and writes were made against (a key written after it makes the transaction a VersionConfliction)."""

    version: int = LATEST
    reads: list[tuple[bytes, bytes]] = field(default_factory=list)
    writes: list[tuple[bytes, bytes, bytes]] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)

    def stream_ids(self) -> list[bytes]:
        """The streams it touches, in first-use order (writes, then controls: the official builder's tag order)."""
        ids = [s for s, _, _ in self.writes] + [s for s, _ in self.reads] + [c.stream_id for c in self.controls]
        return list(dict.fromkeys(ids))

    def encode(self) -> bytes:
        for items in (self.reads, self.writes, self.controls):
            if len(items) > MAX_SET_SIZE:
                raise KvError(f"more than {MAX_SET_SIZE} entries in one set")
        out = [self.version.to_bytes(8, "big"), len(self.reads).to_bytes(4, "big")]
        for stream_id, key in self.reads:
            out += [_stream(stream_id), _key(key)]
        out.append(len(self.writes).to_bytes(4, "big"))
        for stream_id, key, value in self.writes:
            out += [_stream(stream_id), _key(key), len(value).to_bytes(8, "big")]
        out += [value for _, _, value in self.writes]
        out.append(len(self.controls).to_bytes(4, "big"))
        for c in self.controls:
            out += [bytes([c.op]), _stream(c.stream_id)]
            if c.op.has_key:
                out.append(_key(c.key))
            if c.op.has_account:
                if len(c.account) != 20:
                    raise KvError(f"{c.op.name} needs a 20-byte account")
                out.append(c.account)
        return b"".join(out)


def _stream(stream_id: bytes) -> bytes:
    if len(stream_id) != 32:
        raise KvError(f"a stream id has 32 bytes, not {len(stream_id)}")
    return stream_id


def _key(key: bytes) -> bytes:
    if not key:
        raise KvError("errKeyIsEmpty: a key has at least one byte")
    if len(key) > MAX_KEY_SIZE:
        raise KvError(f"errKeyTooLarge: a key has at most {MAX_KEY_SIZE} bytes, not {len(key)}")
    return len(key).to_bytes(3, "big") + key


def stream_tags(stream_ids: list[bytes]) -> bytes:
    """Submission tags of a KV transaction: the stream domain, then each stream id."""
    return STREAM_DOMAIN + b"".join(_stream(s) for s in stream_ids)


def tagged_streams(tags: bytes) -> list[bytes] | None:
    """The stream ids `tags` mark, or None when the submission is no KV transaction."""
    if len(tags) <= 32 or not tags.startswith(STREAM_DOMAIN) or len(tags) % 32:
        return None
    return [tags[i : i + 32] for i in range(32, len(tags), 32)]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise KvError(f"the blob ends at byte {len(self.data)}, {n} more needed at {self.at}")
        self.at += n
        return self.data[self.at - n : self.at]

    def int(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def count(self) -> int:
        n = self.int(4)
        if n > MAX_SET_SIZE:
            raise KvError(f"a set of {n} entries (at most {MAX_SET_SIZE})")
        return n

    def key(self) -> bytes:
        size = self.int(3)
        if size == 0:
            raise KvError("an empty key")
        return self.take(size)


def decode(blob: bytes) -> StreamData:
    """Parse a KV blob as the official node does (KvError: a DataParseError). Of several writes to one key, the
    last counts; bytes after the controls are ignored (the flow pads files with zeros)."""
    r = _Reader(blob)
    data = StreamData(r.int(8))
    data.reads = [(r.take(32), r.key()) for _ in range(r.count())]
    heads = [(r.take(32), r.key(), r.int(8)) for _ in range(r.count())]
    writes: dict[tuple[bytes, bytes], bytes] = {}
    for stream_id, key, size in heads:
        writes.pop((stream_id, key), None)
        writes[(stream_id, key)] = r.take(size)
    data.writes = [(s, k, v) for (s, k), v in writes.items()]
    for _ in range(r.count()):
        raw = r.int(1)
        try:
            op = Op(raw)
        except ValueError as exc:
            raise KvError(f"unknown access-control operation 0x{raw:02x}") from exc
        stream_id = r.take(32)
        key = r.key() if op.has_key else b""
        account = r.take(20) if op.has_account else b""
        data.controls.append(Control(op, stream_id, key, account))
    return data


# ---------------------------------------------------------------- writing: the Batcher's upload


def put(data: StreamData, nodes: list[Node], w3: Web3, account: LocalAccount, deployment: Deployment) -> UploadResult:
    """Upload `data` as the official Batcher does: the blob as a file, tagged with its streams."""
    fd, name = tempfile.mkstemp(prefix="zg-kv-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode())
        return upload(Path(name), nodes, w3, account, deployment, tags=stream_tags(data.stream_ids()))
    finally:
        os.unlink(name)


# ---------------------------------------------------------------- reading: the KV node's JSON-RPC


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


class KvClient(JsonRpcClient):
    """The KV node's `kv_*` methods, with the official client's params (base64 keys, 0x stream ids)."""

    def get_value(self, stream_id: bytes, key: bytes, version: int | None = None) -> dict[str, Any] | None:
        """The whole value `{version, data (bytes), size}` (several calls for one over MAX_QUERY_SIZE); None when
        the key has no value (never written, or deleted)."""
        data = b""
        while True:
            extra = [] if version is None else [version]
            seg = self.call("kv_getValue", _hex(stream_id), _b64(key), len(data), MAX_QUERY_SIZE, *extra)
            if seg is None:
                return None
            data += base64.b64decode(seg["data"])
            version = seg["version"]  # the rest is read at the version of the first part
            if len(data) >= seg["size"]:
                return None if seg["version"] == 0 and not data else {**seg, "data": data}

    def iterate(self, stream_id: bytes, version: int | None = None) -> list[dict[str, Any]]:
        """Every key with its value, in key order (values over MAX_QUERY_SIZE come back cut: see `size`)."""
        extra = [] if version is None else [version]
        rows = []
        seg = self.call("kv_getFirst", _hex(stream_id), 0, MAX_QUERY_SIZE, *extra)
        while seg is not None:
            rows.append({**seg, "key": base64.b64decode(seg["key"]), "data": base64.b64decode(seg["data"])})
            seg = self.call("kv_getNext", _hex(stream_id), seg["key"], 0, MAX_QUERY_SIZE, False, *extra)
        return rows

    def transaction_result(self, tx_seq: int) -> str | None:
        return self.call("kv_getTransactionResult", tx_seq)

    def replay_progress(self) -> dict[str, Any]:
        return self.call("kv_getReplayProgress")
