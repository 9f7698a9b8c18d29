"""N concurrent clients per daemon for a bounded time, through the SDK clients: uploads to the storage node, chats to
the provider, DA puts to the signers, faucet claims. No error at all: the faucet runs with a drip budget and an
IP limit that allow the load (every client is on loopback), so its documented refusals (429 limits, 503 budget)
would be counted as errors here too. p50/p99 latencies are recorded for benches/faults.py, which runs this
module longer (ZG_LOAD_SECONDS, ZG_LOAD_CLIENTS)."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from tests.faults.network import MODEL, PROVIDER, FaultNetwork, record
from zerog import faucet as faucet_client
from zerog.compute import Compute
from zerog.da.client import DAClient
from zerog.storage.client import upload

LOAD_SECONDS = float(os.environ.get("ZG_LOAD_SECONDS", "3"))
CLIENTS = int(os.environ.get("ZG_LOAD_CLIENTS", "4"))
#: A client's operation started before the end of the run must finish within this.
OPERATION_TIMEOUT_SECONDS = 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_load(name: str, make_client: Callable[[int], Callable[[int], Any]], clients: int = CLIENTS) -> dict[str, Any]:
    """`clients` threads, each repeating its operation for LOAD_SECONDS; every failure is kept."""
    operations = [make_client(i) for i in range(clients)]  # set up (accounts, funds) before the clock starts
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS

    def worker(operation: Callable[[int], Any]) -> None:
        n = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                operation(n)
            except BaseException as exc:  # noqa: BLE001 - every failure counts, even a SystemExit
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            else:
                with lock:
                    latencies.append(time.monotonic() - started)
            n += 1

    threads = [threading.Thread(target=worker, args=(op,), daemon=True) for op in operations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + OPERATION_TIMEOUT_SECONDS)
    assert not any(t.is_alive() for t in threads), f"{name}: a client hung"
    figures = {
        "daemon": name,
        "clients": clients,
        "seconds": LOAD_SECONDS,
        "ok": len(latencies),
        "errors": len(errors),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
    }
    record("load", **figures)
    assert errors == [], errors[:5]
    assert latencies, f"{name}: no operation finished"
    return figures


def test_load__storage_uploads(fault_net: FaultNetwork, tmp_path: Path) -> None:
    deployment = fault_net.net.deployment

    def client(i: int) -> Callable[[int], Any]:
        account = fault_net.fresh_account()
        nodes = fault_net.nodes()

        def one(n: int) -> None:
            path = tmp_path / f"{i}-{n}.bin"
            path.write_bytes(os.urandom(4096 + n))
            upload(path, nodes, fault_net.w3, account, deployment, timeout=OPERATION_TIMEOUT_SECONDS)

        return one

    run_load("storage node", client)


def test_load__chats(fault_net: FaultNetwork) -> None:
    messages = [{"role": "user", "content": "Hi"}]

    def client(_: int) -> Callable[[int], Any]:
        user = Compute(fault_net.provider_settings, fault_net.fresh_account())
        user.transfer(PROVIDER.address, 10**17)
        chat = user.session(PROVIDER.address).openai_client(max_retries=0)

        def one(_: int) -> None:
            chat.chat.completions.create(model=MODEL, messages=messages, max_tokens=4, temperature=0)  # type: ignore[arg-type]

        return one

    run_load("compute provider", client)


def test_load__da_puts(fault_net: FaultNetwork) -> None:
    def client(_: int) -> Callable[[int], Any]:
        da = DAClient(fault_net.da.settings, fault_net.fresh_account())
        return lambda n: da.put(os.urandom(2048 + n))

    run_load("DA signers", client, clients=max(1, CLIENTS // 2))  # encoding is CPU bound: 2 cores


def test_load__faucet_claims(fault_net: FaultNetwork) -> None:
    url = fault_net.faucet.url

    def client(_: int) -> Callable[[int], Any]:
        return lambda _n: faucet_client.claim(url, Account.create().address)

    run_load("faucet", client)
