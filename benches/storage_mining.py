"""Storage mining: gas per verified PoRA answer on a fresh bundled chain, and the miner's hash rate.

    .venv/bin/python benches/storage_mining.py [--answers 20] [--seconds 5] [--megabytes 64]

Gas: files of every node kind are submitted to the Flow (deployed by scripts/deploy.py with difficulty 1), and
`--answers` answers built by zerog.storage.pora are submitted to PoraMine: each is verified in full (range,
recall, unseal, 64-level flow proof, quality) and claims from ChunkLinearReward. Reported: gasUsed of a plain
answer (median, min, max), of the answer that also opens its epoch (makeContext inside submit), of makeContext
alone, and of the first answer (cold storage slots); 0G's figure is ~410K gas per proof (docs/architecture.md §5).

Hash rate: the miner's search kernel (services/storage_miner/mining/search.py) over `--megabytes` of sealed data
with the flow's padding mixed in, in one process and then in a pool of 1 and of every core (the daemon's setup,
workers at nice 19), `--seconds` each. A "hash" is one answer tried: a seed, a recall, a sealed-sector gather and a
quality hash. Sealing throughput (MB/s of segments sealed for a miner id) is reported too.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from eth_abi import encode  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3.logs import DISCARD  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from services.storage_miner.mining.search import EMPTY, HELD, Plan, init_worker, search  # noqa: E402
from tests.storage.memory_flow import MemoryFlow  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.storage.client import CONTEXT_GAS_RESERVE  # noqa: E402
from zerog.storage.merkle import SEGMENT_CHUNKS, SEGMENT_SIZE, FileTree  # noqa: E402
from zerog.storage.pora import MAX_UINT256, MineRange, MiningContext, miner_id_of, seal_bytes, seed_prefix  # noqa: E402

#: 0G's verification cost per PoRA proof (docs/architecture.md §5).
OFFICIAL_0G_GAS = 410_000
#: Files of every node kind: small (inside a segment), segment-sized, 3 segments + a bit, 4 MiB + 1 byte.
FILE_SIZES = (5000, SEGMENT_SIZE, 3 * SEGMENT_SIZE + 999, 4 * 2**20 + 1)
UPLOADER, MINER = 3, 8
#: Long epochs taking many answers: every answer of the bench lands in one epoch (so --answers < 500).
LONG_EPOCH_BLOCKS = 500
NONCES_PER_TASK = 4 * 8192


def gas(answers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(
            Path(tmp),
            storage_mining_difficulty=1,
            storage_mining_target_answers=LONG_EPOCH_BLOCKS,
            storage_blocks_per_epoch=LONG_EPOCH_BLOCKS,
            block_time=0,
        )
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            decoder = deployment.error_decoder()
            flow, mine = deployment.contract(w3, "Flow"), deployment.contract(w3, "PoraMine")
            market = deployment.contract(w3, "FixedPriceMarket")
            user, miner = dev_account(UPLOADER), dev_account(MINER)
            price = market.functions.pricePerSector().call()
            memory = MemoryFlow()
            for i, size in enumerate(FILE_SIZES):
                data = os.urandom(size)
                nodes = FileTree.from_bytes(data).submission_nodes()
                sub = ((size, b"", [(r, h) for r, h in nodes]), user.address)
                fee = sum(1 << h for _, h in nodes) * price
                receipt = send_transaction(w3, user, flow.functions.submit(sub), value=fee, decoder=decoder)
                [event] = flow.events.Submit().process_receipt(receipt, errors=DISCARD)
                memory.add(event["args"]["startPos"], data, nodes)
                print(f"  file {i}: {size} bytes at sector {event['args']['startPos']}", flush=True)
            salt = keccak(text="bench")
            send_transaction(w3, miner, mine.functions.register(salt, miner.address), decoder=decoder)
            miner_id = miner_id_of(miner.address, salt)
            w3.provider.make_request("anvil_mine", [LONG_EPOCH_BLOCKS])  # type: ignore[arg-type]

            # The first answer of the epoch opens it: predict the context it makes.
            length = flow.functions.tree().call()[0]
            view = memory.index().at(length)
            epoch = flow.functions.epoch().call()
            mine_start = flow.functions.firstBlock().call() + epoch * LONG_EPOCH_BLOCKS
            block_digest = bytes(w3.eth.get_block(mine_start - 1)["hash"])
            digest = keccak(encode(["bytes32", "bytes32", "uint256"], [block_digest, view.root(), length]))
            context = MiningContext(epoch, mine_start, view.root(), length, block_digest, digest)
            mine_range = MineRange.of(
                0, 0, 1, length, mine.functions.maxMiningLength().call(), mine.functions.sectorsPerPricingChunk().call()
            )
            call = mine.functions.submit(memory.answer(view, context, miner_id, 0, mine_range).to_abi())
            opening = send_transaction(w3, miner, call, decoder=decoder, gas_reserve=CONTEXT_GAS_RESERVE)["gasUsed"]
            used = []
            for nonce in range(1, answers + 1):
                answer = memory.answer(view, context, miner_id, nonce, mine_range)
                used.append(send_transaction(w3, miner, mine.functions.submit(answer.to_abi()), decoder=decoder))
            plain = [r["gasUsed"] for r in used]
            w3.provider.make_request("anvil_mine", [LONG_EPOCH_BLOCKS])  # type: ignore[arg-type]
            make_context = send_transaction(w3, miner, flow.functions.makeContext(), decoder=decoder)["gasUsed"]
            return {
                "opening answer (makeContext inside)": opening,
                "answer, median": int(statistics.median(plain[1:])),
                "answer, min": min(plain[1:]),
                "answer, max": max(plain[1:]),
                "second answer (first of this miner id after the opening one)": plain[0],
                "makeContext alone": make_context,
            }


def hash_rate(seconds: float, megabytes: int) -> dict[str, float]:
    segments = max(1, megabytes * 2**20 // SEGMENT_SIZE)
    miner_id = keccak(text="bench miner")
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sealed.bin"
        raw = os.urandom(SEGMENT_SIZE)
        began = time.perf_counter()
        with path.open("wb") as out:
            for slot in range(segments):
                out.write(seal_bytes(raw, miner_id, 2048 + slot * SEGMENT_CHUNKS))
        results["sealing MB/s"] = segments * SEGMENT_SIZE / 2**20 / (time.perf_counter() - began)
        length = 2048 + segments * SEGMENT_CHUNKS
        starts = np.array([0] + [2048 + i * SEGMENT_CHUNKS for i in range(segments)], dtype=np.uint64)
        kinds = np.array([EMPTY] + [HELD] * segments, dtype=np.uint8)
        rows = np.array([-1] + [i * SEGMENT_CHUNKS for i in range(segments)], dtype=np.int64)
        plan = Plan(
            "bench", seed_prefix(keccak(text="context"), miner_id, 0, 0, 1), miner_id,
            MineRange.of(0, 0, 1, length, 2**35, SEGMENT_CHUNKS), MAX_UINT256 // 2**40, str(path),
            segments * SEGMENT_CHUNKS, starts, kinds, rows,
        )  # fmt: skip
        search(plan, 0, NONCES_PER_TASK, 1 << 30)  # warm the page cache and numpy
        began, hashed, nonce = time.perf_counter(), 0, 0
        while time.perf_counter() - began < seconds:
            hashed += search(plan, nonce, NONCES_PER_TASK, 1 << 30).hashed
            nonce += NONCES_PER_TASK
        results["1 process, hashes/s"] = hashed / (time.perf_counter() - began)
        for workers in sorted({1, os.cpu_count() or 1}):
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker) as pool:
                list(pool.map(search, [plan] * workers, range(workers), [1] * workers, [1] * workers))  # start
                began, hashed, futures = time.perf_counter(), 0, []
                while time.perf_counter() - began < seconds:
                    while len(futures) < 2 * workers:
                        futures.append(pool.submit(search, plan, nonce, NONCES_PER_TASK, 1 << 30))
                        nonce += NONCES_PER_TASK
                    hashed += futures.pop(0).result().hashed
                for future in futures:
                    hashed += future.result().hashed
                results[f"pool of {workers} (nice 19), hashes/s"] = hashed / (time.perf_counter() - began)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=20, help="answers submitted for the gas figures")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per hash-rate measurement")
    parser.add_argument("--megabytes", type=int, default=64, help="sealed data the hash-rate search recalls from")
    args = parser.parse_args()
    print(f"gas per verified answer (0G: ~{OFFICIAL_0G_GAS:,} per proof):", flush=True)
    for case, value in gas(args.answers).items():
        print(f"  {case:58s} {value:>9,}")
    print(f"miner hash rate over {args.megabytes} MiB sealed ({os.cpu_count()} cores):", flush=True)
    for case, value in hash_rate(args.seconds, args.megabytes).items():
        print(f"  {case:58s} {value:>12,.0f}")


if __name__ == "__main__":
    main()
