"""The KV node's JSON-RPC: the official node's `kv_*` methods, params and result shapes (keys and values base64,
stream ids 0x hex, versions JSON numbers; docs/storage-wire.md §7), and `kv_getReplayProgress`."""

from __future__ import annotations

import base64
import re
from typing import Any

from services.common.jsonrpc import Dispatcher, Param, invalid_params, parse_base64, parse_bool, parse_hash, parse_uint
from services.storage_kv.store import KvStore
from zerog.storage.kv import MAX_KEY_SIZE, MAX_QUERY_SIZE

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_key(value: Any, name: str) -> bytes:
    key = parse_base64(value, name, MAX_KEY_SIZE)
    if not key:
        raise invalid_params(name, "key is empty")
    return key


def parse_address(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise invalid_params(name, "expected a 0x-prefixed 20-byte hex address")
    return bytes.fromhex(value[2:])


def parse_len(value: Any, name: str) -> int:
    length = parse_uint(value, name)
    if length > MAX_QUERY_SIZE:
        raise invalid_params(name, "query length too large")
    return length


def parse_seq(value: Any, name: str) -> int:
    """A tx seq: a JSON number, or a decimal string (what the official TS client sends)."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        value = int(value)
    return parse_uint(value, name)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _segment(data: bytes, version: int, start: int, length: int) -> dict[str, Any]:
    """Bytes [start, start + length) of a value, as the official node answers (an empty value or an empty range
    needs no valid start)."""
    if not data or not length:
        return {"version": version, "data": "", "size": len(data)}
    if start > len(data):
        raise invalid_params("start_index", "start index is greater than value length")
    return {"version": version, "data": _b64(data[start : start + length]), "size": len(data)}


class KvRpc:
    def __init__(self, store: KvStore, held: set[bytes] | None) -> None:
        self.store, self.held = store, held

    def get_value(self, stream_id: bytes, key: bytes, start: int, length: int, version: int | None) -> dict:
        found = self.store.value(stream_id, key, version)
        if found is None:
            return {"version": 0, "data": "", "size": 0}
        return _segment(found[1], found[0], start, length)

    def _pair(self, found: tuple[bytes, int, bytes] | None, start: int, length: int) -> dict | None:
        if found is None:
            return None
        key, version, data = found
        return {**_segment(data, version, start, length), "key": _b64(key)}

    def get_next(self, stream_id: bytes, key: bytes, start: int, length: int, inclusive: bool, version: int | None):
        return self._pair(self.store.neighbour(stream_id, key, True, inclusive, version), start, length)

    def get_prev(self, stream_id: bytes, key: bytes, start: int, length: int, inclusive: bool, version: int | None):
        return self._pair(self.store.neighbour(stream_id, key, False, inclusive, version), start, length)

    def get_first(self, stream_id: bytes, start: int, length: int, version: int | None) -> dict | None:
        return self._pair(self.store.neighbour(stream_id, None, True, True, version), start, length)

    def get_last(self, stream_id: bytes, start: int, length: int, version: int | None) -> dict | None:
        return self._pair(self.store.neighbour(stream_id, None, False, True, version), start, length)

    def holding_stream_ids(self) -> list[str]:
        held = sorted(self.held) if self.held is not None else self.store.stream_ids()
        return ["0x" + s.hex() for s in held]

    def dispatcher(self) -> Dispatcher:
        store = self.store
        stream, key, account = Param("stream_id", parse_hash), Param("key", parse_key), Param("account", parse_address)
        start, length = Param("start_index", parse_uint), Param("len", parse_len)
        inclusive, version = Param("inclusive", parse_bool), Param("version", parse_uint, optional=True)
        d = Dispatcher()
        d.add("kv_getStatus", lambda: True)
        d.add("kv_getValue", self.get_value, stream, key, start, length, version)
        d.add("kv_getNext", self.get_next, stream, key, start, length, inclusive, version)
        d.add("kv_getPrev", self.get_prev, stream, key, start, length, inclusive, version)
        d.add("kv_getFirst", self.get_first, stream, start, length, version)
        d.add("kv_getLast", self.get_last, stream, start, length, version)
        d.add("kv_getTransactionResult", store.tx_result, Param("tx_seq", parse_seq))
        d.add("kv_getHoldingStreamIds", self.holding_stream_ids)
        d.add("kv_getReplayProgress", store.progress)
        d.add("kv_hasWritePermission", lambda a, s, k, v: store.check("has_write_permission", a, s, k, v),
              account, stream, key, version)  # fmt: skip
        is_admin = (lambda a, s, v: store.check("is_admin", a, s, v), account, stream, version)
        d.add("kv_isAdmin", *is_admin)
        d.add("kv_IsAdmin", *is_admin)  # the official TS client's spelling
        d.add("kv_isSpecialKey", lambda s, k, v: store.check("is_special_key", s, k, v), stream, key, version)
        d.add("kv_isWriterOfKey", lambda a, s, k, v: store.check("is_writer_of_key", a, s, k, v),
              account, stream, key, version)  # fmt: skip
        d.add("kv_isWriterOfStream", lambda a, s, v: store.check("is_writer_of_stream", a, s, v),
              account, stream, version)  # fmt: skip
        return d
