"""Gas of the Marketplace's hot paths on a fresh bundled chain, deployed by scripts/deploy.py.

    .venv/bin/python benches/market_gas.py [--runs 5]

Medians over `--runs` transactions, each by a fresh account (a buyer's first purchase, a provider's first link):
- list:          a public model with 1 root and short strings (name, description, licence, format);
- buy public:    pays the lister and the fee recipient at once (the admin set a 2.5% fee: both are credited);
- buy private:   the payment goes into escrow;
- grant:         a 93-byte sealed key to a buyer with an escrowed purchase, releasing it (lister and fee credited);
- free grant:    the same key to an address that bought nothing;
- reclaim:       a buyer takes back an escrowed payment after the grant timeout (erases the purchase, pays it);
- linkService:   a registered provider serving the listing's model links to it (two InferenceServing reads);
- withdraw:      the lister takes its proceeds.
gasUsed is the whole transaction (21k base, calldata, storage, events, transfers). After the first of each
kind, the lister's and the fee recipient's proceeds are warm non-zero slots (a purchase adds to them); every
purchase record is a new slot.
"""

from __future__ import annotations

import argparse
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
from zerog.chain import connect, send_transaction  # noqa: E402
from zerog.compute.client import Compute, service_params  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.market.contracts import MARKETPLACE  # noqa: E402

MODEL = "zg-bytelm-tiny"
PRICE = 10**15
FEE_BPS = 250
GAS_MONEY = 10**17
#: An ECIES seal of a 32-byte key: compressed ephemeral key (33), nonce (12), encrypted key (32), tag (16).
SEALED_KEY = b"\x02" + keccak(text="bench sealed key") * 2 + bytes(28)
FUNDER_DEV_INDEX = 9


def listing(is_private: bool, n: int) -> tuple[Any, ...]:
    """ListingParams of a model with one root and short strings."""
    root = keccak(text=f"bench root {n}")
    return (0, is_private, PRICE, 1_000_000, keccak(root), [root], MODEL, "a tiny byte-level LM", "MIT", "zg-bytelm")


def measure(runs: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp))
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            market = deployment.contract(w3, MARKETPLACE)
            decoder = deployment.error_decoder()
            admin, lister = dev_account(0), dev_account(1)

            def send(account: LocalAccount, call: Any, value: int = 0) -> int:
                return int(send_transaction(w3, account, call, value=value, decoder=decoder)["gasUsed"])

            def median(gas: Callable[[int], int]) -> int:
                return int(statistics.median(gas(i) for i in range(runs)))

            send(admin, market.functions.setFee(FEE_BPS, admin.address))
            out: dict[str, int] = {}
            out["list"] = median(lambda i: send(lister, market.functions.list(listing(False, i))))
            public = market.functions.listingCount().call()
            send(lister, market.functions.list(listing(True, runs)))
            private = public + 1
            buyers = fresh_accounts(w3, 3 * runs)
            escrowed, reclaiming = buyers[runs : 2 * runs], buyers[2 * runs :]
            out["buy public"] = median(lambda i: send(buyers[i], market.functions.buy(public), PRICE))
            out["buy private"] = median(lambda i: send(escrowed[i], market.functions.buy(private), PRICE))
            out["grant"] = median(
                lambda i: send(lister, market.functions.grant(private, escrowed[i].address, SEALED_KEY))
            )
            strangers = fresh_accounts(w3, runs, fund=False)
            out["free grant"] = median(
                lambda i: send(lister, market.functions.grant(private, strangers[i].address, SEALED_KEY))
            )
            for buyer in reclaiming:
                send(buyer, market.functions.buy(private), PRICE)
            timeout = market.functions.grantTimeout().call()
            w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [timeout])
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
            out["reclaim"] = median(lambda i: send(reclaiming[i], market.functions.reclaim(private)))
            providers = fresh_accounts(w3, runs, value=settings.compute_stake_wei + GAS_MONEY)
            for provider in providers:
                compute = Compute(settings, provider, w3=w3, deployment=deployment)
                params = service_params("http://127.0.0.1:8700", MODEL, 1, 1, provider.address)
                compute.register(params, settings.compute_stake_wei)
            out["linkService"] = median(lambda i: send(providers[i], market.functions.linkService(public)))
            out["withdraw"] = send(lister, market.functions.withdraw())
            return out


def fresh_accounts(w3: Web3, count: int, fund: bool = True, value: int = GAS_MONEY) -> list[LocalAccount]:
    """`count` new accounts, each with `value` wei of dev account 9's unless `fund` is false."""
    funder = dev_account(FUNDER_DEV_INDEX)
    accounts: list[LocalAccount] = []
    for _ in range(count):
        account: LocalAccount = Account.create()
        if fund:
            send_transaction(w3, funder, {"to": account.address, "value": value, "gas": 21_000})
        accounts.append(account)
    return accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="transactions per median")
    args = parser.parse_args()
    print(f"{'path':<16}{'gasUsed':>10}")
    for path, gas in measure(args.runs).items():
        print(f"{path:<16}{gas:>10,}")


if __name__ == "__main__":
    main()
