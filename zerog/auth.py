"""EIP-191 and EIP-712 signing and verification, shared by every component (compute vouchers and receipts,
DA attestations, signed HTTP requests).

EIP-712 hashing here is done directly from a struct type's field list, without building typed-data JSON, so
it is cheap enough for a per-request hot path; `typed_data()` still gives the full JSON a wallet
(`eth_signTypedData_v4`) signs, and the tests check both give the same digest as eth-account and as Solidity.
Supported field types: address, bool, uint<N>, int<N>, bytes<N>, and dynamic `string` / `bytes` (hashed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_canonical_address, to_checksum_address
from hexbytes import HexBytes

from zerog.errors import ZeroGError

SIGNATURE_LENGTH = 65
_WORD = 32
_EIP712_PREFIX = b"\x19\x01"
_DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address"))


class SignatureError(ZeroGError):
    """A signature is malformed, or a value cannot be encoded for signing."""


# ---------------------------------------------------------------- EIP-712


@dataclass(frozen=True)
class StructType:
    """An EIP-712 struct type of flat fields, e.g. ``StructType("Voucher", (("user", "address"), ...))``."""

    name: str
    fields: tuple[tuple[str, str], ...]

    @cached_property
    def encode_type(self) -> str:
        return f"{self.name}({','.join(f'{t} {n}' for n, t in self.fields)})"

    @cached_property
    def type_hash(self) -> bytes:
        return keccak(text=self.encode_type)

    def struct_hash(self, message: Mapping[str, Any]) -> bytes:
        """hashStruct(message): keccak256(typeHash ‖ encodeData(message))."""
        try:
            words = [encode_value(t, message[n]) for n, t in self.fields]
        except KeyError as exc:
            raise SignatureError(f"{self.name} is missing field {exc.args[0]!r}") from exc
        return keccak(self.type_hash + b"".join(words))

    def digest(self, domain: Domain, message: Mapping[str, Any]) -> bytes:
        """The 32 bytes that are signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))."""
        return keccak(_EIP712_PREFIX + domain.separator + self.struct_hash(message))

    def types(self) -> dict[str, list[dict[str, str]]]:
        return {self.name: [{"name": n, "type": t} for n, t in self.fields]}


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain with every replay guard: name, version, chain id and verifying contract."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str
    _type: StructType = field(default=StructType("EIP712Domain", _DOMAIN_FIELDS), repr=False, compare=False)

    @cached_property
    def separator(self) -> bytes:
        return self._type.struct_hash(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def encode_value(kind: str, value: Any) -> bytes:
    """One 32-byte word of encodeData for a field of type `kind`."""
    try:
        if kind == "address":
            return b"\x00" * 12 + to_canonical_address(value)
        if kind == "bool":
            return int(bool(value)).to_bytes(_WORD, "big")
        if kind.startswith("uint"):
            number = int(value)
            if number < 0 or number.bit_length() > int(kind[4:] or 256):
                raise SignatureError(f"{value} does not fit {kind}")
            return number.to_bytes(_WORD, "big")
        if kind.startswith("int"):
            number = int(value)
            bits = int(kind[3:] or 256)
            if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
                raise SignatureError(f"{value} does not fit {kind}")
            return number.to_bytes(_WORD, "big", signed=True)
        if kind == "string":
            return keccak(text=value)
        if kind == "bytes":
            return keccak(bytes(HexBytes(value)))
        if kind.startswith("bytes"):
            raw = bytes(HexBytes(value))
            if len(raw) > int(kind[5:]):
                raise SignatureError(f"{len(raw)} bytes do not fit {kind}")
            return raw.ljust(_WORD, b"\x00")
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"cannot encode {value!r} as {kind}: {exc}") from exc
    raise SignatureError(f"unsupported EIP-712 field type {kind!r}")


def typed_data(domain: Domain, struct: StructType, message: Mapping[str, Any]) -> dict[str, Any]:
    """The full typed-data JSON (what `eth_signTypedData_v4` and MetaMask sign)."""
    types = {"EIP712Domain": [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS], **struct.types()}
    return {"types": types, "primaryType": struct.name, "domain": domain.as_dict(), "message": dict(message)}


def sign_typed(account: LocalAccount, domain: Domain, struct: StructType, message: Mapping[str, Any]) -> bytes:
    return sign_digest(account, struct.digest(domain, message))


def recover_typed(domain: Domain, struct: StructType, message: Mapping[str, Any], signature: bytes | str) -> str:
    return recover_digest(struct.digest(domain, message), signature)


# ---------------------------------------------------------------- digests and EIP-191


def sign_digest(account: LocalAccount, digest: bytes) -> bytes:
    """65-byte r ‖ s ‖ v (v = 27/28) signature of a 32-byte digest: what OpenZeppelin's ECDSA.recover takes."""
    return bytes(account.unsafe_sign_hash(digest).signature)


def recover_digest(digest: bytes, signature: bytes | str) -> str:
    """The checksummed address that signed `digest`; SignatureError if the signature is malformed."""
    try:
        raw = bytes(HexBytes(signature))
    except (ValueError, TypeError) as exc:
        raise SignatureError("signature is not hex") from exc
    if len(raw) != SIGNATURE_LENGTH:
        raise SignatureError(f"signature must be {SIGNATURE_LENGTH} bytes, got {len(raw)}")
    try:
        return str(Account._recover_hash(digest, signature=raw))
    except Exception as exc:  # eth-keys raises several kinds for bad r/s/v
        raise SignatureError(f"invalid signature: {exc}") from exc


def sign_personal(account: LocalAccount, message: bytes | str) -> bytes:
    """EIP-191 `personal_sign` of `message` (bytes, or text)."""
    signable = encode_defunct(text=message) if isinstance(message, str) else encode_defunct(primitive=message)
    return bytes(account.sign_message(signable).signature)


def recover_personal(message: bytes | str, signature: bytes | str) -> str:
    signable = encode_defunct(text=message) if isinstance(message, str) else encode_defunct(primitive=message)
    try:
        return str(Account.recover_message(signable, signature=bytes(HexBytes(signature))))
    except Exception as exc:
        raise SignatureError(f"invalid signature: {exc}") from exc
