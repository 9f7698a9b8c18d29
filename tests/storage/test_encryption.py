"""The encrypted file format against known answers from the official TS SDK's own functions (cryptAt,
deriveEciesDecryptKey, EncryptedFile + MemData, computed through node), and our stream/tree/decrypt round trips."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from coincurve import PrivateKey

from zerog.storage.encryption import (
    ECIES_HEADER_SIZE,
    Decryptor,
    EncryptionError,
    Encryptor,
    Header,
    crypt,
    ecies_key,
    parse_public_key,
)
from zerog.storage.journal import SubmitJournal, encrypted_upload_id
from zerog.storage.merkle import SEGMENT_SIZE, FileTree

KEY = bytes(range(32))
NONCE = bytes.fromhex("ff" * 15 + "fe")  # the counter wraps past 2^128 - 1 within the vector
DATA = bytes(i * 7 % 256 for i in range(40))
# cryptAt(KEY, NONCE, 0, DATA) and cryptAt(KEY, NONCE, 21, DATA[21:]).
AT_0 = "63e2ba17a93d62ecc2d2bf93cd97452d99ee9a98c034ea7bfb28a7c6994485371277ee43d64a95c1"
AT_21 = "34ea7bfb28a7c6994485371277ee43d64a95c1"
# deriveEciesDecryptKey(0x11 * 32, G compressed).
PRIVATE = bytes([0x11]) * 32
G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
ECIES_KEY = "807ba20a8eafcfbab71507e0b3e05de1426699d30e5a414ab60cd947586fe189"
# new EncryptedFile(new MemData(i % 251 for 300 bytes), ECIES_KEY, v2 header(NONCE, G)): its stream and root.
PLAIN_300 = bytes(i % 251 for i in range(300))
ROOT_300 = "0x5d7eba8a09fda80646c9228c6f60d79a2420f20ae301ba0c3bfcf47847c14272"
STREAM_300_HEAD = (
    "020279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798fffffffffffffffffffffffffffffffe"
    "102d7f07f575fd4d546ad97445672dfde94bbd3de137594660e32d51d9144e30"
)


def test_ctr_matches_the_official_cryptat__at_any_offset() -> None:
    assert crypt(KEY, NONCE, 0, DATA).hex() == AT_0
    assert crypt(KEY, NONCE, 21, DATA[21:]).hex() == AT_21
    assert crypt(KEY, NONCE, 0, bytes.fromhex(AT_0)) == DATA


def test_ecies_key_and_stream_match_the_official_sdk() -> None:
    assert ecies_key(PRIVATE, G).hex() == ECIES_KEY
    # G is the ephemeral key: secret 1, to PRIVATE's public key (ECDH is symmetric).
    encryptor = Encryptor.ecies(PrivateKey(PRIVATE).public_key.format(), NONCE, (1).to_bytes(32))
    assert (encryptor.header, encryptor.key.hex()) == (Header(2, NONCE, G), ECIES_KEY)
    plain = memoryview(PLAIN_300)
    stream = encryptor.read(plain, 0, encryptor.stream_size(300))
    assert stream.hex().startswith(STREAM_300_HEAD) and len(stream) == 300 + ECIES_HEADER_SIZE
    assert FileTree.from_reader(len(stream), encryptor.view(plain).read).root_hex == ROOT_300
    # The recipient gets the plaintext back from the header and its private key alone.
    decryptor = Decryptor.for_header(Header.parse(stream), private_key=PRIVATE)
    assert decryptor.decrypt(stream, 0) == (PLAIN_300, 0)


@pytest.mark.parametrize("size", [1, SEGMENT_SIZE - 17, SEGMENT_SIZE + 1, 19 * SEGMENT_SIZE + 5])
def test_stream_read_in_any_ranges__tree_and_decrypt_per_segment(size: int) -> None:
    plain = os.urandom(size)
    encryptor = Encryptor.symmetric(KEY)
    view = encryptor.view(memoryview(plain))
    whole = view[0 : len(view)]
    assert whole[:17] == encryptor.header.to_bytes()
    assert FileTree.from_reader(len(whole), view.read).root == FileTree.from_bytes(whole).root
    decryptor = Decryptor.for_header(Header.parse(whole[:SEGMENT_SIZE]), symmetric_key=KEY)
    out = bytearray(decryptor.plain_size(len(whole)))
    for start in range(0, len(whole), SEGMENT_SIZE):
        part, offset = decryptor.decrypt(whole[start : start + SEGMENT_SIZE], start)
        out[offset : offset + len(part)] = part
    assert out == plain


def test_public_keys_in_any_form__and_bad_headers() -> None:
    secret = PrivateKey(PRIVATE)
    compressed = secret.public_key.format(compressed=True)
    full = secret.public_key.format(compressed=False)
    assert parse_public_key(compressed) == parse_public_key(full) == parse_public_key(full[1:]) == compressed
    with pytest.raises(EncryptionError, match="not a secp256k1 public key"):
        parse_public_key(b"\x02" + bytes(32))
    stream = Encryptor.ecies(compressed).read(memoryview(b"hello"), 0, 55)
    with pytest.raises(EncryptionError, match="truncated v2"):
        Header.parse(stream[:49])
    with pytest.raises(EncryptionError, match="truncated v1"):
        Header.parse(b"\x01" + bytes(10))
    with pytest.raises(EncryptionError, match="not a secp256k1 point"):
        Header.parse(b"\x02\x05" + stream[2:])
    with pytest.raises(EncryptionError, match="not an encrypted file"):
        Header.parse(b"%PDF-1.7 and so on, long enough for any header" * 2)
    with pytest.raises(EncryptionError, match="needs the recipient's private key"):
        Decryptor.for_header(Header.parse(stream), symmetric_key=KEY)
    with pytest.raises(EncryptionError, match="needs the 32-byte key"):
        Decryptor.for_header(Header(1, NONCE), private_key=PRIVATE)


def test_a_retried_encrypted_upload_gets_the_first_attempts_randomness__only_the_same_one(tmp_path: Path) -> None:
    """The journal keeps an encrypted upload's nonce (and v2 ephemeral secret, user-only) until it is finalized:
    the same content, key or recipient and submitter is the same stream; anything else is a new file."""
    journal = SubmitJournal(tmp_path)
    recipient, other = (PrivateKey().public_key.format() for _ in range(2))
    content, submitter = bytes(32), "0x" + "ab" * 20

    def attempt(fresh: Encryptor, digest: bytes = content, sender: str = submitter) -> tuple[Header, bytes]:
        used = journal.encryption(encrypted_upload_id(fresh, digest, sender), fresh)
        return used.header, used.key

    first = attempt(Encryptor.ecies(recipient))
    (entry,) = tmp_path.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600  # it holds the ephemeral secret
    assert attempt(Encryptor.ecies(recipient)) == first
    assert attempt(Encryptor.ecies(other)) != first
    assert attempt(Encryptor.ecies(recipient), digest=bytes([1]) * 32) != first
    assert attempt(Encryptor.ecies(recipient), sender="0x" + "cd" * 20) != first
    v1 = attempt(Encryptor.symmetric(KEY))
    assert attempt(Encryptor.symmetric(KEY)) == v1 and attempt(Encryptor.symmetric(bytes(32))) != v1
    journal.forget_encryption(encrypted_upload_id(Encryptor.ecies(recipient), content, submitter))  # finalized
    assert attempt(Encryptor.ecies(recipient)) != first
