"""Faults and load, on loopback only: runs the fault tests (tests/faults/test_kill.py: kill -9 of the storage node,
the miner, a DA signer and the faucet mid-work, a chain frozen under an upload, a DA put and a chat;
tests/compute/test_provider_restart.py: the provider killed mid-stream) and the load test
(tests/faults/test_load.py) with more clients for longer, each against its own bundled chain and daemons, and
prints one table: faults injected / survived, bytes lost, double payments (counted on chain), p50/p99 per daemon
under load, and bad inputs tried / 5xx seen if the fuzz runner (tests/faults/fuzzing.py) is on this branch.

    .venv/bin/python benches/faults.py [--load-seconds 15] [--clients 8]

Bounded: every pytest run has a timeout (a few minutes in all on 2 cores).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

RUN_TIMEOUT_SECONDS = 600
PROVIDER_KILL = "tests/compute/test_provider_restart.py::test_kill_mid_stream__received_vouchers_settle_after_restart"
KILL_TESTS = ["tests/faults/test_kill.py", PROVIDER_KILL]
LOAD_TESTS = ["tests/faults/test_load.py"]


def run_tests(targets: list[str], report: Path, junit: Path, env: dict[str, str]) -> tuple[int, float]:
    ape = str(Path(sys.executable).parent / "ape")
    cmd = [ape, "test", *targets, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    started = time.monotonic()
    # The venv's tools and the bundled anvil (node_modules/.bin) first, as `make test` has them.
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), str(REPO_ROOT / "node_modules" / ".bin"), os.environ["PATH"]]
    )
    full = {**os.environ, "PATH": path, "ZG_FAULTS_REPORT": str(report), "PYTHONPATH": str(REPO_ROOT), **env}
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=full, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    if done.returncode != 0:
        print(done.stdout[-3000:], file=sys.stderr)
    return done.returncode, time.monotonic() - started


def outcomes(junit: Path) -> dict[str, bool]:
    """Test id -> passed, from pytest's junit XML."""
    cases = ET.parse(junit).getroot().iter("testcase")
    return {f"{c.get('classname')}::{c.get('name')}": not any(c.iter("failure")) and not any(c.iter("error"))
            for c in cases}  # fmt: skip


def fuzz_figures() -> tuple[str, str]:
    """(bad inputs tried, 5xx seen) from the fuzz runner, or why it did not run."""
    try:
        fuzzing: Any = importlib.import_module("tests.faults.fuzzing")
    except ImportError:
        return "not run", "tests/faults/fuzzing.py is not on this branch (the fuzz branch brings it)"
    runner = getattr(fuzzing, "run", None) or getattr(fuzzing, "main", None)
    if runner is None:
        return "not run", "tests/faults/fuzzing.py has no run()/main() to call"
    result = runner()
    if isinstance(result, dict):
        return str(result.get("tried", "?")), str(result.get("5xx", result.get("server_errors", "?")))
    return "ran", str(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load-seconds", type=float, default=15, help="seconds of load per daemon")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients per daemon")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        report.touch()
        kill_code, kill_seconds = run_tests(KILL_TESTS, report, Path(tmp) / "kill.xml", {})
        load_env = {"ZG_LOAD_SECONDS": str(args.load_seconds), "ZG_LOAD_CLIENTS": str(args.clients)}
        load_code, load_seconds = run_tests(LOAD_TESTS, report, Path(tmp) / "load.xml", load_env)
        rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
        kills = outcomes(Path(tmp) / "kill.xml")

    faults = [r for r in rows if r["kind"] == "fault"]
    provider_id = next((k for k in kills if "test_kill_mid_stream" in k), None)
    injected = len(faults) + (provider_id is not None)
    survived = sum(bool(r["survived"]) for r in faults) + bool(provider_id and kills[provider_id])
    print(
        f"faults: pytest exit {kill_code} in {kill_seconds:.0f} s; "
        f"load: pytest exit {load_code} in {load_seconds:.0f} s"
    )
    print()
    # "cut": the client's call itself failed (the kill hit mid-request); "-": the kill came after the answer.
    print(f"{'fault':<48} {'survived':>8} {'bytes lost':>10} {'double paid':>11} {'client cut':>10}")
    for r in faults:
        cut = {True: "yes", False: "-"}.get(r.get("mid"), "n/a")
        print(f"{r['daemon'] + ': ' + r['fault']:<48} {'yes' if r['survived'] else 'NO':>8} "
              f"{r['bytes_lost']:>10} {r['double_payments']:>11} {cut:>10}")  # fmt: skip
    if provider_id is not None:
        ok = kills[provider_id]
        print(f"{'compute provider: kill -9 mid-stream (SSE)':<48} {'yes' if ok else 'NO':>8} {'0':>10} "
              f"{'0' if ok else '?':>11}")  # fmt: skip
    print()
    tried, server_errors = fuzz_figures()
    print(f"{'faults injected / survived':<32} {injected} / {survived}")
    print(f"{'bytes lost':<32} {sum(r['bytes_lost'] for r in faults)}")
    print(f"{'double payments':<32} {sum(r['double_payments'] for r in faults)}")
    print(f"{'bad inputs tried / 5xx seen':<32} {tried} / {server_errors}")
    print()
    print(f"{'load (daemon)':<20} {'clients':>7} {'seconds':>7} {'ok':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for r in (r for r in rows if r["kind"] == "load"):
        print(f"{r['daemon']:<20} {r['clients']:>7} {r['seconds']:>7g} {r['ok']:>6} {r['errors']:>6} "
              f"{r['p50_ms']!s:>8} {r['p99_ms']!s:>8}")  # fmt: skip
    sys.exit(1 if kill_code or load_code else 0)


if __name__ == "__main__":
    main()
