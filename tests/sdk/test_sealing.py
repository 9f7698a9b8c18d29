"""Secrets sealed to an account (zerog.sealing): only its key and the context it was sealed for open them, and the
public key to seal to comes from any transaction the account signed, whatever its type."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from zerog.accounts import dev_account
from zerog.chain import connect
from zerog.devnet.settings import NetworkSettings
from zerog.sealing import SEAL_OVERHEAD, SealError, public_key_of, public_key_of_transaction, seal, unseal

SECRET = os.urandom(32)


def test_seal__opens_only_with_its_key_and_context() -> None:
    owner, other = Account.create(), Account.create()
    sealed = seal(public_key_of(bytes(owner.key)), SECRET, b"listing 1")
    assert len(sealed) == len(SECRET) + SEAL_OVERHEAD
    assert unseal(bytes(owner.key), sealed, b"listing 1") == SECRET
    assert seal(public_key_of(bytes(owner.key)), SECRET, b"listing 1") != sealed  # fresh ephemeral key and nonce
    with pytest.raises(SealError, match="not for this key"):
        unseal(bytes(other.key), sealed, b"listing 1")
    with pytest.raises(SealError, match="not for this key"):
        unseal(bytes(owner.key), sealed, b"listing 2")
    tampered = bytearray(sealed)
    tampered[-20] ^= 1
    with pytest.raises(SealError, match="tampered"):
        unseal(bytes(owner.key), bytes(tampered), b"listing 1")
    with pytest.raises(SealError, match="at least"):
        unseal(bytes(owner.key), sealed[: SEAL_OVERHEAD - 1], b"listing 1")
    with pytest.raises(SealError, match="not a secp256k1 public key"):
        seal(b"\x05" * 33, SECRET)


def test_public_key_of_transaction__every_type_and_a_raw_node_answer(devnet: NetworkSettings) -> None:
    w3 = connect(devnet.rpc_url)
    sender = dev_account(7)
    expected = public_key_of(bytes(sender.key))
    base = {"gas": 30_000, "to": "0x" + "11" * 20, "value": 5, "data": "0x1234"}
    variants = {
        "legacy, pre-EIP-155": {"gasPrice": 10**10},
        "legacy, EIP-155": {"gasPrice": 10**10, "chainId": devnet.chain_id},
        "EIP-2930": {"type": 1, "gasPrice": 10**10, "chainId": devnet.chain_id, "accessList": []},
        "EIP-1559": {"type": 2, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "chainId": devnet.chain_id},
    }
    for name, fields in variants.items():
        tx = {**base, **fields, "nonce": w3.eth.get_transaction_count(sender.address)}
        tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        w3.eth.wait_for_transaction_receipt(tx_hash)
        assert public_key_of_transaction(w3.eth.get_transaction(tx_hash)) == expected, name
        raw = w3.provider.make_request("eth_getTransactionByHash", [tx_hash.to_0x_hex()])["result"]  # type: ignore[arg-type]
        assert public_key_of_transaction(raw) == expected, f"{name}, hex fields"
        forged = {**raw, "from": dev_account(8).address}
        with pytest.raises(SealError, match="does not recover its sender"):
            public_key_of_transaction(forged)
