"""Decoding with the deployment manifest's ABIs: a transaction's call, a log's event, a revert's custom error.

Decoded values are JSON-ready: structs become objects with their field names, bytes and hashes 0x-hex, addresses
checksummed, integers numbers while a JavaScript number holds them exactly and decimal strings beyond."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from eth_utils.abi import event_abi_to_log_topic, function_abi_to_4byte_selector, get_abi_input_types

#: Largest integer a JSON number carries exactly to a browser (2^53).
EXACT_JSON_INT = 2**53
#: Solidity's built-in revert payloads: Error(string) and Panic(uint256).
ERROR_STRING = bytes.fromhex("08c379a0")
PANIC = bytes.fromhex("4e487b71")
PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialized function",
}


def jsonable(abi: Mapping[str, Any], value: Any) -> Any:
    """`value` of the ABI parameter `abi` as JSON."""
    kind: str = abi["type"]
    if kind.endswith("]"):
        inner = dict(abi, type=kind[: kind.rindex("[")])
        return [jsonable(inner, v) for v in value]
    if kind == "tuple":
        return {
            c.get("name") or str(i): jsonable(c, v)
            for i, (c, v) in enumerate(zip(abi["components"], value, strict=True))
        }
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address":
        return to_checksum_address(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -EXACT_JSON_INT <= value <= EXACT_JSON_INT else str(value)
    return value


def _named(params: Sequence[Mapping[str, Any]], values: Sequence[Any]) -> dict[str, Any]:
    return {p.get("name") or f"arg{i}": jsonable(p, v) for i, (p, v) in enumerate(zip(params, values, strict=True))}


@dataclass(frozen=True)
class Decoded:
    """A decoded call, event or error: which contract (None for errors), its name, its named arguments."""

    contract: str | None
    name: str
    args: dict[str, Any]

    def text(self) -> str:
        """`Name(a=1, b=0x…)` — how a revert reads in one line."""
        inner = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.name}({inner})"


@dataclass(frozen=True)
class _Entry:
    contract: str
    abi: Mapping[str, Any]
    types: tuple[str, ...]


class AbiDecoder:
    """Functions and events per contract address, errors of every contract."""

    def __init__(self, contracts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        """`contracts`: name → (address, ABI)."""
        self.names: dict[str, str] = {}
        self._functions: dict[tuple[str, bytes], _Entry] = {}
        self._events: dict[tuple[str, bytes], _Entry] = {}
        self._errors: dict[bytes, _Entry] = {}
        for name, (address, abi) in contracts.items():
            key = address.lower()
            self.names[key] = name
            for item in abi:
                kind = item.get("type")
                if kind == "function":
                    self._functions[(key, function_abi_to_4byte_selector(item))] = self._entry(name, item)
                elif kind == "event":
                    self._events[(key, event_abi_to_log_topic(item))] = self._entry(name, item)
                elif kind == "error":
                    self._errors[function_abi_to_4byte_selector(item)] = self._entry(name, item)

    @staticmethod
    def _entry(contract: str, item: Mapping[str, Any]) -> _Entry:
        return _Entry(contract, item, tuple(get_abi_input_types(item)))  # type: ignore[arg-type]

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> AbiDecoder:
        contracts = manifest.get("contracts") or {}
        return cls({name: (c["address"], c["abi"]) for name, c in contracts.items()})

    def contract_name(self, address: str | None) -> str | None:
        return self.names.get(address.lower()) if address else None

    def call(self, to: str | None, data: bytes) -> Decoded | None:
        if not to or len(data) < 4:
            return None
        entry = self._functions.get((to.lower(), data[:4]))
        if entry is None:
            return None
        try:
            values = abi_decode(list(entry.types), data[4:])
        except Exception:  # calldata that does not match the ABI (the call reverted, or a fallback)
            return Decoded(entry.contract, entry.abi["name"], {})
        return Decoded(entry.contract, entry.abi["name"], _named(entry.abi["inputs"], values))

    def event(self, address: str, topics: Sequence[bytes], data: bytes) -> Decoded | None:
        if not topics:
            return None
        entry = self._events.get((address.lower(), topics[0]))
        if entry is None:
            return None
        inputs = entry.abi["inputs"]
        kinds = list(zip(inputs, entry.types, strict=True))
        plain = [(p, t) for p, t in kinds if not p.get("indexed")]
        indexed = [(p, t) for p, t in kinds if p.get("indexed")]
        try:
            values = dict(zip((id(p) for p, _ in plain), abi_decode([t for _, t in plain], data), strict=True))
            hashed = set()
            for (p, t), topic in zip(indexed, topics[1:], strict=True):
                if _dynamic(t):  # an indexed string, bytes, array or struct is only its hash in the topic
                    values[id(p)] = "0x" + topic.hex()
                    hashed.add(id(p))
                else:
                    values[id(p)] = abi_decode([t], topic)[0]
        except Exception:  # a log that does not match the ABI: name the event anyway
            return Decoded(entry.contract, entry.abi["name"], {})
        args = {
            p.get("name") or f"arg{i}": values[id(p)] if id(p) in hashed else jsonable(p, values[id(p)])
            for i, p in enumerate(inputs)
        }
        return Decoded(entry.contract, entry.abi["name"], args)

    def revert(self, data: bytes) -> Decoded | None:
        """The custom error, Error(string) or Panic(uint256) in revert data; None when there is none."""
        if len(data) < 4:
            return None
        selector, body = data[:4], data[4:]
        try:
            if selector == ERROR_STRING:
                return Decoded(None, "Error", {"message": abi_decode(["string"], body)[0]})
            if selector == PANIC:
                code = abi_decode(["uint256"], body)[0]
                return Decoded(None, "Panic", {"code": hex(code), "reason": PANIC_CODES.get(code, "unknown panic")})
            entry = self._errors.get(selector)
            if entry is None:
                return Decoded(None, "0x" + selector.hex(), {"data": "0x" + body.hex()})
            return Decoded(
                entry.contract, entry.abi["name"], _named(entry.abi["inputs"], abi_decode(list(entry.types), body))
            )
        except Exception:
            return Decoded(None, "0x" + selector.hex(), {"data": "0x" + body.hex()})


def _dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


def decoded_json(decoded: Decoded | None) -> dict[str, Any] | None:
    return None if decoded is None else {"contract": decoded.contract, "name": decoded.name, "args": decoded.args}
