"""Settlement gas per request on a fresh bundled chain, deployed by scripts/deploy.py.

    .venv/bin/python benches/compute_gas.py

Vouchers are cumulative: one voucher pays for every request a user made since the last settlement, so the gas
of a settlement depends on how many *users* it covers, not on how many requests. Every case is one
`settleBatch` (what the provider daemon sends), for batches of 1, 10 and 100 requests:
- one user:   the batch is one voucher covering all its requests;
- users:      every request from a different user, one voucher each (worst case);
- 10 users:   the batch spread over 10 users (10 vouchers; batch 1 is one voucher);
- 1 skipped:  then 10 vouchers of which one asks more than its sub-account holds: skipped, the 9 others paid.
gasUsed is the whole transaction (21k base, calldata, signature checks, storage, events), divided by the
requests it pays for. Each voucher is settled for the first time for its user (cold storage: the usual case
for a provider settling every interval); the very first row also pays for the provider's first earnings.
0G's own figure: ~12.8k gas per request.

Then the fine-tuning task lifecycle (FineTuningServing), medians over TASK_RUNS tasks, each of a fresh user with a
ledger balance: createTask (reserves the fee cap from the Ledger), start, deliver (the service signer's EIP-712
statement, checked on chain), acknowledge, settle (fee to the provider's earnings, the rest back to the user's
ledger balance), and cancel (the whole reservation back) and claimTimeout (the reservation and a stake slash back)
of other tasks. After the first task the provider's earnings and open-task count are warm non-zero slots.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.auth import sign_digest  # noqa: E402
from zerog.chain import Deployment, connect, send_transaction  # noqa: E402
from zerog.compute.client import Compute, service_params  # noqa: E402
from zerog.compute.contracts import FINE_TUNING  # noqa: E402
from zerog.compute.protocol import Voucher  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402

BATCHES = (1, 10, 100)
FEE_PER_REQUEST = 10**12
OFFICIAL_0G_PER_REQUEST = 12_800
GAS_MONEY = 10**17
SUB_ACCOUNT = GAS_MONEY // 2
#: Requests of a voucher its sub-account cannot pay: the contract skips it.
UNPAYABLE_REQUESTS = SUB_ACCOUNT // FEE_PER_REQUEST + 1
SKIP_BATCH = 10
TASK_RUNS = 5
#: A fine-tuning service and its tasks: wei per token, dataset size, tokens trained, fee cap (twice the fee).
FT_MODEL = "bench-base"
FT_PRICE = 10**9
FT_DATASET_SIZE = 10**6
FT_MAX_DURATION = 3600
FT_TOKENS = 3 * 10**6
FT_FEE_CAP = 2 * FT_TOKENS * FT_PRICE
FT_HYPERPARAMETERS = '{"epochs":3,"lora_rank":8}'


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp))
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            provider = Compute(settings, dev_account(2), w3=w3, deployment=deployment)
            provider.register(
                service_params("http://127.0.0.1:8700", "bench", 1, 1, provider.address), settings.compute_stake_wei
            )
            users = fund_users(settings, w3, deployment, provider.address, sum(BATCHES) * 2 + 10 + 10 + 1 + SKIP_BATCH)
            rows = []
            for batch in BATCHES:
                # One user, one voucher for `batch` requests.
                gas = settle(provider, [(users.pop(), batch)])
                rows.append(("one user", batch, 1, gas))
                # Every request from another user.
                gas = settle(provider, [(users.pop(), 1) for _ in range(batch)])
                rows.append(("users", batch, batch, gas))
                # Spread over 10 users.
                spread = [(users.pop(), batch // 10) for _ in range(10)] if batch >= 10 else [(users.pop(), batch)]
                gas = settle(provider, spread)
                rows.append(("10 users", batch, len(spread), gas))
            skipping = [(users.pop(), 1) for _ in range(SKIP_BATCH - 1)] + [(users.pop(), UNPAYABLE_REQUESTS)]
            rows.append(("1 skipped", SKIP_BATCH - 1, SKIP_BATCH, settle(provider, skipping)))
            tasks = fine_tuning_lifecycle(settings.compute_stake_wei, w3, deployment)
    print(f"{'case':<10} {'requests':>8} {'vouchers':>8} {'gasUsed':>10} {'gas/request':>12} {'gas/voucher':>12}")
    for case, requests, vouchers, gas in rows:
        print(f"{case:<10} {requests:>8} {vouchers:>8} {gas:>10,} {gas // requests:>12,} {gas // vouchers:>12,}")
    print(f"0G (per request, TEE-trusted settlement): ~{OFFICIAL_0G_PER_REQUEST:,} gas")
    print(f"\n{'fine-tuning':<14}{'gasUsed':>10}")
    for path, gas in tasks.items():
        print(f"{path:<14}{gas:>10,}")


def fund_users(settings, w3, deployment, provider: str, count: int) -> list[Compute]:  # type: ignore[no-untyped-def]
    """`count` fresh users, each with gas money and a funded sub-account with `provider`."""
    users: list[Compute] = []
    for _ in range(count):
        user = Compute(settings, fresh_account(w3), w3=w3, deployment=deployment)
        user.transfer(provider, SUB_ACCOUNT, acknowledge=False)
        users.append(user)
    return users


def fresh_account(w3: Web3) -> LocalAccount:
    """A new account with GAS_MONEY of dev account 9's."""
    account: LocalAccount = Account.create()
    send_transaction(w3, dev_account(9), {"to": account.address, "value": GAS_MONEY, "gas": 21_000})
    return account


def settle(provider: Compute, vouchers: list[tuple[Compute, int]]) -> int:
    """Settles one voucher per (user, requests it covers); returns the transaction's gasUsed."""
    signed = []
    for user, requests in vouchers:
        request_hash = "0x" + keccak(text=f"{user.address} {requests}").hex()
        voucher = Voucher(
            user.address, provider.address, requests * FEE_PER_REQUEST, requests, request_hash, "0x" + "ab" * 32
        )
        signed.append((voucher, voucher.sign(user.account, user.domain)))
    receipt = provider.settle(signed)
    assert provider.earnings() > 0
    return int(receipt["gasUsed"])


def fine_tuning_lifecycle(stake: int, w3: Web3, deployment: Deployment) -> dict[str, int]:
    """Medians of gasUsed along the fine-tuning task lifecycle; the provider (dev account 2) signs its own
    deliveries. claimTimeout comes last: it moves the chain's clock past every deadline."""
    fine_tuning = deployment.contract(w3, FINE_TUNING)
    ledger = deployment.contract(w3, "Ledger")
    decoder = deployment.error_decoder()
    provider = dev_account(2)

    def send(account: LocalAccount, call: Any, value: int = 0) -> int:
        return int(send_transaction(w3, account, call, value=value, decoder=decoder)["gasUsed"])

    def median(gas: Callable[[int], int]) -> int:
        return int(statistics.median(gas(i) for i in range(TASK_RUNS)))

    def create(user: LocalAccount) -> int:
        params = (
            provider.address,
            keccak(text=user.address),
            FT_DATASET_SIZE,
            FT_MODEL,
            FT_HYPERPARAMETERS,
            FT_FEE_CAP,
        )
        return send(user, fine_tuning.functions.createTask(params))

    def deliver(task_id: int) -> int:
        model_root, model_hash = keccak(text=f"model root {task_id}"), keccak(text=f"model {task_id}")
        digest = fine_tuning.functions.hashDelivery(task_id, model_root, model_hash, FT_TOKENS).call()
        signature = sign_digest(provider, digest)
        return send(provider, fine_tuning.functions.deliver(task_id, model_root, model_hash, FT_TOKENS, signature))

    service = ("http://127.0.0.1:8701", FT_MODEL, FT_PRICE, FT_DATASET_SIZE, FT_MAX_DURATION, provider.address)
    send(provider, fine_tuning.functions.registerService(service), stake)
    users = [fresh_account(w3) for _ in range(3 * TASK_RUNS)]
    for user in users:
        send(user, ledger.functions.deposit(), 2 * FT_FEE_CAP)
    done, cancelled, abandoned = users[:TASK_RUNS], users[TASK_RUNS : 2 * TASK_RUNS], users[2 * TASK_RUNS :]
    first = fine_tuning.functions.taskCount().call() + 1
    out: dict[str, int] = {}
    out["createTask"] = median(lambda i: create(done[i]))
    out["start"] = median(lambda i: send(provider, fine_tuning.functions.start(first + i)))
    out["deliver"] = median(lambda i: deliver(first + i))
    out["acknowledge"] = median(lambda i: send(done[i], fine_tuning.functions.acknowledge(first + i)))
    out["settle"] = median(lambda i: send(done[i], fine_tuning.functions.settle(first + i)))
    for user in cancelled:
        create(user)
    out["cancel"] = median(lambda i: send(cancelled[i], fine_tuning.functions.cancel(first + TASK_RUNS + i)))
    for user in abandoned:
        create(user)
    w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [FT_MAX_DURATION + 1])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    timed_out = first + 2 * TASK_RUNS
    out["claimTimeout"] = median(lambda i: send(abandoned[i], fine_tuning.functions.claimTimeout(timed_out + i)))
    return out


if __name__ == "__main__":
    main()
