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
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.compute.client import Compute, service_params  # noqa: E402
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
    print(f"{'case':<10} {'requests':>8} {'vouchers':>8} {'gasUsed':>10} {'gas/request':>12} {'gas/voucher':>12}")
    for case, requests, vouchers, gas in rows:
        print(f"{case:<10} {requests:>8} {vouchers:>8} {gas:>10,} {gas // requests:>12,} {gas // vouchers:>12,}")
    print(f"0G (per request, TEE-trusted settlement): ~{OFFICIAL_0G_PER_REQUEST:,} gas")


def fund_users(settings, w3, deployment, provider: str, count: int) -> list[Compute]:  # type: ignore[no-untyped-def]
    """`count` fresh users, each with gas money and a funded sub-account with `provider`."""
    funder = dev_account(9)
    users: list[Compute] = []
    for _ in range(count):
        account: LocalAccount = Account.create()
        send_transaction(w3, funder, {"to": account.address, "value": GAS_MONEY, "gas": 21_000})
        user = Compute(settings, account, w3=w3, deployment=deployment)
        user.transfer(provider, SUB_ACCOUNT, acknowledge=False)
        users.append(user)
    return users


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


if __name__ == "__main__":
    main()
