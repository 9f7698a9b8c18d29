"""DA settings of the SDK side: the client's limits and the DA contracts' deploy parameters."""

from __future__ import annotations

from pydantic import Field

from zerog.config import ETHER, Settings


class DASettings(Settings):
    # Largest payload one data root covers (signers refuse bigger bundles; 0G's DA limit is ~32 MB), and
    # seconds the client waits for the signers (a signer first has to see the DataUpload event).
    da_max_blob_size: int = Field(default=32 * 2**20, gt=0)
    da_timeout: float = Field(default=120, gt=0)
    # Deploy time: blocks per signer epoch, least stake of a signer, epochs a leaving signer waits before it
    # withdraws, the price of one blob of 4096 field elements (126976 payload bytes; a payload pays per started
    # blob, and the fee goes to the signers that attest it), and the blocks at the start of an epoch during which
    # attestations of the previous one still count (fewer than an epoch).
    da_epoch_blocks: int = Field(default=1000, gt=0)
    da_min_stake_wei: int = Field(default=10 * ETHER, gt=0)
    da_withdraw_delay_epochs: int = Field(default=2, ge=0)
    da_blob_fee_wei: int = Field(default=10**15, ge=0)
    da_grace_blocks: int = Field(default=20, ge=0)
    # Quorums (sharding): an epoch of n signers has clamp(n // da_min_signers_per_quorum, 1, da_max_quorums)
    # quorums. The defaults give the local network's 4 signers one quorum (8 signers: two).
    da_max_quorums: int = Field(default=4, ge=1, le=32)
    da_min_signers_per_quorum: int = Field(default=4, ge=1)
    # Epochs signers keep a blob's cells from its upload epoch on (100 epochs of 1000 one-second blocks locally:
    # about 28 hours).
    da_retention_epochs: int = Field(default=100, ge=1)
    # Sampling challenges (deploy time): the bond a challenger posts (paid to a signer that answers), the blocks a
    # signer has to answer, and the part of its stake an unanswered challenge slashes (basis points). They need the
    # EIP-2537 precompiles (Prague); on a chain without them DAChallenges is deployed disabled.
    da_challenge_bond_wei: int = Field(default=10**16, ge=0)
    da_challenge_response_blocks: int = Field(default=50, gt=0)
    da_challenge_slash_bps: int = Field(default=1000, ge=0, le=10_000)
