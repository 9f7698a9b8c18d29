"""Secrets sealed to an account: ECIES on secp256k1 with AES-256-GCM, so that only the holder of an account's key
opens them (the marketplace's content keys, fine-tuned models' keys).

Sealed form: ephemeral public key (33, compressed) ‖ nonce (12) ‖ ciphertext ‖ tag (16). The AES key is
HKDF-SHA256 of the x-coordinate of ECDH(ephemeral, recipient) with SEAL_HKDF_INFO. A `context` (for example the
chain, contract, listing and grantee) is authenticated as associated data: a sealed secret opens only for the
purpose it was sealed for. The recipient's public key comes from any transaction it signed
(`public_key_of_transaction`), so nobody types one in and no wallet needs to export one.
"""

from __future__ import annotations

import os
from typing import Any

from coincurve import PrivateKey, PublicKey
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_account.typed_transactions import TypedTransaction
from eth_keys import keys
from eth_utils import to_checksum_address

from zerog.errors import ZeroGError

SEAL_HKDF_INFO = b"zerog/sealed/v1/aes-256-gcm"
EPHEMERAL_KEY_SIZE = 33
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32
#: Bytes a sealed secret adds to the secret.
SEAL_OVERHEAD = EPHEMERAL_KEY_SIZE + NONCE_SIZE + TAG_SIZE

#: Fields of a typed transaction's signing payload, as JSON-RPC names them.
_TYPED_FIELDS = {
    1: ("chainId", "nonce", "gasPrice", "gas", "to", "value", "data", "accessList"),
    2: ("chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "data", "accessList"),
}
_LEGACY_FIELDS = ("nonce", "gasPrice", "gas", "to", "value", "data")
_QUANTITIES = {"chainId", "nonce", "gas", "gasPrice", "maxPriorityFeePerGas", "maxFeePerGas", "value"}
#: v of a pre-EIP-155 legacy signature (27 or 28); EIP-155 ones are chainId * 2 + 35 or 36.
_LEGACY_V = (27, 28)


class SealError(ZeroGError):
    """A secret cannot be sealed or opened (bad key, tampered or misdirected ciphertext)."""


def _aes_key(shared_point: PublicKey) -> bytes:
    x = shared_point.format(compressed=True)[1:]
    return HKDF(x, KEY_SIZE, b"", SHA256, context=SEAL_HKDF_INFO)  # type: ignore[return-value]


def _public_key(value: bytes) -> PublicKey:
    raw = b"\x04" + value if len(value) == 64 else value
    try:
        return PublicKey(raw)
    except ValueError as exc:
        raise SealError(f"not a secp256k1 public key ({len(value)} bytes)") from exc


def seal(recipient: bytes, secret: bytes, context: bytes = b"") -> bytes:
    """`secret` sealed to the `recipient` public key (33, 64 or 65 bytes), bound to `context`."""
    ephemeral = PrivateKey(os.urandom(32))
    key = _aes_key(_public_key(recipient).multiply(ephemeral.secret))
    nonce = os.urandom(NONCE_SIZE)
    aes = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    aes.update(context)
    ciphertext, tag = aes.encrypt_and_digest(secret)
    return ephemeral.public_key.format(compressed=True) + nonce + ciphertext + tag


def unseal(private_key: bytes, sealed: bytes, context: bytes = b"") -> bytes:
    """The secret of `sealed`; SealError unless it was sealed to this key with this context and is intact."""
    if len(sealed) < SEAL_OVERHEAD:
        raise SealError(f"a sealed secret is at least {SEAL_OVERHEAD} bytes, got {len(sealed)}")
    ephemeral = _public_key(sealed[:EPHEMERAL_KEY_SIZE])
    nonce = sealed[EPHEMERAL_KEY_SIZE : EPHEMERAL_KEY_SIZE + NONCE_SIZE]
    body, tag = sealed[EPHEMERAL_KEY_SIZE + NONCE_SIZE : -TAG_SIZE], sealed[-TAG_SIZE:]
    aes = AES.new(_aes_key(ephemeral.multiply(private_key)), AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    aes.update(context)
    try:
        return aes.decrypt_and_verify(body, tag)
    except ValueError as exc:
        raise SealError("the sealed secret is not for this key (or this purpose), or it was tampered with") from exc


def public_key_of(private_key: bytes) -> bytes:
    """The 64-byte public key (x ‖ y) of a private key."""
    return PrivateKey(private_key).public_key.format(compressed=False)[1:]


def _int(value: Any) -> int:
    """A JSON-RPC quantity as web3 gives it (int, HexBytes) or as a node does (hex string)."""
    if isinstance(value, bytes):
        return int.from_bytes(value)
    return int(value, 16) if isinstance(value, str) else int(value)


def public_key_of_transaction(tx: Any) -> bytes:
    """The 64-byte public key (x ‖ y) of whoever signed `tx` (a transaction as eth_getTransactionByHash returns
    it: legacy, EIP-2930 or EIP-1559), checked against its `from`."""
    kind = _int(tx.get("type", 0))
    fields = {k: _int(v) if k in _QUANTITIES else v for k, v in dict(tx).items() if k != "input"}
    fields["data"] = tx.get("input", tx.get("data", b""))
    v, r, s = (_int(tx[name]) for name in ("v", "r", "s"))
    if kind in _TYPED_FIELDS:
        payload = {k: fields[k] for k in _TYPED_FIELDS[kind] if k in fields}
        payload["type"] = kind
        payload.setdefault("accessList", [])
        message_hash = TypedTransaction.from_dict(payload).hash()
        recovery = _int(tx.get("yParity", v))
    elif kind == 0:
        payload = {k: fields[k] for k in _LEGACY_FIELDS if k in fields}
        if v not in _LEGACY_V:
            payload["chainId"] = (v - 35) // 2
        message_hash = serializable_unsigned_transaction_from_dict(payload).hash()
        recovery = (v - 27) if v in _LEGACY_V else (v - 35) % 2
    else:
        raise SealError(f"cannot recover the signer of a type-{kind} transaction")
    public = keys.Signature(vrs=(recovery, r, s)).recover_public_key_from_msg_hash(message_hash)
    if to_checksum_address(public.to_checksum_address()) != to_checksum_address(tx["from"]):
        raise SealError(f"the signature of transaction {tx.get('hash')!r} does not recover its sender")
    return public.to_bytes()
