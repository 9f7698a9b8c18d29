"""Malformed input against every daemon of one `zg up` network and the alt-DA server: property-based fuzzing of
each HTTP API from its own OpenAPI schema (schemathesis) and of every JSON-RPC method (hypothesis), bounded so the
module stays around a minute and a half on two cores. No 5xx, every error in the daemon's dialect, every JSON-RPC
answer JSON-RPC 2.0, and every daemon still answers afterwards (tests/faults/fuzzing.py; benches run it longer)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, make_settings, tool_env
from tests.e2e.test_up_flow import start_up, stop_up, wait_network
from tests.e2e.test_up_flow import zg as zg_cli
from tests.faults.fuzzing import Tally, fuzz_daemon, paid_root
from zerog.process import free_port, wait_until

#: Seconds of fuzzing per daemon (the examples bounds below usually end it sooner).
BUDGET_SECONDS = 8
#: Examples per OpenAPI operation, and per JSON-RPC property.
MAX_EXAMPLES = 20
RPC_EXAMPLES = 120


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`zg up` with free ports plus the alt-DA server on it: network.json's endpoints, "altda", "root": the data
    root of a batch put through it (so that the DA signer's columns endpoint is fuzzed past "paid for?"), and
    "file": the root of a file uploaded to the storage nodes (so that lookups find something)."""
    settings = make_settings(tmp_path_factory.mktemp("fuzz"))
    proc = start_up(settings)
    altda = None
    log = None
    try:
        info = wait_network(proc, settings)
        port = free_port()
        log = (settings.data_dir / "altda.log").open("wb")
        zg = str(Path(sys.executable).parent / "zg")
        altda = subprocess.Popen([zg, "da", "server", "--port", str(port)], cwd=REPO_ROOT, env=tool_env(settings),
                                 stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return altda.poll() is not None

        assert wait_until(up, 60, 0.1) and altda.poll() is None, (settings.data_dir / "altda.log").read_text()
        sample = settings.data_dir / "sample.bin"
        sample.write_bytes(random.Random(7).randbytes(5000))
        uploaded = zg_cli(settings, "--json", "storage", "upload", str(sample))
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        yield {**info, "altda": url, "root": paid_root(url), "file": json.loads(uploaded.stdout)["root"]}
    finally:
        if altda is not None:
            altda.send_signal(signal.SIGINT)
            altda.wait(30)
        if log is not None:
            log.close()
        stop_up(proc)


def fuzz(network: dict[str, str], daemon: str) -> Tally:
    tally = fuzz_daemon(
        daemon,
        network[daemon],
        BUDGET_SECONDS,
        max_examples=MAX_EXAMPLES,
        rpc_examples=RPC_EXAMPLES,
        root=network["root"],
        file_root=network["file"],
    )
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    summary = f"{tally.tried} inputs tried, {tally.server_errors} 5xx/internal errors (HTTP statuses {statuses})"
    print(f"\nfuzz {daemon}: {summary}")  # noqa: T201
    return tally


@pytest.mark.parametrize("daemon", ["faucet", "compute-provider", "da-signer-0", "altda"])
def test_http_api__malformed_input_no_5xx_errors_in_dialect(network: dict[str, str], daemon: str) -> None:
    tally = fuzz(network, daemon)
    assert tally.tried > MAX_EXAMPLES
    assert (tally.server_errors, tally.findings) == (0, []), "\n".join(tally.findings)


@pytest.mark.parametrize("daemon", ["storage-0", "indexer"])
def test_jsonrpc__random_params_batches_and_garbage_answered_as_jsonrpc(network: dict[str, str], daemon: str) -> None:
    tally = fuzz(network, daemon)
    assert tally.tried > RPC_EXAMPLES
    assert (tally.server_errors, tally.findings) == (0, []), "\n".join(tally.findings)
