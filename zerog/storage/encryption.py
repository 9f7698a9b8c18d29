"""Encrypted files in the official 0G clients' format (docs/storage-wire.md §5): AES-256-CTR, no MAC.

v1 (symmetric): header 0x01 ‖ nonce(16). v2 (ECIES): header 0x02 ‖ ephemeral secp256k1 key (33, compressed) ‖
nonce(16), and the AES key is HKDF-SHA256 of the x-coordinate of ECDH(ephemeral, recipient). The stored file is
header ‖ ciphertext (its merkle root covers both). Plaintext byte o is encrypted with counter block
nonce + o // 16 (128-bit big-endian, wrapping), so any range encrypts or decrypts on its own: uploads encrypt
segment by segment on demand, downloads decrypt segment by segment, and a file split into fragments (the header
in the first one only) continues the offsets across them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from zerog.errors import ZeroGError

SYMMETRIC_VERSION = 1
ECIES_VERSION = 2
NONCE_SIZE = 16
KEY_SIZE = 32
EPHEMERAL_KEY_SIZE = 33
SYMMETRIC_HEADER_SIZE = 1 + NONCE_SIZE
ECIES_HEADER_SIZE = 1 + EPHEMERAL_KEY_SIZE + NONCE_SIZE
#: The HKDF info string of the Go and TS clients, byte for byte.
ECIES_HKDF_INFO = b"0g-storage-client/ecies/v1/aes-256"
AES_BLOCK = 16


class EncryptionError(ZeroGError):
    """A header, key or encrypted file is not usable."""


@dataclass(frozen=True)
class Header:
    version: int
    nonce: bytes
    ephemeral_key: bytes | None = None  # v2: the sender's compressed ephemeral public key

    @property
    def size(self) -> int:
        return ECIES_HEADER_SIZE if self.version == ECIES_VERSION else SYMMETRIC_HEADER_SIZE

    def to_bytes(self) -> bytes:
        return bytes([self.version]) + (self.ephemeral_key or b"") + self.nonce

    @classmethod
    def parse(cls, data: bytes) -> Header:
        """The header at the start of `data`; EncryptionError if there is none (unencrypted, truncated, bad key)."""
        if not data:
            raise EncryptionError("no data: an empty file carries no encryption header")
        version = data[0]
        if version == SYMMETRIC_VERSION:
            _need(data, SYMMETRIC_HEADER_SIZE, "v1")
            return cls(version, bytes(data[1:SYMMETRIC_HEADER_SIZE]))
        if version == ECIES_VERSION:
            _need(data, ECIES_HEADER_SIZE, "v2")
            ephemeral = bytes(data[1 : 1 + EPHEMERAL_KEY_SIZE])
            try:
                PublicKey(ephemeral)
            except ValueError as exc:
                # What the official SDK checks too: a plain file that happens to start with 0x02 is not a v2 file.
                raise EncryptionError(
                    "not a v2 encrypted file (or its header is damaged): the ephemeral key is not a secp256k1 point"
                ) from exc
            return cls(version, bytes(data[ECIES_HEADER_SIZE - NONCE_SIZE : ECIES_HEADER_SIZE]), ephemeral)
        raise EncryptionError(f"not an encrypted file: first byte 0x{version:02x} is neither v1 (0x01) nor v2 (0x02)")

    def describe(self) -> dict[str, str | int]:
        if self.version == ECIES_VERSION:
            assert self.ephemeral_key is not None
            scheme = {"scheme": "ecies-secp256k1-aes256ctr", "ephemeralKey": "0x" + self.ephemeral_key.hex()}
        else:
            scheme = {"scheme": "aes256ctr-symmetric"}
        return {"version": self.version, **scheme, "nonce": "0x" + self.nonce.hex(), "headerSize": self.size}


def _need(data: bytes, size: int, name: str) -> None:
    if len(data) < size:
        raise EncryptionError(f"truncated {name} encryption header: {len(data)} of {size} bytes")


def crypt(key: bytes, nonce: bytes, offset: int, data: bytes | memoryview) -> bytes:
    """AES-256-CTR of `data` lying at plaintext byte `offset` (encrypting and decrypting are the same)."""
    block, skip = divmod(offset, AES_BLOCK)
    counter = (int.from_bytes(nonce) + block) % (1 << 128)
    aes = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=counter.to_bytes(AES_BLOCK))
    if skip:
        aes.encrypt(bytes(skip))  # drop the keystream before `offset` within its block
    return aes.encrypt(data)


def parse_public_key(value: bytes) -> bytes:
    """A secp256k1 public key (33 compressed, 65 uncompressed or 64 raw x‖y bytes) in compressed form."""
    raw = b"\x04" + value if len(value) == 64 else value
    try:
        return PublicKey(raw).format(compressed=True)
    except ValueError as exc:
        raise EncryptionError(f"not a secp256k1 public key ({len(value)} bytes): {exc}") from exc


def ecies_key(private_key: bytes, public_key: bytes) -> bytes:
    """The v2 AES key: HKDF-SHA256(x of ECDH, empty salt, ECIES_HKDF_INFO)."""
    try:
        shared = PublicKey(public_key).multiply(private_key).format(compressed=True)[1:]
    except ValueError as exc:
        raise EncryptionError(f"ECDH failed: {exc}") from exc
    # pycryptodome's default salt (a hash length of zeros) is the same HMAC key as RFC 5869's empty salt.
    return HKDF(shared, KEY_SIZE, b"", SHA256, context=ECIES_HKDF_INFO)  # type: ignore[return-value]


def check_key(key: bytes) -> bytes:
    if len(key) != KEY_SIZE:
        raise EncryptionError(f"a symmetric key is {KEY_SIZE} bytes, got {len(key)}")
    return key


class Encryptor:
    """Produces any range of the stored stream (header ‖ ciphertext) of a plaintext on demand. A v2 one also
    keeps its recipient and ephemeral secret, so that `again` can make it anew to resume an upload."""

    def __init__(
        self, header: Header, key: bytes, recipient: bytes | None = None, ephemeral_secret: bytes | None = None
    ) -> None:
        self.header = header
        self.key = check_key(key)
        self.recipient = recipient
        self.ephemeral_secret = ephemeral_secret
        self._header_bytes = header.to_bytes()

    @classmethod
    def symmetric(cls, key: bytes, nonce: bytes | None = None) -> Encryptor:
        """v1 with `key` and a fresh nonce (or `nonce`, an earlier attempt's)."""
        return cls(Header(SYMMETRIC_VERSION, nonce or os.urandom(NONCE_SIZE)), key)

    @classmethod
    def ecies(cls, recipient: bytes, nonce: bytes | None = None, ephemeral_secret: bytes | None = None) -> Encryptor:
        """v2 to `recipient`'s secp256k1 public key, with a fresh ephemeral key and nonce (or an earlier attempt's)."""
        recipient = parse_public_key(recipient)
        secret = PrivateKey(ephemeral_secret)  # None draws a fresh one
        key = ecies_key(secret.secret, recipient)
        header = Header(ECIES_VERSION, nonce or os.urandom(NONCE_SIZE), secret.public_key.format(compressed=True))
        return cls(header, key, recipient, secret.secret)

    @property
    def target(self) -> bytes:
        """Whom the file is for: the recipient's public key (v2), or those who hold the symmetric key (v1)."""
        return self.recipient or self.key

    def again(self, nonce: bytes, ephemeral_secret: bytes | None) -> Encryptor:
        """The same encryption (key, or recipient) with an earlier attempt's randomness: the same header and stream."""
        if self.header.version == SYMMETRIC_VERSION:
            return Encryptor.symmetric(self.key, nonce)
        assert self.recipient is not None, "a v2 Encryptor made by ecies() knows its recipient"
        return Encryptor.ecies(self.recipient, nonce, ephemeral_secret)

    def stream_size(self, plain_size: int) -> int:
        return self.header.size + plain_size

    def read(self, plain: memoryview, start: int, end: int) -> bytes:
        """Bytes [start, end) of the stream of `plain` (offsets in the stream, header included)."""
        size = self.header.size
        head = self._header_bytes[start:end] if start < size else b""
        first, last = max(start, size) - size, min(end - size, len(plain))
        if last <= first:
            return head
        return head + crypt(self.key, self.header.nonce, first, plain[first:last])

    def view(self, plain: memoryview) -> EncryptedView:
        return EncryptedView(self, plain)


class EncryptedView:
    """The stream of `plain` as a sliceable, read-only sequence: each slice is encrypted when it is taken."""

    def __init__(self, encryptor: Encryptor, plain: memoryview) -> None:
        self.encryptor = encryptor
        self.plain = plain

    def __len__(self) -> int:
        return self.encryptor.stream_size(len(self.plain))

    def __getitem__(self, key: slice) -> bytes:
        start, stop, step = key.indices(len(self))
        assert step == 1, "contiguous slices only"
        return self.read(start, stop)

    def read(self, start: int, end: int) -> bytes:
        return self.encryptor.read(self.plain, start, end)


class Decryptor:
    """Turns any range of a stored encrypted stream back into plaintext."""

    def __init__(self, header: Header, key: bytes) -> None:
        self.header = header
        self.key = check_key(key)

    @classmethod
    def for_header(
        cls, header: Header, *, symmetric_key: bytes | None = None, private_key: bytes | None = None
    ) -> Decryptor:
        """The decryptor of a file with `header`, from the key material its version needs."""
        if header.version == SYMMETRIC_VERSION:
            if symmetric_key is None:
                raise EncryptionError("the file is v1 (symmetric AES-256) encrypted: it needs the 32-byte key")
            return cls(header, symmetric_key)
        if private_key is None:
            raise EncryptionError("the file is v2 (ECIES) encrypted: it needs the recipient's private key")
        assert header.ephemeral_key is not None
        return cls(header, ecies_key(private_key, header.ephemeral_key))

    def plain_size(self, stream_size: int) -> int:
        return stream_size - self.header.size

    def decrypt(self, data: bytes | memoryview, start: int) -> tuple[bytes, int]:
        """(plaintext, its plaintext offset) of the stream bytes `data` found at stream offset `start`."""
        size = self.header.size
        view = memoryview(data)[max(size - start, 0) :]
        offset = max(start - size, 0)
        return crypt(self.key, self.header.nonce, offset, view), offset
