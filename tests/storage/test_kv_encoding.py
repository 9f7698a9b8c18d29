"""The KV blob and tags: byte-identical to the official SDK's StreamDataBuilder (run through node), and decoded
back as the official node parses them."""

from __future__ import annotations

import pytest

from tests.storage.sdk import official_sdk
from zerog.storage.kv import (
    LATEST,
    MAX_KEY_SIZE,
    STREAM_DOMAIN,
    Control,
    KvError,
    Op,
    StreamData,
    decode,
    stream_tags,
    tagged_streams,
)

S1, S2 = bytes(range(32)), bytes([0xEE]) * 32


@pytest.mark.parametrize(
    ("version", "stream", "pairs"),
    [
        (0, S1, [(b"k", b"v")]),
        (2**53 - 1, S2, [(b"key", b"value"), (b"empty", b""), (bytes(range(200)), bytes(5000))]),
    ],
)
def test_blob_and_tags__equal_the_official_builder(version: int, stream: bytes, pairs: list[tuple[bytes, bytes]]):
    theirs = official_sdk("kv-encode", str(version), "0x" + stream.hex(), *[f"{k.hex()}={v.hex()}" for k, v in pairs])
    ours = StreamData(version, writes=[(stream, k, v) for k, v in pairs])
    assert theirs["blob"] == "0x" + ours.encode().hex()
    assert theirs["tags"] == "0x" + stream_tags(ours.stream_ids()).hex()


def test_decode__round_trip_with_controls() -> None:
    account = bytes([0xAB]) * 20
    data = StreamData(
        LATEST,
        reads=[(S1, b"r")],
        writes=[(S1, b"a", b"1"), (S2, b"b", b"")],
        controls=[
            Control(Op.GRANT_WRITER_ROLE, S1, account=account),
            Control(Op.GRANT_SPECIAL_WRITER_ROLE, S1, b"a", account),
            Control(Op.RENOUNCE_ADMIN_ROLE, S2),
            Control(Op.SET_KEY_TO_SPECIAL, S2, b"b"),
        ],
    )
    blob = data.encode()
    assert decode(blob + bytes(100)) == data  # the flow's zero padding after the blob is ignored
    assert data.stream_ids() == [S1, S2]
    assert tagged_streams(stream_tags([S1, S2])) == [S1, S2]
    assert tagged_streams(STREAM_DOMAIN) is None and tagged_streams(b"\x01" * 64) is None


def test_bad_keys_and_blobs() -> None:
    with pytest.raises(KvError, match="errKeyTooLarge"):
        StreamData(writes=[(S1, bytes(MAX_KEY_SIZE + 1), b"")]).encode()
    with pytest.raises(KvError, match="errKeyIsEmpty"):
        StreamData(writes=[(S1, b"", b"v")]).encode()
    with pytest.raises(KvError):
        decode(StreamData(writes=[(S1, b"k", b"value")]).encode()[:-3])  # a value cut short
    with pytest.raises(KvError, match="unknown access-control operation"):
        decode(bytes(8) + bytes(4) + bytes(4) + (1).to_bytes(4, "big") + b"\x99" + S1)
