"""Gas of one on-chain EIP-7594 cell proof check (KZGCellVerifier.verifyCellProof), on an anvil of its own with
the Prague rules (the EIP-2537 precompiles the check needs; the project's chains still run Cancun), and where it
goes: the transaction's base cost and calldata, the precompile calls (from a callTracer trace), and the contract's
own execution, with the interpolation and the two point decompressions measured alone (KZGCellProofHarness calls,
less their own base cost and calldata; ABI overhead of the harness included).

    .venv/bin/python benches/da_cell_proof_gas.py [--cells 8]

Medians over `--cells` cells of one random blob (ckzg). The contracts are compiled by `ape compile` (a no-op when
.build is current) and deployed from dev account 0.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web3 import Web3  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from chain_node.node import find_anvil  # noqa: E402
from chain_node.process import free_port, spawn, stop, wait_until  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.config import DEV_MNEMONIC  # noqa: E402
from zerog.da import encoding  # noqa: E402
from zerog.da.encoding import PAYLOAD_BYTES_PER_BLOB  # noqa: E402
from zerog.da.kzg import CELLS_PER_BLOB  # noqa: E402
from zerog.devnet.deploy import REPO_ROOT, find_ape  # noqa: E402

#: The precompiles the check calls, by address.
PRECOMPILES = {0x05: "modexp", 0x0B: "G1ADD", 0x0C: "G1MSM", 0x0F: "PAIRING_CHECK"}
TX_BASE_GAS = 21_000
NONZERO_BYTE_GAS, ZERO_BYTE_GAS = 16, 4


def compiled(name: str) -> dict[str, Any]:
    subprocess.run([find_ape(), "compile"], cwd=REPO_ROOT, check=True, capture_output=True)
    contract = json.loads((REPO_ROOT / ".build" / "__local__.json").read_text())["contractTypes"][name]
    return {"abi": contract["abi"], "bytecode": contract["deploymentBytecode"]["bytecode"]}


def deploy(w3: Web3, name: str) -> Any:
    artifact = compiled(name)
    receipt = send_transaction(w3, dev_account(0), {"data": artifact["bytecode"]})
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])


def precompile_gas(w3: Web3, call: dict[str, Any]) -> dict[str, int]:
    """Gas each precompile used in `call`, summed by precompile (callTracer frames)."""
    trace = w3.provider.make_request(RPCEndpoint("debug_traceCall"), [call, "latest", {"tracer": "callTracer"}])
    used: dict[str, int] = defaultdict(int)

    def walk(frame: dict[str, Any]) -> None:
        address = int(frame["to"], 16)
        if address in PRECOMPILES:
            used[PRECOMPILES[address]] += int(frame["gasUsed"], 16)
        for child in frame.get("calls", []):
            walk(child)

    walk(trace["result"])
    return dict(used)


def intrinsic_gas(data: str) -> int:
    """21000 and the calldata at 16 gas a non-zero byte, 4 a zero byte (EIP-2028). EIP-7623's floor (10 gas a
    token) only binds transactions that do little else; this check does far more."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    return TX_BASE_GAS + sum(NONZERO_BYTE_GAS if b else ZERO_BYTE_GAS for b in raw)


def execution_gas(w3: Web3, fn: Any, sender: str) -> int:
    """Gas of a transaction calling `fn`, less its intrinsic gas."""
    return fn.estimate_gas({"from": sender}) - intrinsic_gas(fn._encode_transaction_data())


def measure(w3: Web3, cells: int) -> dict[str, int]:
    verifier, harness = deploy(w3, "KZGCellVerifier"), deploy(w3, "KZGCellProofHarness")
    blob = encoding.encode(random.Random(7594).randbytes(PAYLOAD_BYTES_PER_BLOB), parallel=False)
    sender = dev_account(0).address
    rows: dict[str, list[int]] = defaultdict(list)
    for index in random.Random(1).sample(range(CELLS_PER_BLOB), cells):
        args = (blob.commitments[0], index, blob.cell(0, index), blob.proof(0, index))
        fn = verifier.functions.verifyCellProof(*args)
        assert fn.call() is True, f"cell {index} does not verify"
        data = fn._encode_transaction_data()
        total = fn.estimate_gas({"from": sender})
        precompiles = precompile_gas(w3, {"from": sender, "to": verifier.address, "data": data})
        rows["verifyCellProof, a transaction"].append(total)
        rows["  21000 + calldata"].append(intrinsic_gas(data))
        for name, gas in precompiles.items():
            rows[f"  {name}"].append(gas)
        rows["  the contract's own execution"].append(total - intrinsic_gas(data) - sum(precompiles.values()))
        rows["    of which interpolation (harness)"].append(
            execution_gas(w3, harness.functions.interpolate(*args[1:3]), sender)
        )
        for name, point in (("commitment", args[0]), ("proof", args[3])):
            fn = harness.functions.decompressG1(point, name == "commitment")
            rows[f"    of which decompression of the {name} (harness, modexp incl.)"].append(
                execution_gas(w3, fn, sender)
            )
    return {name: int(statistics.median(values)) for name, values in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description="Gas of one on-chain EIP-7594 cell proof check.")
    parser.add_argument("--cells", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = spawn(
            [find_anvil(), "--port", str(port), "--hardfork", "prague", "--mnemonic", DEV_MNEMONIC],
            Path(tmp) / "anvil.log",
        )
        try:
            url = f"http://127.0.0.1:{port}"
            if not wait_until(lambda: _answers(url), 30, 0.1):
                raise SystemExit("anvil did not start")
            results = measure(connect(url), args.cells)
        finally:
            stop(proc)
    width = max(map(len, results))
    print(f"One EIP-7594 cell proof check on chain (Prague gas rules), median of {args.cells} cells:")
    for name, gas in results.items():
        print(f"  {name:<{width}}  {gas:>9,}")


def _answers(url: str) -> bool:
    try:
        return connect(url, check=False).is_connected()
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False


if __name__ == "__main__":
    main()
