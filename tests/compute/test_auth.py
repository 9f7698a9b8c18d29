"""zerog.auth: our EIP-712 hashing equals eth-account's reference implementation, signatures round-trip, and
bad input fails with SignatureError (never a silent wrong digest)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from zerog.accounts import dev_account
from zerog.auth import (
    Domain,
    SignatureError,
    StructType,
    encode_value,
    recover_digest,
    recover_personal,
    recover_typed,
    sign_personal,
    sign_typed,
    typed_data,
)

DOMAIN = Domain("Test", "1", 16688, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MAIL = StructType(
    "Mail",
    (
        ("from", "address"),
        ("amount", "uint96"),
        ("delta", "int32"),
        ("flag", "bool"),
        ("tag", "bytes4"),
        ("note", "string"),
        ("blob", "bytes"),
        ("root", "bytes32"),
    ),
)
MESSAGE = {
    "from": dev_account(3).address,
    "amount": 2**95,
    "delta": -7,
    "flag": True,
    "tag": "0xdeadbeef",
    "note": "hello ✓",
    "blob": b"\x01\x02",
    "root": "0x" + "11" * 32,
}


def _reference_digest(domain: Domain, struct: StructType, message: dict) -> bytes:
    signable = encode_typed_data(full_message=typed_data(domain, struct, message))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def test_digest__equals_eth_account_reference() -> None:
    assert MAIL.digest(DOMAIN, MESSAGE) == _reference_digest(DOMAIN, MAIL, MESSAGE)


def test_domain__every_field_changes_the_digest() -> None:
    base = MAIL.digest(DOMAIN, MESSAGE)
    for other in (
        Domain("Other", "1", 16688, DOMAIN.verifying_contract),
        Domain("Test", "2", 16688, DOMAIN.verifying_contract),
        Domain("Test", "1", 16602, DOMAIN.verifying_contract),
        Domain("Test", "1", 16688, dev_account(0).address),
    ):
        assert MAIL.digest(other, MESSAGE) != base


def test_sign_typed__recovers_the_signer_and_matches_eth_account() -> None:
    account = dev_account(4)
    signature = sign_typed(account, DOMAIN, MAIL, MESSAGE)
    assert recover_typed(DOMAIN, MAIL, MESSAGE, signature) == account.address
    reference = Account.sign_typed_data(account.key, full_message=typed_data(DOMAIN, MAIL, MESSAGE))
    assert signature == bytes(reference.signature)
    tampered = {**MESSAGE, "amount": 1}
    assert recover_typed(DOMAIN, MAIL, tampered, signature) != account.address


def test_personal_sign__round_trips() -> None:
    account = dev_account(5)
    for message in ("hello", b"\x00\x01"):
        assert recover_personal(message, sign_personal(account, message)) == account.address


@pytest.mark.parametrize(
    ("kind", "value"),
    [("uint8", 256), ("uint256", -1), ("int8", 128), ("bytes4", "0x0102030405"), ("address", "nope"), ("tuple", 1)],
)
def test_encode_value__out_of_range_raises(kind: str, value: object) -> None:
    with pytest.raises(SignatureError):
        encode_value(kind, value)


def test_struct_hash__missing_field_raises() -> None:
    with pytest.raises(SignatureError, match="missing field 'note'"):
        MAIL.struct_hash({k: v for k, v in MESSAGE.items() if k != "note"})


@pytest.mark.parametrize("signature", ["0x1234", "not hex", "0x" + "00" * 65])
def test_recover_digest__malformed_signature_raises(signature: str) -> None:
    with pytest.raises(SignatureError):
        recover_digest(b"\x11" * 32, signature)
