"""DASigners and DAEntrance from Python: typed views, the EIP-712 digests signers sign, and transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from zerog.chain import Deployment, ErrorDecoder, send_transaction
from zerog.config import Settings
from zerog.da.bls import G1, G2, KeyPair
from zerog.errors import ConfigError, DeploymentNotFoundError, ZeroGError

SIGNERS_CONTRACT = "DASigners"
ENTRANCE_CONTRACT = "DAEntrance"
VERIFIER_CONTRACT = "KZGCellVerifier"
CHALLENGES_CONTRACT = "DAChallenges"
#: Every DA contract, in deploy order.
CONTRACTS = (VERIFIER_CONTRACT, SIGNERS_CONTRACT, ENTRANCE_CONTRACT, CHALLENGES_CONTRACT)
#: The contracts every DA client needs (DAChallenges is optional: older deployments, tests without it).
REQUIRED_CONTRACTS = (SIGNERS_CONTRACT, ENTRANCE_CONTRACT)
#: EIP-2537's G1ADD: the deploy probes it to know whether the chain can check cells (Prague).
G1ADD_PRECOMPILE = "0x000000000000000000000000000000000000000b"
COLUMNS_PER_BLOB = 128

_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_REGISTRATION_TYPEHASH = keccak(text="DASignerRegistration(address account,uint256 pkX,uint256 pkY)")
_ATTESTATION_TYPEHASH = keccak(text="DAAttestation(bytes32 dataRoot,uint256 epoch,uint256 quorumId)")
_EIP712_VERSION = "1"


def eip712_digest(name: str, chain_id: int, contract: str, struct_hash: bytes) -> bytes:
    """keccak(0x1901 || domainSeparator || structHash), domain (name, "1", chainId, verifyingContract)."""
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [_DOMAIN_TYPEHASH, keccak(text=name), keccak(text=_EIP712_VERSION), chain_id, contract],
        )
    )
    return keccak(b"\x19\x01" + domain + struct_hash)


def registration_digest(chain_id: int, signers_address: str, account: str, pk1: G1) -> bytes:
    """What a proof of possession signs (DASigners.registrationDigest)."""
    struct_hash = keccak(
        abi_encode(["bytes32", "address", "uint256", "uint256"], [_REGISTRATION_TYPEHASH, account, pk1.x, pk1.y])
    )
    return eip712_digest(SIGNERS_CONTRACT, chain_id, signers_address, struct_hash)


def attestation_digest(chain_id: int, entrance_address: str, data_root: bytes, epoch: int, quorum_id: int) -> bytes:
    """What a signer signs to attest `data_root` in `epoch` (DAEntrance.attestationDigest)."""
    struct_hash = keccak(
        abi_encode(["bytes32", "bytes32", "uint256", "uint256"], [_ATTESTATION_TYPEHASH, data_root, epoch, quorum_id])
    )
    return eip712_digest(ENTRANCE_CONTRACT, chain_id, entrance_address, struct_hash)


def proof_of_possession(keys: KeyPair, chain_id: int, signers_address: str, account: str) -> G1:
    return keys.sign(registration_digest(chain_id, signers_address, account, keys.pk1))


def assign_columns(stakes: Sequence[int], columns: int = COLUMNS_PER_BLOB) -> list[range]:
    """DASigners' column assignment: signer k (slot order) gets [columns*C_k/S, columns*(C_k + s_k)/S); nothing
    at all if S is zero."""
    total = sum(stakes)
    if total == 0:
        return [range(0) for _ in stakes]
    ranges, cumulative = [], 0
    for stake in stakes:
        first = cumulative * columns // total
        cumulative += stake
        ranges.append(range(first, cumulative * columns // total))
    return ranges


def quorum_count(signers: int, max_quorums: int, min_signers_per_quorum: int) -> int:
    """DASigners' quorum count of an epoch of `signers` signers: clamp(signers // min, 1, max)."""
    return max(1, min(max_quorums, signers // min_signers_per_quorum))


def assign_quorums(stakes: dict[int, int], count: int) -> dict[int, int]:
    """DASigners' quorum of each slot: the signers sorted by stake (largest first, lower slot on a tie) dealt out
    to the `count` quorums in serpentine order (0..Q-1, then Q-1..0, ...), which balances the quorums' stakes."""
    order = sorted(stakes, key=lambda slot: (-stakes[slot], slot))
    out = {}
    for rank, slot in enumerate(order):
        position = rank % count
        out[slot] = position if (rank // count) % 2 == 0 else count - 1 - position
    return out


class EpochNotAttestableError(ZeroGError):
    """DAEntrance would not accept attestations of `epoch` now."""

    def __init__(self, epoch: int, current: int) -> None:
        super().__init__(f"this is epoch {current}, not {epoch}")
        self.epoch = epoch
        self.current = current


@dataclass(frozen=True)
class EpochSigner:
    """A member of an epoch's signer set (DASigners.EpochSigner)."""

    slot: int
    account: str
    stake: int
    #: Its columns of every blob of its quorum.
    columns: range
    socket: str
    pk1: G1
    pk2: G2
    quorum_id: int = 0

    @classmethod
    def from_chain(cls, row: Sequence[Any]) -> EpochSigner:
        slot, quorum_id, account, stake, first, count, pk1, pk2, socket = row
        return cls(
            int(slot), to_checksum_address(account), int(stake), range(first, first + count), str(socket),
            G1.from_contract(pk1), G2.from_contract(pk2), int(quorum_id),
        )  # fmt: skip

    @property
    def url(self) -> str:
        return self.socket.rstrip("/")


@dataclass(frozen=True)
class SignerSetView:
    """The signers of one epoch."""

    epoch: int
    signers: list[EpochSigner]

    @property
    def total_stake(self) -> int:
        return sum(s.stake for s in self.signers)

    @property
    def quorum_count(self) -> int:
        """Quorums of the epoch (every quorum has members unless the set is empty: then one)."""
        return max((s.quorum_id for s in self.signers), default=0) + 1

    def quorum(self, quorum_id: int) -> SignerSetView:
        """The members of one quorum (a view of the same epoch)."""
        return SignerSetView(self.epoch, [s for s in self.signers if s.quorum_id == quorum_id])

    def quorum_of(self, upload_quorum: int) -> int:
        """The quorum of this epoch that attests a blob given quorum `upload_quorum` at upload (DAEntrance folds it
        into the epoch's count should the set have shrunk since)."""
        return upload_quorum % self.quorum_count

    def by_account(self, account: str) -> EpochSigner | None:
        return next((s for s in self.signers if s.account == to_checksum_address(account)), None)

    def by_slot(self, slot: int) -> EpochSigner | None:
        return next((s for s in self.signers if s.slot == slot), None)


@dataclass(frozen=True)
class SignerRecord:
    """DASigners.signerOf."""

    account: str
    registered: bool
    leaving: bool
    slot: int
    pk1: G1
    pk2: G2
    socket: str
    stake: int
    next_stake: int
    active_from_epoch: int
    withdrawable_epoch: int


@dataclass(frozen=True)
class DataRootStatus:
    """DAEntrance.dataRootStatus."""

    uploader: str | None
    upload_epoch: int
    verified: bool
    verified_epoch: int
    #: The quorum given at upload; the one that attested, once verified.
    quorum_id: int = 0
    blobs: int = 0
    fee: int = 0
    #: First epoch the signers no longer keep it.
    expiry_epoch: int = 0
    expired: bool = False

    @property
    def uploaded(self) -> bool:
        return self.uploader is not None


class DAContracts:
    """The DA contracts of one deployment, on one connection."""

    def __init__(self, w3: Web3, deployment: Deployment) -> None:
        self.w3 = w3
        self.deployment = deployment
        deployment.require("DA", REQUIRED_CONTRACTS)
        try:
            self.signers: Contract = deployment.contract(w3, SIGNERS_CONTRACT)
            self.entrance: Contract = deployment.contract(w3, ENTRANCE_CONTRACT)
        except DeploymentNotFoundError as exc:
            raise ConfigError(f"{exc.message}: deploy the DA contracts (`zg deploy`)") from exc
        self.chain_id = deployment.chain_id
        self.decoder: ErrorDecoder = deployment.error_decoder()

    @classmethod
    def from_settings(cls, settings: Settings, w3: Web3) -> DAContracts:
        return cls(w3, Deployment.for_settings(settings, w3.eth.chain_id))

    @property
    def signers_address(self) -> str:
        return self.signers.address

    @property
    def entrance_address(self) -> str:
        return self.entrance.address

    # ------------------------------------------------------------ views

    def epoch(self) -> int:
        return int(self.signers.functions.epoch().call())

    def current_signers(self) -> SignerSetView:
        epoch, rows = self.signers.functions.signers().call()
        return SignerSetView(int(epoch), [EpochSigner.from_chain(r) for r in rows])

    def next_signers(self) -> SignerSetView:
        epoch, rows = self.signers.functions.nextSigners().call()
        return SignerSetView(int(epoch), [EpochSigner.from_chain(r) for r in rows])

    def signers_at(self, epoch: int) -> SignerSetView:
        """The signers of the previous, the current or the next epoch."""
        rows = self.signers.functions.signersAt(epoch).call()
        return SignerSetView(epoch, [EpochSigner.from_chain(r) for r in rows])

    @cached_property
    def _clock(self) -> tuple[int, int, int]:
        """Genesis block, blocks per epoch and grace blocks: immutable in the contracts."""
        return (
            int(self.signers.functions.genesisBlock().call()),
            int(self.signers.functions.epochBlocks().call()),
            int(self.entrance.functions.graceBlocks().call()),
        )

    def attesting_signers(self, epoch: int) -> SignerSetView:
        """The signers whose attestations of `epoch` DAEntrance accepts in the next block: the current epoch's,
        or during the first graceBlocks() blocks of an epoch the previous one's. Else EpochNotAttestableError."""
        current = self.current_signers()
        if epoch == current.epoch:
            return current
        genesis, epoch_blocks, grace = self._clock
        if epoch + 1 == current.epoch and self.w3.eth.block_number + 1 < genesis + current.epoch * epoch_blocks + grace:
            return self.signers_at(epoch)
        raise EpochNotAttestableError(epoch, current.epoch)

    def signer_of(self, account: str) -> SignerRecord:
        row = self.signers.functions.signerOf(to_checksum_address(account)).call()
        (addr, registered, leaving, slot, pk1, pk2, socket, stake, next_stake, active_from, withdrawable) = row
        return SignerRecord(
            to_checksum_address(addr) if registered else to_checksum_address(account), bool(registered),
            bool(leaving), int(slot), G1.from_contract(pk1), G2.from_contract(pk2), str(socket), int(stake),
            int(next_stake), int(active_from), int(withdrawable),
        )  # fmt: skip

    def price_per_blob(self) -> int:
        return int(self.entrance.functions.pricePerBlob().call())

    def fee_for(self, length: int) -> int:
        """The fee of a `length`-byte payload: the price per started blob of 126976 bytes."""
        return int(self.entrance.functions.feeFor(length).call())

    def retention_epochs(self) -> int:
        return int(self.entrance.functions.retentionEpochs().call())

    def earnings(self, account: str) -> int:
        """Fees credited to signer `account` and not withdrawn yet."""
        return int(self.entrance.functions.earnings(to_checksum_address(account)).call())

    def status(self, data_root: bytes) -> DataRootStatus:
        row = self.entrance.functions.dataRootStatus(data_root).call()
        uploader, upload_epoch, verified, verified_epoch, quorum_id, blobs, fee, expiry, expired = row
        known = int(uploader, 16) != 0
        return DataRootStatus(
            to_checksum_address(uploader) if known else None, int(upload_epoch), bool(verified), int(verified_epoch),
            int(quorum_id), int(blobs), int(fee), int(expiry), bool(expired),
        )  # fmt: skip

    @property
    def epoch_blocks(self) -> int:
        return self._clock[1]

    def epoch_start_block(self, epoch: int) -> int:
        genesis, epoch_blocks, _ = self._clock
        return genesis + epoch * epoch_blocks

    def attestation_digest(self, data_root: bytes, epoch: int, quorum_id: int) -> bytes:
        return attestation_digest(self.chain_id, self.entrance_address, data_root, epoch, quorum_id)

    def registration_digest(self, account: str, pk1: G1) -> bytes:
        return registration_digest(self.chain_id, self.signers_address, account, pk1)

    # ------------------------------------------------------------ transactions

    def register(self, account: LocalAccount, keys: KeyPair, socket: str, stake: int) -> TxReceipt:
        pop = proof_of_possession(keys, self.chain_id, self.signers_address, account.address)
        call = self.signers.functions.register(
            keys.pk1.to_contract(), keys.pk2.to_contract(), pop.to_contract(), socket
        )
        return send_transaction(self.w3, account, call, value=stake, decoder=self.decoder)

    def update_socket(self, account: LocalAccount, socket: str) -> TxReceipt:
        return send_transaction(self.w3, account, self.signers.functions.updateSocket(socket), decoder=self.decoder)

    def submit_original_data(
        self, account: LocalAccount, data_roots: Sequence[bytes], lengths: Sequence[int]
    ) -> TxReceipt:
        """Pay for `data_roots`, payloads of `lengths` bytes (the fee is per blob; signers refuse other lengths)."""
        fee = sum(self.fee_for(length) for length in lengths)
        call = self.entrance.functions.submitOriginalData(list(data_roots), list(lengths))
        return send_transaction(self.w3, account, call, value=fee, decoder=self.decoder)

    def submit_verified(
        self, account: LocalAccount, data_root: bytes, epoch: int, bitmap: int, apk2: G2, signature: G1,
        quorum_id: int = 0,
    ) -> TxReceipt:  # fmt: skip
        submission = (data_root, epoch, quorum_id, bitmap, apk2.to_contract(), signature.to_contract())
        call = self.entrance.functions.submitVerifiedCommitRoots([submission])
        return send_transaction(self.w3, account, call, decoder=self.decoder)

    def verified_roots(self, receipt: TxReceipt) -> list[bytes]:
        """The data roots a submitVerifiedCommitRoots transaction verified (it skips those verified already)."""
        events = self.entrance.events.ErasureCommitmentVerified().process_receipt(receipt, errors=DISCARD)
        return [bytes(e["args"]["dataRoot"]) for e in events]

    def withdraw_earnings(self, account: LocalAccount) -> TxReceipt:
        """Pay signer `account` its credited fees (reverts DAEntranceNothingToWithdraw without any)."""
        return send_transaction(self.w3, account, self.entrance.functions.withdrawEarnings(), decoder=self.decoder)
