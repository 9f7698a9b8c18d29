"""Provider overhead per request — checking the voucher (auth), metering, signing the receipt — against
calling the model directly, in the same run, on a fresh bundled chain with the real provider daemon.

    .venv/bin/python benches/compute_overhead.py [--requests 200] [--max-tokens 32]

Every request is a non-streaming chat completion through the real `openai` client with the SDK's voucher
hooks, greedy decoding, a fixed prompt. Reported (p50 / p90, milliseconds):
- model direct:    TextGenerator in this process, same checkpoint, prompt and parameters, 1 torch thread
                   (as the provider runs it);
- provider auth / receipt: the daemon's own Server-Timing: voucher checks + admission (signature recovery,
                   nonce, owed, funds, SQLite commit) and metering + receipt signing + SQLite commit;
- provider overhead: auth + receipt + request parsing — the cost the payment layer adds inside the daemon;
- end to end:      client wall time, including HTTP, JSON, and the SDK signing the voucher and verifying the
                   receipt;
- e2e − model:     end to end minus the daemon's model time (everything that is not inference).
The model is the default one (zg-bytelm-tiny), trained into the model cache first if missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import torch  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from services.compute_provider.config import model_path  # noqa: E402
from services.compute_provider.model.generate import SamplingParams, TextGenerator  # noqa: E402
from services.compute_provider.model.train import ensure_model  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.compute import Compute  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, child_env, deploy  # noqa: E402

PROMPT = "What is the chain id of the local network?"
WARMUP = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def server_timing(header: str) -> dict[str, float]:
    timings = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        timings[name] = float(duration)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        compute_port = free_port()
        settings = local_settings(Path(tmp), compute_port=compute_port)
        checkpoint, _ = ensure_model(model_path(settings), settings.compute_model_name)
        with ChainNode(settings):
            deploy(settings)
            log = Path(tmp) / "provider.log"
            proc = spawn(
                [sys.executable, "-m", "services.compute_provider"], log, env=child_env(settings), cwd=REPO_ROOT
            )
            try:
                url = f"http://127.0.0.1:{compute_port}/health"
                if not wait_until(lambda: _healthy(url), 600, 0.2):
                    raise SystemExit(f"provider did not start:\n{log.read_text()[-3000:]}")
                rows = run(settings, checkpoint, args.requests, args.max_tokens)
            finally:
                stop(proc)
    print(f"{args.requests} requests, {args.max_tokens} output tokens each, model {settings.compute_model_name}")
    print(f"{'':<26} {'p50 ms':>9} {'p90 ms':>9}")
    for name, values in rows:
        print(f"{name:<26} {percentile(values, 0.5):>9.3f} {percentile(values, 0.9):>9.3f}")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run(settings, checkpoint: Path, requests: int, max_tokens: int) -> list[tuple[str, list[float]]]:  # type: ignore[no-untyped-def]
    user = Compute(settings, dev_account(3))
    provider = dev_account(2).address
    user.transfer(provider, 10**18)
    session = user.session(provider)
    timings: list[dict[str, float]] = []

    def keep_timing(response: httpx.Response) -> None:
        if "server-timing" in response.headers:
            timings.append(server_timing(response.headers["server-timing"]))

    client = session.openai_client(http_client=session.http_client(event_hooks={"response": [keep_timing]}))
    messages = [{"role": "user", "content": PROMPT}]
    model = settings.compute_model_name

    torch.set_num_threads(1)
    generator = TextGenerator.load(checkpoint, model)
    prompt = generator.chat_prompt([("user", PROMPT)])
    params = SamplingParams(max_tokens=max_tokens, temperature=0)

    direct, end_to_end = [], []
    for i in range(requests + WARMUP):
        started = time.perf_counter()
        generator.generation(prompt, params).run()
        model_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        answer = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0)
        e2e_ms = (time.perf_counter() - started) * 1000
        assert answer.usage.completion_tokens == session.receipts[-1].output_tokens
        if i >= WARMUP:
            direct.append(model_ms)
            end_to_end.append(e2e_ms)
    served = timings[WARMUP:]
    assert len(session.receipts) == requests + WARMUP  # every response's receipt was verified
    overhead = [t["parse"] + t["auth"] + t["receipt"] for t in served]
    return [
        ("model direct", direct),
        ("provider model (daemon)", [t["model"] for t in served]),
        ("provider auth", [t["auth"] for t in served]),
        ("provider receipt", [t["receipt"] for t in served]),
        ("provider overhead", overhead),
        ("end to end", end_to_end),
        ("e2e - model", [e - t["model"] for e, t in zip(end_to_end, served, strict=True)]),
    ]


if __name__ == "__main__":
    main()
