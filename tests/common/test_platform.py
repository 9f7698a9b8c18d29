"""The daemon platform (services.common) on a small app of its own, in process (the real FastAPI/Starlette stack
through httpx's ASGI transport): body limits (declared and streamed), Host and Origin checks, CORS off by default
and on for listed origins, every error in the daemon's dialect, no stack traces on the wire."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from services.common.app import create_daemon_app
from services.common.errors import ApiError, JsonErrors, JsonRpcErrors, OpenAIErrors
from services.common.guard import BodyLimits, is_allowed_host
from services.common.jsonrpc import Base64Bytes, encode_answer
from services.common.settings import DaemonSettings
from zerog.config import load_settings

LIMIT = 1000
BIG_LIMIT = 5000


class Echo(BaseModel):
    text: str


class Runtime:
    def __init__(self) -> None:
        self.opened = self.closed = 0

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        self.closed += 1


router = APIRouter()


@router.post("/echo")
async def echo(payload: Echo) -> dict[str, str]:
    return {"text": payload.text}


@router.post("/big/raw")
async def raw(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@router.post("/limited")
async def limited() -> None:
    raise ApiError(429, "slow_down", "too many", retry_after=7)


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals /etc/passwd")


def make_client(tmp_path: Path, dialect: Any = None, **settings: Any) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = Runtime()
    app = create_daemon_app(
        title="test daemon",
        summary="",
        settings=load_settings(DaemonSettings, data_dir=tmp_path, **settings),
        runtime=runtime,
        routers=[router],
        dialect=dialect or JsonErrors(),
        limits=BodyLimits(LIMIT, {"/big": BIG_LIMIT}),
    )
    with TestClient(app, base_url="http://127.0.0.1:9999", raise_server_exceptions=False) as client:
        yield client, runtime


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    for made, _ in make_client(tmp_path):
        yield made


CHUNK = 256


def _chunks(count: int) -> Iterator[bytes]:
    """`count` chunks of CHUNK bytes, streamed without a Content-Length."""
    for _ in range(count):
        yield b" " * CHUNK


def test_lifespan_opens_and_closes_the_runtime(tmp_path: Path) -> None:
    for _, runtime in make_client(tmp_path):
        assert (runtime.opened, runtime.closed) == (1, 0)
    assert (runtime.opened, runtime.closed) == (1, 1)


def test_body_limit__declared_length_over_the_limit_is_413(client: TestClient) -> None:
    answer = client.post("/echo", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"request body larger than this endpoint's limit of {LIMIT} bytes",
        }
    }


def test_body_limit__streamed_body_is_cut_at_the_limit(client: TestClient) -> None:
    answer = client.post("/big/raw", content=_chunks(BIG_LIMIT // CHUNK + 1))
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    fits = BIG_LIMIT // CHUNK
    assert client.post("/big/raw", content=_chunks(fits)).json() == {"bytes": fits * CHUNK}


def test_body_limit__per_endpoint(client: TestClient) -> None:
    assert client.post("/big/raw", content=b"x" * (LIMIT + 1)).json() == {"bytes": LIMIT + 1}
    assert client.post("/echo", json={"text": "x" * LIMIT}).status_code == 413


@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1.nip.io", "localhost.attacker.example"])
def test_host__names_not_listed_are_refused(client: TestClient, host: str) -> None:
    answer = client.post("/echo", json={"text": "hi"}, headers={"host": host})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden_host"
    assert client.get("/boom", headers={"host": host}).status_code == 403  # reads too: nothing for a rebound page


@pytest.mark.parametrize("host", ["127.0.0.1:8600", "localhost:8600", "[::1]:8600", "10.1.2.3", "localhost"])
def test_host__addresses_and_localhost_pass(host: str) -> None:
    assert is_allowed_host(host, [])


def test_host__listed_names_pass(tmp_path: Path) -> None:
    for client, _ in make_client(tmp_path, allowed_hosts="node.example.org"):
        answer = client.post("/echo", json={"text": "hi"}, headers={"host": "Node.Example.Org:443"})
        assert answer.status_code == 200


def test_origin__cross_site_state_change_is_refused(client: TestClient) -> None:
    answer = client.post("/echo", json={"text": "hi"}, headers={"origin": "https://attacker.example"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "cross_site_request"
    assert client.post("/echo", json={"text": "hi"}, headers={"origin": "null"}).status_code == 403


def test_origin__same_origin_and_no_origin_pass(client: TestClient) -> None:
    same = client.post("/echo", json={"text": "hi"}, headers={"origin": "http://127.0.0.1:9999"})
    assert same.status_code == 200 and same.json() == {"text": "hi"}
    assert client.post("/echo", json={"text": "hi"}).status_code == 200


def test_cors__off_by_default(client: TestClient) -> None:
    answer = client.options("/echo", headers={"origin": "https://app.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in answer.headers


def test_cors__listed_origins_may_call(tmp_path: Path) -> None:
    for client, _ in make_client(tmp_path, cors_origins="https://app.example"):
        preflight = client.options(
            "/echo", headers={"origin": "https://app.example", "access-control-request-method": "POST"}
        )
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        answer = client.post("/echo", json={"text": "hi"}, headers={"origin": "https://app.example"})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        other = client.post("/echo", json={"text": "hi"}, headers={"origin": "https://attacker.example"})
        assert other.status_code == 403


def test_errors__validation_is_400_with_the_field(client: TestClient) -> None:
    answer = client.post("/echo", json={"txt": 1})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request" and "text" in answer.json()["error"]["message"]


def test_errors__api_error_with_retry_after(client: TestClient) -> None:
    answer = client.post("/limited")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "7"
    assert answer.json() == {"error": {"code": "slow_down", "message": "too many", "retryAfter": 7}}


def test_errors__unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/nowhere").json()["error"]["code"] == "not_found"
    assert client.get("/echo").json()["error"]["code"] == "method_not_allowed"


def test_errors__unhandled_exception_is_500_without_internals(client: TestClient) -> None:
    answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "passwd" not in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("dialect", "check"),
    [
        (OpenAIErrors(), lambda b: b["error"]["type"] == "invalid_request_error" and b["error"]["param"] == "text"),
        (JsonRpcErrors(), lambda b: b["jsonrpc"] == "2.0" and b["id"] is None and b["error"]["code"] == -32600),
    ],
)
def test_errors__other_dialects(tmp_path: Path, dialect: Any, check: Any) -> None:
    for client, _ in make_client(tmp_path, dialect=dialect):
        invalid = client.post("/echo", json={})
        assert invalid.status_code == 400 and check(invalid.json()), invalid.text
        too_big = client.post("/echo", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"})
        assert too_big.status_code == 413
        failed = client.get("/boom")
        assert failed.status_code == 500 and "passwd" not in failed.text


def test_jsonrpc__base64_bytes_are_spliced_into_the_answer() -> None:
    data = b"\x00\xffsegment"
    answer = {"jsonrpc": "2.0", "result": {"data": Base64Bytes(data), "n": [Base64Bytes(b"")]}, "id": "é"}
    expected = {"jsonrpc": "2.0", "result": {"data": base64.b64encode(data).decode(), "n": [""]}, "id": "é"}
    assert json.loads(encode_answer(answer)) == expected
    assert encode_answer({"result": None}) == b'{"result":null}'
    with pytest.raises(TypeError):
        encode_answer({"result": object()})
