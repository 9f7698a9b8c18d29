"""KV replay on the store directly (no chain): versions, access control, special keys, bad blobs, reorgs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.jsonrpc import INVALID_PARAMS
from services.storage_kv.methods import KvRpc
from services.storage_kv.store import KvStore, KvTx, too_large
from services.storage_kv.sync import Replayer
from zerog.storage.kv import LATEST, Control, Op, StreamData

S = bytes([1]) * 32
OTHER = bytes([2]) * 32
ALICE, BOB, CAROL = bytes([0xA]) * 20, bytes([0xB]) * 20, bytes([0xC]) * 20


class Chain:
    """Feeds transactions to a store as the follower and the replayer would."""

    def __init__(self, store: KvStore) -> None:
        self.store, self.seq = store, 0

    def add(self, sender: bytes, size: int, streams: tuple[bytes, ...] = (S,)) -> KvTx:
        tx = KvTx(self.seq, self.seq + 1, self.seq.to_bytes(32, "big"), size, sender, streams)
        self.seq += 1
        with self.store.transaction() as conn:
            self.store.add_tx(conn, tx)
        return tx

    def send(self, sender: bytes, data: StreamData | bytes, streams: tuple[bytes, ...] = (S,)) -> str | None:
        blob = data if isinstance(data, bytes) else data.encode()
        tx = self.add(sender, len(blob), streams)
        assert self.store.next_pending() == tx
        return self.store.apply(tx, blob or None, None)


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return Chain(KvStore.open(tmp_path / "kv.db"))


def put(key: bytes, value: bytes, version: int = LATEST, stream: bytes = S) -> StreamData:
    return StreamData(version, writes=[(stream, key, value)])


def test_writes__versions_and_reads_as_of(chain: Chain) -> None:
    assert chain.send(ALICE, put(b"k", b"one")) == "Commit"
    assert chain.send(ALICE, put(b"k", b"two")) == "Commit"
    store = chain.store
    assert store.value(S, b"k", None) == (1, b"two")
    assert store.value(S, b"k", 0) == (0, b"one")
    assert chain.send(ALICE, put(b"k", b"")) == "Commit"  # an empty value deletes
    assert chain.send(ALICE, put(b"a", b"A")) == "Commit"
    assert chain.send(ALICE, put(b"z", b"Z")) == "Commit"
    assert store.neighbour(S, None, True, True, None) == (b"a", 3, b"A")
    assert store.neighbour(S, b"a", True, False, None) == (b"z", 4, b"Z")  # past the deleted "k"
    assert store.neighbour(S, None, False, True, None) == (b"z", 4, b"Z")
    assert store.neighbour(S, b"z", False, False, None) == (b"a", 3, b"A")


def test_version_confliction__read_or_write_of_a_newer_key(chain: Chain) -> None:
    chain.send(ALICE, put(b"k", b"v0"))  # seq 0
    chain.send(ALICE, put(b"k", b"v1"))  # seq 1
    assert chain.send(ALICE, put(b"k", b"stale", version=0)) == "VersionConfliction"
    read_stale = StreamData(0, reads=[(S, b"k")], writes=[(S, b"other", b"x")])
    assert chain.send(ALICE, read_stale) == "VersionConfliction"
    assert chain.send(ALICE, put(b"k", b"fresh", version=1)) == "Commit"
    assert chain.store.value(S, b"k", None) == (4, b"fresh")
    assert chain.store.tx_result(2) == "VersionConfliction"


def test_access_control__admin_writers_special_keys(chain: Chain) -> None:
    store = chain.store
    assert chain.send(ALICE, put(b"k", b"a")) == "Commit"  # first tx of a new stream: ALICE is its admin
    assert store.check("is_admin", ALICE, S, None)
    assert chain.send(BOB, put(b"k", b"b")).startswith("WritePermissionDenied")
    grant = StreamData(controls=[Control(Op.GRANT_WRITER_ROLE, S, account=BOB)])
    assert chain.send(CAROL, grant).startswith("AccessControlPermissionDenied")
    assert chain.send(ALICE, grant) == "Commit"
    assert store.check("is_writer_of_stream", BOB, S, None)
    assert chain.send(BOB, put(b"k", b"b")) == "Commit"
    # A special key takes only its own writers, even from writers of the stream.
    special = StreamData(
        controls=[
            Control(Op.SET_KEY_TO_SPECIAL, S, key=b"vip"),
            Control(Op.GRANT_SPECIAL_WRITER_ROLE, S, key=b"vip", account=CAROL),
        ]
    )
    assert chain.send(ALICE, special) == "Commit"
    assert store.check("is_special_key", S, b"vip", None)
    assert chain.send(BOB, put(b"vip", b"b")).startswith("WritePermissionDenied")
    assert chain.send(CAROL, put(b"vip", b"c")) == "Commit"
    assert not store.check("has_write_permission", CAROL, S, b"k", None)
    # Revoke and renounce.
    assert chain.send(ALICE, StreamData(controls=[Control(Op.REVOKE_WRITER_ROLE, S, account=BOB)])) == "Commit"
    assert chain.send(BOB, put(b"k", b"again")).startswith("WritePermissionDenied")
    assert chain.send(CAROL, StreamData(controls=[Control(Op.RENOUNCE_SPECIAL_WRITER_ROLE, S, key=b"vip")])) == "Commit"
    assert not store.check("is_writer_of_key", CAROL, S, b"vip", None)
    assert chain.send(ALICE, StreamData(controls=[Control(Op.RENOUNCE_ADMIN_ROLE, S)])) == "Commit"
    assert not store.check("is_admin", ALICE, S, None)
    assert chain.send(ALICE, put(b"k", b"x")).startswith("WritePermissionDenied")
    assert store.check("is_admin", ALICE, S, 0)  # as of an old version


def test_bad_blobs__recorded_and_later_txs_go_on(chain: Chain) -> None:
    oversized_key = (0).to_bytes(8, "big") + (0).to_bytes(4, "big") + (1).to_bytes(4, "big") + S + b"\xff\xff\xff"
    assert chain.send(ALICE, oversized_key).startswith("DataParseError")
    assert chain.send(ALICE, b"\x01\x02").startswith("DataParseError")
    assert chain.send(ALICE, put(b"k", b"v", stream=OTHER)) == "TagsMismatch"  # writes a stream it did not tag
    assert chain.send(ALICE, b"") == "DownloadFailed"  # its data never came
    assert chain.send(ALICE, put(b"k", b"v")) == "Commit"
    assert chain.store.progress() == {"lastReplayedTxSeq": 4, "headTxSeq": None, "lag": 0}


@pytest.fixture
def indexer() -> Iterator[tuple[str, list[str]]]:
    """An indexer that has no nodes (503 to everything) and records each request it gets."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests.append(self.path)
            self.send_error(503)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()


def test_oversized_blob__recorded_without_a_fetch_and_later_txs_go_on(
    chain: Chain, indexer: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, requests = indexer
    replayer = Replayer(chain.store, None, url, tmp_path, fetch_timeout=0.3, poll_interval=0.1, max_blob_bytes=1024)
    huge = chain.add(ALICE, 1025)
    assert replayer.replay_next()
    assert chain.store.tx_result(huge.seq) == too_large(1025, 1024)
    assert too_large(1025, 1024).startswith("DataParseError: ")
    assert requests == []  # nothing was looked for
    fits = chain.add(ALICE, 1024)
    assert replayer.replay_next()
    assert chain.store.tx_result(fits.seq) == "DownloadFailed" and requests  # this one was looked for
    assert chain.send(ALICE, put(b"k", b"v")) == "Commit"


def test_reorg__forgets_txs_and_their_writes(chain: Chain) -> None:
    chain.send(ALICE, put(b"k", b"kept"))
    chain.send(ALICE, put(b"k", b"dropped"))
    with chain.store.transaction() as conn:
        chain.store.rollback(conn, 2)  # the block of seq 1
    assert chain.store.value(S, b"k", None) == (0, b"kept")
    assert chain.store.tx_result(1) is None


def test_rpc_shapes(chain: Chain) -> None:
    chain.send(ALICE, put(b"key", b"value"))
    d = KvRpc(chain.store, None).dispatcher()

    def call(method: str, *params: object) -> dict:
        return d.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})

    stream, key = "0x" + S.hex(), "a2V5"
    assert call("kv_getValue", stream, key, 0, 100)["result"] == {"version": 0, "data": "dmFsdWU=", "size": 5}
    assert call("kv_getValue", stream, key, 2, 2)["result"]["data"] == "bHU="
    assert call("kv_getValue", stream, "bm9uZQ==", 0, 100)["result"] == {"version": 0, "data": "", "size": 0}
    assert call("kv_getFirst", stream, 0, 100)["result"]["key"] == key
    assert call("kv_getNext", stream, key, 0, 100, False)["result"] is None
    assert call("kv_getTransactionResult", "0")["result"] == "Commit"  # the TS client sends a string
    assert call("kv_getHoldingStreamIds")["result"] == [stream]
    assert call("kv_IsAdmin", "0x" + ALICE.hex(), stream)["result"] is True
    for bad in (
        ("kv_getValue", stream, "", 0, 100),  # empty key
        ("kv_getValue", stream, key, 0, 10**9),  # too long a query
        ("kv_getValue", "0x12", key, 0, 1),
        ("kv_getValue", stream, key, 9, 1),  # past the value
        ("kv_isAdmin", "alice", stream),
        ("kv_getNext", stream, key, 0, 1, "yes"),
    ):
        assert call(*bad)["error"]["code"] == INVALID_PARAMS, bad


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rpc__random_params_are_invalid_params_never_internal_errors(chain: Chain, data: st.DataObject) -> None:
    if chain.seq == 0:
        chain.send(ALICE, put(b"key", b"value"))
    d = KvRpc(chain.store, None).dispatcher()
    method = data.draw(st.sampled_from(sorted(d.methods)))
    atoms = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=80), st.just("0x" + S.hex()),
        st.just("a2V5"), st.just("0x" + ALICE.hex()), st.lists(st.integers(), max_size=3),
    )  # fmt: skip
    params = data.draw(st.one_of(st.lists(atoms, max_size=8), st.dictionaries(st.text(max_size=12), atoms)))
    answer = d.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    assert "result" in answer or answer["error"]["code"] == INVALID_PARAMS, (method, params, answer)
