"""Malformed input against every daemon of the shared fault network (tests/faults/network.py, plus an indexer)
and the alt-DA server: property-based fuzzing of each HTTP API from its own OpenAPI schema (schemathesis) and of
every JSON-RPC method (hypothesis), bounded so the module stays around a minute on two cores. No 5xx, every error in
the daemon's dialect, every JSON-RPC answer JSON-RPC 2.0, and every daemon still answers afterwards
(tests/faults/fuzzing.py; benches run it longer)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tests.da.daemons import altda_server
from tests.faults.fuzzing import Tally, fuzz_daemon, paid_root
from tests.faults.network import FaultNetwork
from tests.storage.node_fixtures import start_indexer
from zerog.chain import Deployment
from zerog.storage.client import upload

#: Seconds of fuzzing per daemon (the examples bounds below usually end it sooner).
BUDGET_SECONDS = 8
#: Examples per OpenAPI operation, and per JSON-RPC property.
MAX_EXAMPLES = 20
RPC_EXAMPLES = 120


@pytest.fixture(scope="module")
def network(fault_net: FaultNetwork) -> Iterator[dict[str, str]]:
    """The shared fault network plus an indexer and the alt-DA server on it: each daemon's URL, "root": the data
    root of a batch put through the alt-DA server (so that the DA signer's columns endpoint is fuzzed past "paid
    for?"), and "file": the root of a file uploaded to the storage node (so that lookups find something)."""
    settings = fault_net.settings
    indexer = start_indexer(settings, [fault_net.node.url])
    try:
        with altda_server(settings) as url:
            sample = settings.data_dir / "sample.bin"
            sample.write_bytes(random.Random(7).randbytes(5000))
            deployment = Deployment.for_settings(settings, fault_net.w3.eth.chain_id)
            uploaded = upload(sample, fault_net.nodes(), fault_net.w3, fault_net.fresh_account(), deployment)
            yield {
                "faucet": fault_net.faucet.url,
                "compute-provider": fault_net.provider.url,
                "da-signer-0": fault_net.da.signers[0].url,
                "storage-0": fault_net.node.url,
                "indexer": indexer.url,
                "altda": url,
                "root": paid_root(url),
                "file": uploaded.root,
            }
    finally:
        indexer.stop()


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
