"""Gas of Flow.submit and Flow.batchSubmit on a fresh bundled chain, deployed by scripts/deploy.py.

    .venv/bin/python benches/storage_gas.py [--runs 20]

Prints gasUsed per case: the very first submission (fresh storage slots), the steady state (median over
`--runs` transactions, after warm-up) of submit with 1 and 4 nodes and of batchSubmit of 10, the submit that opens
a new epoch (it makes the epoch's context before placing the file: the flow root is folded there), and makeContext
alone (what the mining node sends at an epoch's start, so that uploads rarely pay for the context).

0G publishes no gas figures for its Flow (0gfoundation/0g-storage-contracts only wires up hardhat-gas-reporter).
The "0G measured" column is our own measurement of 0G's FixedPriceFlow + FixedPrice + ChunkLinearReward at
@40e6dec, compiled with the same solc 0.8.28 (optimizer, 200 runs, cancun) and called directly (0G deploys them
behind beacon proxies, which add a few thousand gas per call), same cases and warm-up, on anvil; those sources
are not part of this repository, so the figures are constants here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import keccak  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.storage.client import CONTEXT_GAS_RESERVE  # noqa: E402

SECTOR = 256
BATCH = 10
#: Node heights the SDK produces: one sector; and 1920 chunks (480 KiB), the four-node submission.
ONE_NODE = [0]
FOUR_NODES = [10, 9, 8, 7]
#: 0G @40e6dec per case (see the module docs); submits that opened an epoch (makeContext inside submit) cost
#: 356k-1.28M there ("opening": the low end) and are left out of its medians.
OFFICIAL_0G = {
    "opening": 356_000,
    "first": 195_459,
    "submit1": 198_187,
    "submit4": 207_903,
    "batch1": 917_741,
    "batch4": 1_143_193,
}

_counter = iter(range(1, 1 << 62))


def submission(heights: Sequence[int], submitter: str) -> tuple[Any, ...]:
    nodes = [(keccak(text=f"bench node {next(_counter)}"), h) for h in heights]
    length = sum(1 << h for h in heights) * SECTOR
    return ((length, b"", nodes), submitter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="submissions per steady-state median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp), block_time=0)
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            flow = deployment.contract(w3, "Flow")
            market = deployment.contract(w3, "FixedPriceMarket")
            decoder = deployment.error_decoder()
            user = dev_account(2)
            price = market.functions.pricePerSector().call()
            blocks_per_epoch = flow.functions.blocksPerEpoch().call()

            def send(call: Any, sectors: int) -> int:
                receipt = send_transaction(
                    w3, user, call, value=sectors * price, decoder=decoder, gas_reserve=CONTEXT_GAS_RESERVE
                )
                return int(receipt["gasUsed"])

            def submit(heights: Sequence[int]) -> int:
                sub = submission(heights, user.address)
                return send(flow.functions.submit(sub), sum(1 << h for h in heights))

            def batch(heights: Sequence[int]) -> int:
                subs = [submission(heights, user.address) for _ in range(BATCH)]
                return send(flow.functions.batchSubmit(subs), BATCH * sum(1 << h for h in heights))

            def steady(fn: Callable[[], int]) -> int:
                return int(statistics.median(fn() for _ in range(args.runs)))

            rows = [("submit, 1 node, first ever (fresh slots)", submit(ONE_NODE), OFFICIAL_0G["first"])]
            for _ in range(4):  # warm the frontier slots
                submit(ONE_NODE)
                submit(FOUR_NODES)
            rows.append(("submit, 1 node (median)", steady(lambda: submit(ONE_NODE)), OFFICIAL_0G["submit1"]))
            rows.append(
                ("submit, 4 nodes [10,9,8,7] (median)", steady(lambda: submit(FOUR_NODES)), OFFICIAL_0G["submit4"])
            )
            rows.append(
                (f"batchSubmit, {BATCH} x 1 node (median)", steady(lambda: batch(ONE_NODE)), OFFICIAL_0G["batch1"])
            )
            rows.append(
                (f"batchSubmit, {BATCH} x 4 nodes (median)", steady(lambda: batch(FOUR_NODES)), OFFICIAL_0G["batch4"])
            )

            flow_length = flow.functions.tree().call()[0]
            w3.provider.make_request("anvil_mine", [hex(blocks_per_epoch)])
            rows.append(
                (
                    f"submit, 1 node, opening an epoch (flow of {flow_length:,} sectors)",
                    submit(ONE_NODE),
                    OFFICIAL_0G["opening"],
                )
            )
            w3.provider.make_request("anvil_mine", [hex(blocks_per_epoch)])
            receipt = send_transaction(w3, user, flow.functions.makeContext(), decoder=decoder)
            rows.append(("makeContext alone, new epoch", int(receipt["gasUsed"]), None))

    width = max(len(name) for name, _, _ in rows)
    print(f"{'case':<{width}}  {'gasUsed':>9}  {'0G measured':>11}  ratio")
    for name, gas, official in rows:
        theirs = f"{official:>11,}  {gas / official:.2f}" if official else f"{'n/a':>11}"
        print(f"{name:<{width}}  {gas:>9,}  {theirs}")
    print(f"(batch per file: {rows[3][1] / BATCH:,.0f} gas for 1 node)")


if __name__ == "__main__":
    main()
