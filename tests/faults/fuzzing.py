"""Property-based fuzzing of every daemon's API with malformed input, against live daemons.

* HTTP daemons (faucet, compute provider, DA signer, alt-DA server; the storage node's and indexer's HTTP side
  too): schemathesis cases (positive and negative) from each daemon's own /openapi.json, plus hypothesis bodies
  where the schema does not describe them (the compute provider's completions take any JSON, the DA signer's
  columns and the alt-DA server's puts take raw bytes).
* JSON-RPC daemons (storage node, indexer): every method their dispatchers register plus unknown names, params
  drawn from random JSON (wrong types, huge and negative numbers, long strings, nesting, missing and extra
  params, positional and named), single requests, batches and bodies that are not JSON at all.

A finding is any 5xx answer, an error body not in the daemon's dialect, a JSON-RPC answer that is not JSON-RPC
2.0 (or an internal error, -32603: a method crashed), or a daemon that no longer answers its health check.

Used by tests/faults/test_fuzz.py with small budgets, and by benches with bigger ones::

    from tests.faults.fuzzing import run_fuzz
    report = run_fuzz(json.loads(network_file.read_text()) | {"altda": altda_url}, budget_seconds=600)
    for daemon, tally in report.items():
        print(daemon, tally.tried, tally.server_errors, tally.findings[:3])

`run_fuzz(urls, budget_seconds)` takes network.json's keys (``faucet``, ``compute-provider``, ``da-signer-0``,
``storage-0``, ``indexer``; ``altda`` for the alt-DA server; missing ones are skipped) and returns a `Tally` per
daemon (inputs tried, 5xx seen, findings; a Tally unpacks as ``tried, server_errors``). With the alt-DA server it
first puts one small batch (paid from the dev account) so that the DA signer's columns endpoint is fuzzed past
its "paid for?" check too. Each daemon gets an equal share of the budget; `max_examples` bounds
the examples per operation (schemathesis) or per property (JSON-RPC).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

#: JSON-RPC 2.0 error codes a daemon may answer: the predefined ones (-32603, internal error, is a finding)
#: and the implementation-defined server errors.
JSONRPC_CODES = {-32700, -32600, -32601, -32602, -32603}
JSONRPC_SERVER_ERRORS = range(-32099, -32000 + 1)
INTERNAL_ERROR = -32603
REQUEST_TIMEOUT = 30.0
#: Findings kept per daemon (the counts go on).
MAX_FINDINGS = 20


@dataclass
class Tally:
    """What fuzzing one daemon found: inputs tried, 5xx answers, a description of each finding, and how many
    answers had each HTTP status (to see how deep the inputs went)."""

    tried: int = 0
    server_errors: int = 0
    findings: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def find(self, what: str) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(what)

    def __iter__(self) -> Any:  # (tried, server_errors), as the benches unpack it
        return iter((self.tried, self.server_errors))


class Budget:
    """A deadline shared by the properties of one daemon: examples past it return at once."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    @property
    def spent(self) -> bool:
        return time.monotonic() >= self.deadline


def _settings(max_examples: int) -> settings:
    # Generation only (a finding is recorded, not shrunk), reproducible, no example database on disk.
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


# ---------------------------------------------------------------- error dialects


def json_dialect(body: Any) -> bool:
    """``{"error": {"code", "message"}}`` (faucet, DA signer, alt-DA server)."""
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


def openai_dialect(body: Any) -> bool:
    """``{"error": {"message", "type", "param", "code"}}`` (compute provider)."""
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("type"), str)
        and {"param", "code"} <= set(error)
    )


def jsonrpc_dialect(body: Any) -> bool:
    """A JSON-RPC 2.0 error object (storage node, indexer)."""
    return (
        isinstance(body, dict)
        and body.get("jsonrpc") == "2.0"
        and "id" in body
        and isinstance(body.get("error"), dict)
        and body["error"].get("code") in JSONRPC_CODES
    )


Dialect = Callable[[Any], bool]


def check_http(tally: Tally, dialect: Dialect, what: str, status: int, content: bytes) -> None:
    """Count one answer: a 5xx, or an error (4xx) whose body is not in `dialect`, is a finding."""
    tally.tried += 1
    tally.statuses[status] += 1
    if status >= 500:
        tally.server_errors += 1
        tally.find(f"{what} -> {status} {content[:300]!r}")
    elif status >= 400:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not dialect(body):
            tally.find(f"{what} -> {status} not in the daemon's error dialect: {content[:300]!r}")


def _send(client: httpx.Client, tally: Tally, what: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
    try:
        return send()
    except httpx.HTTPError as exc:  # the daemon dropped the connection or hung: as bad as a 5xx
        tally.tried += 1
        tally.server_errors += 1
        tally.find(f"{what} -> no answer ({type(exc).__name__}: {exc})")
        return None


# ---------------------------------------------------------------- HTTP daemons: schemathesis and raw bodies


def fuzz_openapi(
    url: str,
    dialect: Dialect,
    tally: Tally,
    budget: Budget,
    *,
    max_examples: int,
    skip: Callable[[str, str], bool] = lambda method, path: False,
) -> None:
    """Every operation of the daemon's /openapi.json, with schemathesis' positive and negative cases."""
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=REQUEST_TIMEOUT)
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip(operation.method.upper(), operation.path):
            continue
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        )

        @_settings(max_examples)
        @given(case=strategy)
        def run(case: Any) -> None:
            if budget.spent:
                return
            what = f"{case.method} {case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}"
            try:
                response = case.call(base_url=url, timeout=REQUEST_TIMEOUT)
            except Exception as exc:  # requests' own errors: connection dropped, timeout
                tally.tried += 1
                tally.server_errors += 1
                tally.find(f"{what} -> no answer ({type(exc).__name__}: {exc})")
                return
            check_http(tally, dialect, what, response.status_code, response.content)

        if budget.spent:
            return
        run()


def fuzz_bodies(
    url: str,
    dialect: Dialect,
    tally: Tally,
    budget: Budget,
    requests: st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]],
    *,
    max_examples: int,
) -> None:
    """Requests (method, path, headers, body) drawn from `requests`: bodies the schema does not describe."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:

        @_settings(max_examples)
        @given(request=requests)
        def run(request: tuple[str, str, Mapping[str, str], bytes]) -> None:
            if budget.spent:
                return
            method, path, headers, body = request
            what = f"{method} {path} {dict(headers)!r} body={body[:200]!r}"
            response = _send(
                client, tally, what, lambda: client.request(method, path, headers=dict(headers), content=body)
            )
            if response is not None:
                check_http(tally, dialect, what, response.status_code, response.content)

        run()


# ---------------------------------------------------------------- random JSON

HUGE_INTS = st.sampled_from([-1, -(2**63), 2**63, 2**64 - 1, 2**64, 2**256, -(2**256), 10**4000])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "0x", "0x" + "00" * 32, "0x" + "ff" * 32, "0x" + "ab" * 33, "AAAA", "=", "x" * 100_000]),
    st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=24,
)


def _segment_like(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Something shaped like an uploaded segment, with random field values."""
    keys = ["root", "data", "index", "proof", "fileSize", "lemma", "path"]
    return st.dictionaries(st.sampled_from(keys), values, max_size=7)


def _params(names: list[str], known: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Params for a method taking `names`: positional or named, too few, too many, or not params at all; values
    are random JSON or `known` ones (a real file root, so that lookups find something)."""
    field = st.one_of(JSON, known)
    value = st.one_of(field, _segment_like(field), st.lists(_segment_like(field), max_size=3))
    named_keys = st.sampled_from(names) if names else st.text(max_size=8)
    return st.one_of(
        st.lists(value, max_size=len(names) + 2),
        st.dictionaries(st.one_of(named_keys, st.text(max_size=8)), value, max_size=len(names) + 1),
        SCALARS,
    )


MISSING = object()
IDS = st.one_of(
    st.integers(), HUGE_INTS, st.text(max_size=20), st.none(), st.floats(allow_nan=False, allow_infinity=False)
)
BAD_IDS = st.one_of(st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.none()))


def rpc_requests(methods: Mapping[str, list[str]], known: Iterable[Any] = ()) -> st.SearchStrategy[Any]:
    """A JSON-RPC request object: a registered method with random params, an unknown method, or a malformed one.
    Params are sometimes among the `known` values."""
    names = sorted(methods)
    known_values = st.sampled_from([*known, 0, 1]) if known else st.sampled_from([0, 1])

    @st.composite
    def request(draw: st.DrawFn) -> Any:
        name = draw(st.one_of(st.sampled_from(names), st.text(max_size=30), JSON))
        req: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2, None]))}
        if isinstance(name, str) or draw(st.booleans()):
            req["method"] = name
        ident = draw(st.one_of(IDS, BAD_IDS, st.just(MISSING)))
        if ident is not MISSING:
            req["id"] = ident
        param_names = methods.get(name, []) if isinstance(name, str) else []
        params = draw(st.one_of(_params(param_names, known_values), st.just(MISSING)))
        if params is not MISSING:
            req["params"] = params
        if draw(st.integers(0, 9)) == 0:
            req[draw(st.text(max_size=8))] = draw(JSON)
        return draw(st.one_of(st.just(req), st.just(req), st.just(req), JSON))

    return request()


NOT_JSON = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[",
            b"null",
            b"[]",
            b'"zgs_getStatus"',
            b'{"jsonrpc": "2.0", "id": NaN, "method": "x"}',
            b'{"jsonrpc": "2.0", "id": 1e999, "method": "x"}',
            b'{"jsonrpc": "2.0", "id": Infinity, "method": "x"}',
            b'{"jsonrpc": "2.0", "id": 1, "method": "x", "params": [NaN, -Infinity]}',
            b"\xff\xfe\x00",
            b"[" * 100_000,
            b"[" * 990 + b"]" * 990,
            b'{"a":' * 5000,
            b'{"jsonrpc": "2.0", "id": 1, "method": "zgs_getStatus"}' + b" garbage",
            b"1" * 5000,
        ]
    ),
)


def check_rpc_answer(tally: Tally, request: Any, answer: Any, what: str) -> None:
    """One JSON-RPC answer object: 2.0, result xor error, codes in range, the request's id echoed."""
    if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0" or "id" not in answer:
        tally.find(f"{what} -> not a JSON-RPC 2.0 answer: {str(answer)[:300]}")
        return
    if ("result" in answer) == ("error" in answer):
        tally.find(f"{what} -> needs exactly one of result and error: {str(answer)[:300]}")
        return
    error = answer.get("error")
    if error is not None:
        code = error.get("code") if isinstance(error, dict) else None
        if not isinstance(code, int) or (code not in JSONRPC_CODES and code not in JSONRPC_SERVER_ERRORS):
            tally.find(f"{what} -> error code out of the JSON-RPC ranges: {str(answer)[:300]}")
        elif code == INTERNAL_ERROR:
            tally.server_errors += 1
            tally.find(f"{what} -> internal error (a method crashed): {str(answer)[:300]}")
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            tally.find(f"{what} -> error without a message: {str(answer)[:300]}")
    if isinstance(request, dict) and "id" in request and answer["id"] != request["id"]:
        valid_id = request["id"] is None or (
            not isinstance(request["id"], bool) and isinstance(request["id"], int | str | float)
        )
        if valid_id or answer["id"] is not None:
            tally.find(f"{what} -> id {answer['id']!r} is not the request's {request['id']!r}")


def _is_notification(request: Any) -> bool:
    """A request the server may leave unanswered: a well-formed object without an id."""
    return (
        isinstance(request, dict)
        and "id" not in request
        and request.get("jsonrpc") == "2.0"
        and isinstance(request.get("method"), str)
    )


def post_rpc(client: httpx.Client, tally: Tally, payload: Any, raw: bytes | None = None) -> None:
    """POST one request, batch or raw body and check the answer."""
    body = raw if raw is not None else json.dumps(payload).encode()
    what = f"POST / {body[:200]!r}"
    response = _send(
        client, tally, what, lambda: client.post("/", content=body, headers={"content-type": "application/json"})
    )
    if response is None:
        return
    tally.tried += 1
    tally.statuses[response.status_code] += 1
    if response.status_code >= 500:
        tally.server_errors += 1
        tally.find(f"{what} -> {response.status_code} {response.content[:300]!r}")
        return
    if response.status_code == 204:
        answerless = isinstance(payload, list) and payload and all(map(_is_notification, payload))
        if raw is None and not (_is_notification(payload) or answerless):
            tally.find(f"{what} -> 204 for a request that needs an answer")
        return
    try:
        answer = response.json()
    except ValueError:
        tally.find(f"{what} -> {response.status_code} not JSON: {response.content[:300]!r}")
        return
    if raw is None and isinstance(payload, list) and payload:
        if not isinstance(answer, list):
            # A whole batch may be refused with one error (too long); anything else is answered item by item.
            check_rpc_answer(tally, None, answer, what)
            return
        expected = [r for r in payload if not _is_notification(r)]
        if len(answer) != len(expected):
            tally.find(f"{what} -> {len(answer)} answers for {len(expected)} requests")
        for request, item in zip(expected, answer, strict=False):
            check_rpc_answer(tally, request, item, what)
    else:
        check_rpc_answer(tally, payload if raw is None else None, answer, what)


def fuzz_jsonrpc(
    url: str,
    methods: Mapping[str, list[str]],
    tally: Tally,
    budget: Budget,
    *,
    max_examples: int,
    known: Iterable[Any] = (),
) -> None:
    """Single requests, batches and non-JSON bodies against the JSON-RPC endpoint at POST /; `known` values (a
    real file's root) are mixed into the params."""
    requests = rpc_requests(methods, known)
    share = max(1, max_examples // 3)
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as client:

        @_settings(max_examples)
        @given(request=requests)
        def single(request: Any) -> None:
            if not budget.spent:
                post_rpc(client, tally, request)

        @_settings(share)
        @given(batch=st.lists(requests, max_size=6))
        def batch(batch: list[Any]) -> None:
            if not budget.spent:
                post_rpc(client, tally, batch)

        @_settings(share)
        @given(raw=NOT_JSON)
        def raw(raw: bytes) -> None:
            if not budget.spent:
                post_rpc(client, tally, None, raw)

        raw()
        single()
        batch()
        post_rpc(client, tally, [{"jsonrpc": "2.0", "id": i, "method": "zgs_getStatus"} for i in range(1025)])


# ---------------------------------------------------------------- the daemons


def storage_methods() -> dict[str, list[str]]:
    """The storage node's JSON-RPC methods and their param names, from its dispatcher."""
    from services.storage_miner.flow import ShardConfig
    from services.storage_miner.methods import NodeRpc

    rpc = NodeRpc(mock.Mock, mock.Mock, ShardConfig(0, 1), 0, "0x" + "00" * 20)
    return {name: [p.name for p in m.params] for name, m in rpc.dispatcher().methods.items()}


def indexer_methods() -> dict[str, list[str]]:
    """The indexer's JSON-RPC methods and their param names, from its dispatcher."""
    from services.storage_miner.indexer.main import indexer_dispatcher

    return {
        name: [p.name for p in m.params] for name, m in indexer_dispatcher(mock.Mock(), mock.Mock()).methods.items()
    }


def healthy(url: str) -> bool:
    """The daemon still answers /health with 200 (the network is up: no daemon has a reason to be degraded)."""
    try:
        return httpx.get(f"{url}/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def rpc_status_ok(url: str) -> bool:
    """A storage node still answers zgs_getStatus."""
    try:
        answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "zgs_getStatus"}, timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(answer.get("result"), dict)


def _voucher_headers(provider: str, body: bytes) -> st.SearchStrategy[dict[str, str]]:
    """Some or all of the X-0G-* voucher headers, malformed or half right (the real provider, the body's hash)."""
    from zerog.compute.protocol import VOUCHER_HEADERS, request_hash

    # Header values without the leading or trailing blanks that HTTP clients refuse to send.
    ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(str.strip)
    value = st.one_of(
        ascii_text,
        HUGE_INTS.map(str),
        st.integers().map(str),
        st.binary(max_size=70).map(lambda b: "0x" + b.hex()),
        st.sampled_from([provider, request_hash(body), "0x" + "00" * 32, "0x" + "00" * 20]),
    )
    return st.dictionaries(st.sampled_from(VOUCHER_HEADERS), value, max_size=len(VOUCHER_HEADERS))


def _completion_bodies(model: str, provider: str) -> st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]]:
    """Bodies for the completions endpoints, often with the served `model` so that validation goes deeper, and
    malformed voucher headers."""
    fields = st.fixed_dictionaries(
        {},
        optional={
            "model": st.one_of(st.just(model), st.just(model), JSON),
            "messages": st.one_of(
                JSON, st.lists(st.dictionaries(st.sampled_from(["role", "content", "name"]), JSON), max_size=3)
            ),
            "prompt": JSON,
            "max_tokens": st.one_of(st.integers(), HUGE_INTS, JSON),
            "stream": JSON,
            "temperature": st.one_of(st.floats(), JSON),  # NaN and Infinity too: Python's json reads them
        },
    )
    body = st.one_of(fields.map(lambda b: json.dumps(b).encode()), JSON.map(lambda b: json.dumps(b).encode()), NOT_JSON)
    path = st.sampled_from(["/v1/chat/completions", "/v1/completions"])
    kind = st.fixed_dictionaries({"content-type": st.sampled_from(["application/json", "text/plain", ""])})

    valid = {
        "/v1/chat/completions": {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
        "/v1/completions": {"model": model, "prompt": "hi", "max_tokens": 2},
    }

    @st.composite
    def request(draw: st.DrawFn) -> tuple[str, str, Mapping[str, str], bytes]:
        where = draw(path)
        # A valid body half the time, so that the voucher checks behind validation are reached.
        content = draw(st.one_of(st.just(json.dumps(valid[where]).encode()), body))
        return "POST", where, {**draw(kind), **draw(_voucher_headers(provider, content))}, content

    return request()


def _claim_bodies() -> st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]]:
    """Claims with malformed addresses (a well-formed one gets a drip, then the per-IP limit's 429s)."""
    address = st.one_of(
        JSON,
        st.binary(min_size=19, max_size=21).map(lambda b: "0x" + b.hex()),
        st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex().upper()),  # a bad checksum
    )
    fields = st.fixed_dictionaries({}, optional={"address": address, "extra": JSON})
    body = st.one_of(fields.map(lambda b: json.dumps(b).encode()), JSON.map(lambda b: json.dumps(b).encode()), NOT_JSON)
    headers = st.fixed_dictionaries({"content-type": st.sampled_from(["application/json", "text/plain", ""])})
    return st.tuples(st.just("POST"), st.just("/api/claim"), headers, body)


def _signer_bodies() -> st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]]:
    root = st.one_of(st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()), st.text(max_size=70))
    path = st.tuples(root, st.one_of(st.integers(0, 2**70), st.text(max_size=5))).map(
        lambda p: f"/v1/data/{quote(p[0], safe='')}/columns?epoch={quote(str(p[1]), safe='')}"
    )
    headers = st.just({"content-type": "application/octet-stream"})
    return st.tuples(st.just("POST"), path, headers, st.binary(max_size=4096))


def _signer_paid_bodies(root: str, bundle: bytes) -> st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]]:
    """Columns of a paid data root: its real bundle cut, flipped, extended or replaced, at odd epochs and quorums
    (a root nobody paid for is refused before its body is read)."""
    cut = st.integers(0, len(bundle)).map(lambda i: bundle[:i])
    flipped = st.tuples(st.integers(0, len(bundle) - 1), st.integers(1, 255)).map(
        lambda f: bundle[: f[0]] + bytes([bundle[f[0]] ^ f[1]]) + bundle[f[0] + 1 :]
    )
    extended = st.binary(min_size=1, max_size=64).map(lambda b: bundle + b)
    body = st.one_of(st.just(bundle), cut, flipped, extended, st.binary(max_size=512))
    number = st.one_of(st.integers(0, 3), st.integers(-3, -1), HUGE_INTS, st.text(max_size=4))
    path = st.tuples(number, st.one_of(st.just(0), number)).map(
        lambda q: f"/v1/data/{root}/columns?epoch={quote(str(q[0]), safe='')}&quorum={quote(str(q[1]), safe='')}"
    )
    return st.tuples(st.just("POST"), path, st.just({"content-type": "application/octet-stream"}), body)


def paid_root(altda_url: str) -> str:
    """Puts one small batch through the alt-DA server (paid, attested by the signers): its data root."""
    from zerog.da.altda import OCTET_STREAM, decode_commitment

    put = httpx.post(f"{altda_url}/put", content=b"fuzz" * 300, headers={"content-type": OCTET_STREAM}, timeout=120)
    put.raise_for_status()
    return "0x" + decode_commitment(put.content)[0].hex()


def _altda_bodies() -> st.SearchStrategy[tuple[str, str, Mapping[str, str], bytes]]:
    """Malformed puts and gets only: a well-formed put really stores a batch (and pays for it)."""
    hexes = st.binary(max_size=80).map(lambda b: "0x" + b.hex())
    kinds = st.sampled_from(["application/octet-stream", "application/json", "text/plain", ""])
    # A keccak commitment the body does not hash to, a commitment that is not keccak, or no hex at all.
    put_paths = st.one_of(hexes, st.text(min_size=1, max_size=40)).map(lambda c: f"/put/{quote(c, safe='')}")
    put_headers = st.fixed_dictionaries({"content-type": kinds})
    put = st.tuples(st.just("POST"), put_paths, put_headers, st.binary(max_size=2048))
    wrong_kind = st.tuples(
        st.just("POST"),
        st.sampled_from(["/put", "/put/"]),
        st.fixed_dictionaries({"content-type": st.sampled_from(["application/json", "text/plain", ""])}),
        st.binary(max_size=256),
    )
    octets = st.just({"content-type": "application/octet-stream"})
    empty = st.tuples(st.just("POST"), st.sampled_from(["/put", "/put/"]), octets, st.just(b""))
    gets = st.tuples(
        st.just("GET"),
        st.one_of(hexes, st.text(max_size=40), st.binary(max_size=33).map(lambda b: "0x01" + b.hex())).map(
            lambda c: f"/get/{quote(c, safe='')}"
        ),
        st.just({}),
        st.just(b""),
    )
    return st.one_of(put, wrong_kind, empty, gets)


def fuzz_daemon(
    name: str,
    url: str,
    budget_seconds: float,
    *,
    max_examples: int = 25,
    rpc_examples: int = 150,
    root: str | None = None,
    file_root: str | None = None,
) -> Tally:
    """Fuzz one daemon (`name` as in network.json, or "altda") for at most about `budget_seconds`. A DA signer
    given the data `root` of a batch it attested (`paid_root`) also gets that root's columns, mangled; the storage
    node and indexer given the `file_root` of an uploaded file get it among their params."""
    tally = Tally()
    budget = Budget(budget_seconds)
    if name.startswith("storage-") or name == "indexer":
        methods = storage_methods() if name.startswith("storage-") else indexer_methods()
        known = [file_root] if file_root else []
        fuzz_jsonrpc(url, methods, tally, budget, max_examples=rpc_examples, known=known)
        fuzz_openapi(url, jsonrpc_dialect, tally, budget, max_examples=max_examples)
        if not (rpc_status_ok(url) if name.startswith("storage-") else healthy(url)):
            tally.find("the daemon no longer answers after fuzzing")
        return tally
    if name == "faucet":
        fuzz_bodies(url, json_dialect, tally, budget, _claim_bodies(), max_examples=rpc_examples)
        fuzz_openapi(url, json_dialect, tally, budget, max_examples=max_examples)
    elif name == "compute-provider":
        served = httpx.get(f"{url}/v1/models", timeout=REQUEST_TIMEOUT).json()["data"][0]
        requests = _completion_bodies(served["id"], served["owned_by"])
        fuzz_bodies(url, openai_dialect, tally, budget, requests, max_examples=rpc_examples)
        fuzz_openapi(url, openai_dialect, tally, budget, max_examples=max_examples)
    elif name.startswith("da-signer-"):
        fuzz_bodies(url, json_dialect, tally, budget, _signer_bodies(), max_examples=max_examples)
        if root is not None:
            bundle = httpx.get(f"{url}/v1/data/{root}/columns", timeout=REQUEST_TIMEOUT)
            bundle.raise_for_status()
            paid = _signer_paid_bodies(root, bundle.content)
            fuzz_bodies(url, json_dialect, tally, budget, paid, max_examples=rpc_examples)
        fuzz_openapi(url, json_dialect, tally, budget, max_examples=max_examples)
    elif name == "altda":
        fuzz_bodies(url, json_dialect, tally, budget, _altda_bodies(), max_examples=rpc_examples)
        # Schemathesis' POST /put carries no octet stream (the schema names none): refused with 415, nothing stored.
        fuzz_openapi(url, json_dialect, tally, budget, max_examples=max_examples)
    else:
        raise ValueError(f"no fuzzer for {name}")
    if not healthy(url):
        tally.find("the daemon no longer answers /health after fuzzing")
    return tally


#: The daemons fuzzed, by their network.json key: one storage node and one DA signer stand for the others.
DAEMONS = ("faucet", "compute-provider", "da-signer-0", "altda", "storage-0", "indexer")


def run_fuzz(
    urls: Mapping[str, str],
    budget_seconds: float,
    *,
    daemons: Iterable[str] = DAEMONS,
    max_examples: int = 25,
    rpc_examples: int = 150,
    file_root: str | None = None,
) -> dict[str, Tally]:
    """Fuzz each daemon of `daemons` found in `urls` with an equal share of `budget_seconds` (`file_root`: the
    root of a file uploaded to the storage nodes, if any)."""
    present = [d for d in daemons if urls.get(d)]
    share = budget_seconds / max(1, len(present))
    root = paid_root(urls["altda"]) if urls.get("altda") else None
    return {
        d: fuzz_daemon(
            d, urls[d], share, max_examples=max_examples, rpc_examples=rpc_examples, root=root, file_root=file_root
        )
        for d in present
    }
