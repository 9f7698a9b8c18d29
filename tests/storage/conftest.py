"""Fixtures of the storage contract tests (`ape test`): role accounts, `create_*` factories deploying through
scripts/deploy.py, and builders of SDK-shaped submissions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from eth_utils import keccak

from scripts.deploy import create_address, deploy_storage

#: Test parameters: a cheap price, short epochs, small pricing chunks (two segments), a short release.
PRICE = 1000
BLOCKS_PER_EPOCH = 5
SECTORS_PER_CHUNK = 2048
RELEASE_SECONDS = 1000
SECTOR = 256
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = b"\x00" * 32
MINE_ROLE = keccak(text="MINE_ROLE")

_roots = count(1)


@dataclass
class Storage:
    """One deployed storage stack."""

    reward: Any
    market: Any
    flow: Any


def node_root() -> bytes:
    """A fresh, distinct node root (the contracts never look inside it)."""
    return keccak(text=f"node {next(_roots)}")


def submission(
    heights: Sequence[int],
    submitter: Any,
    length: int | None = None,
    tags: bytes = b"",
    roots: Sequence[bytes] | None = None,
) -> tuple[Any, ...]:
    """A Submission tuple ((length, tags, [(root, height)…]), submitter). `length` defaults to the full
    capacity in bytes, Σ 2^h · 256."""
    roots = list(roots) if roots is not None else [node_root() for _ in heights]
    if length is None:
        length = sum(1 << h for h in heights) * SECTOR
    address = submitter if isinstance(submitter, str) else submitter.address
    return ((length, tags, [(root, height) for root, height in zip(roots, heights, strict=True)]), address)


def sectors(heights: Sequence[int]) -> int:
    return sum(1 << h for h in heights)


# ---------------------------------------------------------------- accounts


@pytest.fixture(scope="session")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def user(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def miner(accounts: Any) -> Any:
    """Stands in for the mining contract: holds MINE_ROLE where a test grants it."""
    return accounts[2]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def beneficiary(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def caller(accounts: Any) -> Any:
    """An EOA bound as the flow of a market, or the market of a reward pool, to call them directly."""
    return accounts[5]


# ---------------------------------------------------------------- factories


@pytest.fixture(scope="session")
def create_storage(admin: Any) -> Callable[..., Storage]:
    """Factory: reward pool, market and flow deployed by `admin` exactly as scripts/deploy.py does."""

    def create(
        price: int = PRICE,
        blocks_per_epoch: int = BLOCKS_PER_EPOCH,
        sectors_per_chunk: int = SECTORS_PER_CHUNK,
        release_seconds: int = RELEASE_SECONDS,
    ) -> Storage:
        deployed = deploy_storage(
            admin,
            price_per_sector=price,
            blocks_per_epoch=blocks_per_epoch,
            sectors_per_pricing_chunk=sectors_per_chunk,
            release_seconds=release_seconds,
        )
        return Storage(*(deployed[name][0] for name in ("ChunkLinearReward", "FixedPriceMarket", "Flow")))

    return create


@pytest.fixture
def storage(create_storage: Callable[..., Storage]) -> Storage:
    return create_storage()


@pytest.fixture(scope="session")
def create_reward(project: Any, admin: Any, caller: Any) -> Callable[..., Any]:
    """Factory: a reward pool whose market is the `caller` EOA."""

    def create(
        sectors_per_chunk: int = SECTORS_PER_CHUNK, release_seconds: int = RELEASE_SECONDS, market: Any = None
    ) -> Any:
        return project.ChunkLinearReward.deploy(
            market or caller, sectors_per_chunk, release_seconds, admin, sender=admin
        )

    return create


@pytest.fixture(scope="session")
def create_market(project: Any, admin: Any, caller: Any) -> Callable[..., Any]:
    """Factory: a market whose flow is the `caller` EOA, and a reward pool bound to that market."""

    def create(price: int = PRICE) -> tuple[Any, Any]:
        nonce = admin.nonce
        reward = project.ChunkLinearReward.deploy(
            create_address(admin.address, nonce + 1), SECTORS_PER_CHUNK, RELEASE_SECONDS, admin, sender=admin
        )
        market = project.FixedPriceMarket.deploy(price, caller, reward, admin, sender=admin)
        assert reward.market() == market.address
        return market, reward

    return create
