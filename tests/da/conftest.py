"""Fixtures of the DA contract tests (`ape test`): role accounts, BLS keys, `create_*` factories for DASigners
and DAEntrance, and helpers that sign and aggregate attestations with zerog.da.bls (the client's own code)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from chain_node import ChainNode
from tests.conftest import make_settings
from tests.da.daemons import DANetwork, start_network
from zerog.da.bls import G1, G2, KeyPair, aggregate_g1, aggregate_g2, derive_secret_key
from zerog.da.contracts import attestation_digest, proof_of_possession
from zerog.devnet.deploy import run_deploy

EPOCH_BLOCKS = 20
GRACE_BLOCKS = 5
MIN_STAKE = 10**18
WITHDRAW_DELAY = 1
BLOB_FEE = 10**15  # price per blob
RETENTION = 3
#: Most quorums and fewest signers per quorum of the test registries (4 signers: one quorum; 8: two).
QUORUMS = (4, 4)
STAKE = 10 * 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@cache
def keys(n: int) -> KeyPair:
    """The n-th test BLS key (deterministic, cached: G2 multiplications cost ~10 ms each)."""
    return KeyPair(derive_secret_key(n.to_bytes(32, "big"), b"zerog/tests/da"))


def chain_id(chain: Any) -> int:
    return int(chain.chain_id)


def pop(chain: Any, registry: Any, account: Any, key: KeyPair) -> tuple[int, int]:
    return proof_of_possession(key, chain_id(chain), registry.address, account.address).to_contract()


def genesis_row(
    chain: Any, registry_address: str, account: Any, key: KeyPair, stake: int = STAKE, socket: str = ""
) -> tuple:
    address = account if isinstance(account, str) else account.address
    proof = proof_of_possession(key, chain_id(chain), registry_address, address)
    return (
        address,
        key.pk1.to_contract(),
        key.pk2.to_contract(),
        proof.to_contract(),
        socket or f"http://signer-{address[2:8].lower()}.test",
        stake,
    )


@dataclass(frozen=True)
class ChallengeParameters:
    """DAChallenges' constructor arguments but the entrance."""

    verifier: str
    bond: int = 10**16
    response_blocks: int = 5
    slash_bps: int = 1000
    enabled: bool = True


@dataclass
class Quorum:
    """A deployed DASigners + DAEntrance and the keys of the genesis signers, by slot."""

    registry: Any
    entrance: Any
    members: list[Any]
    keys: list[KeyPair]
    stakes: list[int]
    #: DAChallenges on the pair, the registry's slasher (create_quorum(challenges=...)).
    challenges: Any = None

    def digest(self, chain: Any, root: bytes, epoch: int, quorum_id: int = 0) -> bytes:
        return attestation_digest(chain_id(chain), self.entrance.address, root, epoch, quorum_id)

    def attest(
        self,
        chain: Any,
        root: bytes,
        slots: Sequence[int],
        *,
        epoch: int | None = None,
        quorum_id: int = 0,
        signed_epoch: int | None = None,
        bitmap: int | None = None,
        signature: G1 | None = None,
        apk2: G2 | None = None,
    ) -> tuple:
        """A CommitRootSubmission signed by `slots` (every part overridable to forge one)."""
        epoch = self.registry.epoch() if epoch is None else epoch
        digest = self.digest(chain, root, epoch if signed_epoch is None else signed_epoch, quorum_id)
        sig = signature or aggregate_g1(self.keys[s].sign(digest) for s in slots)
        pk2 = apk2 or aggregate_g2(self.keys[s].pk2 for s in slots)
        bits = sum(1 << s for s in slots) if bitmap is None else bitmap
        return (root, epoch, quorum_id, bits, pk2.to_contract(), sig.to_contract())


# ---------------------------------------------------------------- accounts


@pytest.fixture(scope="session")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def uploader(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def signer_accounts(accounts: Any) -> list[Any]:
    """Accounts 3..8: genesis signers and later registrants."""
    return [accounts[i] for i in range(3, 9)]


# ---------------------------------------------------------------- factories


@pytest.fixture(scope="session")
def create_registry(project: Any, admin: Any, chain: Any) -> Callable[..., Any]:
    """Factory: a DASigners whose genesis set is `members` (accounts) with keys[k] each, deployed by `admin`."""

    def create(
        members: Sequence[Any] = (),
        stakes: Sequence[int] | None = None,
        key_ids: Sequence[int] | None = None,
        epoch_blocks: int = EPOCH_BLOCKS,
        min_stake: int = MIN_STAKE,
        withdraw_delay: int = WITHDRAW_DELAY,
        value: int | None = None,
        rows: Sequence[tuple] | None = None,
        quorums: tuple[int, int] = QUORUMS,
        slasher: str = ZERO_ADDRESS,
    ) -> Any:
        from scripts.deploy import create_address

        at = create_address(admin.address, admin.nonce)
        stakes = list(stakes) if stakes is not None else [STAKE] * len(members)
        ids = list(key_ids) if key_ids is not None else list(range(len(members)))
        if rows is None:
            rows = [genesis_row(chain, at, m, keys(k), s) for m, k, s in zip(members, ids, stakes, strict=True)]
        total = sum(r[-1] for r in rows) if value is None else value
        params = (epoch_blocks, min_stake, withdraw_delay, quorums, slasher)
        registry = project.DASigners.deploy(params, list(rows), sender=admin, value=total)
        assert registry.address == at
        return registry

    return create


@pytest.fixture(scope="session")
def create_quorum(project: Any, admin: Any, create_registry: Callable[..., Any]) -> Callable[..., Quorum]:
    """Factory: DASigners with `n` genesis signers (slot k: signer_accounts[k], keys(k)) and a DAEntrance on it."""

    def create(
        n: int = 4,
        stakes: Sequence[int] | None = None,
        blob_fee: int = BLOB_FEE,
        members: Sequence[Any] = (),
        quorums: tuple[int, int] = QUORUMS,
        retention: int = RETENTION,
        challenges: ChallengeParameters | None = None,
    ) -> Quorum:
        """With `challenges`, a DAChallenges too, from the nonce after DAEntrance's, bound as the slasher."""
        from scripts.deploy import create_address

        stakes = list(stakes) if stakes is not None else [STAKE] * n
        slasher = create_address(admin.address, admin.nonce + 2) if challenges else ZERO_ADDRESS
        registry = create_registry(members, stakes, quorums=quorums, slasher=slasher)
        entrance = project.DAEntrance.deploy(registry.address, blob_fee, GRACE_BLOCKS, retention, sender=admin)
        contract = None
        if challenges:
            c = challenges
            contract = project.DAChallenges.deploy(
                entrance.address, c.verifier, c.bond, c.response_blocks, c.slash_bps, c.enabled, sender=admin
            )
            assert contract.address == slasher
        return Quorum(registry, entrance, list(members), [keys(k) for k in range(n)], stakes, contract)

    return create


def advance_to_epoch(chain: Any, registry: Any, epoch: int) -> None:
    """Mine until the head block is the first of `epoch` (views and the next transactions agree on it)."""
    first = registry.genesisBlock() + epoch * registry.epochBlocks()
    head = chain.blocks.head.number
    assert head <= first, f"already past the start of epoch {epoch}"
    if first > head:
        chain.mine(first - head)
    assert registry.epoch() == epoch


# ---------------------------------------------------------------- the daemon network


@pytest.fixture(scope="package")
def da_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DANetwork]:
    """A bundled chain with the contracts deployed (four genesis signers) and the four signer daemons running,
    shared by the daemon tests of this package."""
    settings = make_settings(tmp_path_factory.mktemp("da"), poll_interval=0.1)
    with ChainNode(settings):
        result = run_deploy(settings)
        assert result.returncode == 0, result.stdout + result.stderr
        network = start_network(settings)
        try:
            yield network
        finally:
            network.stop()


@pytest.fixture
def da(da_network: DANetwork) -> DANetwork:
    """The shared network with all four signers up (a test that stopped one left it to be restarted here)."""
    da_network.ensure_running()
    return da_network
