"""The provider's settler on a real chain (contracts of `ape run deploy`), driven in-process: a voucher the
contract skips is marked as such from the receipt's events, the others settle, nothing is retried forever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak

from services.compute_provider.settlement import Settler
from services.compute_provider.store import ProviderStore
from zerog.accounts import dev_account
from zerog.compute import Compute, Voucher
from zerog.compute.client import service_params
from zerog.compute.records import SkipReason
from zerog.devnet.settings import NetworkSettings

FUNDS = 10**16
BATCH = 10
#: Never reached: the test calls settle_once itself.
INTERVAL = 3600


@pytest.fixture(scope="module")
def provider(deployed_devnet: NetworkSettings) -> Compute:
    compute = Compute(deployed_devnet, dev_account(2))
    compute.register(service_params("http://127.0.0.1:8700", "m", 1, 1, compute.address), 10**18)
    return compute


@pytest.fixture
def store(tmp_path: Path, provider: Compute) -> Iterator[ProviderStore]:
    store = ProviderStore.open(tmp_path / "provider.db", provider.address)
    yield store
    store.close()


def admit(store: ProviderStore, provider: Compute, index: int, amount: int, nonce: int, by: int | None = None) -> None:
    """Stores user `index`'s voucher as the API would, signed by dev account `by` (default: the user)."""
    user = dev_account(index)
    voucher = Voucher(user.address, provider.address, amount, nonce, "0x" + keccak(text=f"{index} {nonce}").hex())
    store.admit(voucher, voucher.sign(dev_account(by if by is not None else index), provider.domain), amount)


def test_settle_once__skipped_voucher_is_marked_and_the_others_settle(
    deployed_devnet: NetworkSettings, provider: Compute, store: ProviderStore
) -> None:
    for index in (3, 4, 5):
        Compute(deployed_devnet, dev_account(index)).transfer(provider.address, FUNDS, acknowledge=False)
    admit(store, provider, 3, 700, 1)
    admit(store, provider, 4, 500, 1, by=9)  # not the user's signature: the chain skips it
    admit(store, provider, 5, 300, 1)
    settler = Settler(provider, store, BATCH, INTERVAL)

    result = settler.settle_once()

    assert (result.vouchers, result.paid, result.transactions, result.skipped) == (2, 1000, 1, 1)
    assert [provider.sub_account(provider.address, dev_account(i).address).settled for i in (3, 4, 5)] == [
        700,
        0,
        300,
    ]
    assert store.unsettled_count() == 0
    skipped = store.conn.execute("SELECT user, nonce, reason, tx_hash FROM skipped_vouchers").fetchall()
    assert [tuple(row) for row in skipped] == [
        (dev_account(4).address, 1, SkipReason.INVALID_SIGNATURE.name, store.settlements()[0]["tx_hash"])
    ]
    assert store.account(dev_account(3).address).settled_nonce == 1
    # Not retried: no transaction for it any more.
    assert settler.settle_once().transactions == 0

    admit(store, provider, 4, 600, 2)  # the user's next, well-signed voucher settles

    assert settler.settle_once().paid == 600
    assert store.unsettled_count() == 0
