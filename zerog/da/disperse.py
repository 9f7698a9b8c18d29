"""Putting a payload into DA (dispersal).

put: the payload is encoded into KZG blobs (zerog/da/encoding.py), its data root paid for with
DAEntrance.submitOriginalData (a fee per blob of the payload), which gives it a quorum, and each signer of that
quorum in the current epoch is sent its columns of every blob (nobody else is sent anything). Each signer
verifies them, stores them and returns a BLS signature over DAEntrance.attestationDigest(root, epoch, quorum).
The client sums the signatures and the signers' G2 keys (from the chain) and calls submitVerifiedCommitRoots
with the signer bitmap; the contract checks the rest with one pairing. Signers that are down or refuse are left
out as long as the others hold two thirds of the quorum's stake. Putting a payload again is cheap: a root already
paid for is not paid again (unless its retention expired), and one already verified is returned as it is.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from zerog.da import altda
from zerog.da.bls import G1, BLSError, aggregate_g1, aggregate_g2, verify
from zerog.da.connection import DAConnection, Progress
from zerog.da.contracts import EpochSigner, SignerSetView
from zerog.da.encoding import Encoded, encode
from zerog.da.errors import BlobTooLargeError, DAError, InsufficientSignaturesError, SignerError
from zerog.da.wire import bundle
from zerog.errors import TransactionError

log = logging.getLogger(__name__)

#: Attempts at attesting in a fresh epoch when the epoch changes under a put.
EPOCH_ATTEMPTS = 3
RETRY_SECONDS = 0.2
#: Signer answers that mean "not yet": retried until the timeout.
_RETRY_CODES = frozenset({"unknown_data_root", "chain_unavailable"})


@dataclass
class PutResult:
    """A payload made available: its data root, attested in `epoch` by the signers of `signer_bitmap`, members of
    quorum `quorum_id` (the quorum DAEntrance gave it; `total_stake` is that quorum's)."""

    data_root: str
    length: int
    blobs: int
    epoch: int
    quorum_id: int
    signer_bitmap: int
    signed_stake: int
    total_stake: int
    upload_tx: str | None
    verify_tx: str | None
    already_verified: bool = False
    #: Signers left out, by slot: why.
    failures: dict[int, str] = field(default_factory=dict)

    @property
    def commitment(self) -> bytes:
        """The OP alt-DA generic commitment of this payload."""
        return altda.encode_commitment(bytes.fromhex(self.data_root[2:]), self.epoch, self.quorum_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataRoot": self.data_root,
            "length": self.length,
            "blobs": self.blobs,
            "epoch": self.epoch,
            "quorumId": self.quorum_id,
            "signerBitmap": self.signer_bitmap,
            "signers": [i for i in range(256) if self.signer_bitmap >> i & 1],
            "signedStake": str(self.signed_stake),
            "totalStake": str(self.total_stake),
            "uploadTx": self.upload_tx,
            "verifyTx": self.verify_tx,
            "alreadyVerified": self.already_verified,
            "commitment": "0x" + self.commitment.hex(),
            "failures": {str(k): v for k, v in self.failures.items()},
        }


@dataclass
class _Signed:
    signer: EpochSigner
    signature: G1


class Disperser(DAConnection):
    """Puts payloads: encode, pay, disperse to the signers, submit their aggregate signature."""

    def check_size(self, length: int) -> None:
        limit = self.settings.da_max_blob_size
        if length == 0:
            raise DAError("the payload is empty: there is nothing to make available")
        if length > limit:
            raise BlobTooLargeError(
                f"the payload is {length} bytes, over the limit of {limit} bytes (ZG_DA_MAX_BLOB_SIZE): "
                "nothing was paid; split it"
            )

    def put(self, data: bytes, progress: Progress | None = None) -> PutResult:
        """Make `data` available; see the module description. Raises before paying if it is too big."""
        say = progress or (lambda _: None)
        self.check_size(len(data))
        if self.account is None:
            raise DAError("putting data needs an account to pay with")
        say(f"encoding {len(data)} bytes")
        encoded = encode(data)
        root = encoded.root
        status = self.contracts.status(root)
        if status.verified and not status.expired:
            say("already available")
            return PutResult(
                "0x" + root.hex(), encoded.length, encoded.blobs, status.verified_epoch, status.quorum_id, 0, 0, 0,
                None, None, already_verified=True,
            )  # fmt: skip
        upload_tx = None
        if not status.uploaded or status.expired:
            say(f"paying for 0x{root.hex()} ({encoded.blobs} blobs)")
            upload_tx = self._pay(root, encoded.length)
            status = self.contracts.status(root)  # the quorum it was given
        failures: dict[int, str] = {}
        for attempt in range(EPOCH_ATTEMPTS):
            epoch_set = self.contracts.current_signers()
            quorum_id = epoch_set.quorum_of(status.quorum_id)
            view = epoch_set.quorum(quorum_id)
            if not view.signers:
                raise DAError(f"epoch {view.epoch} has no DA signers: nobody can attest the data")
            say(
                f"dispersing {encoded.blobs} blobs to the {len(view.signers)} signers of quorum {quorum_id} "
                f"(epoch {view.epoch}, {epoch_set.quorum_count} quorums)"
            )
            signed, failures = self._disperse(encoded, view, quorum_id)
            if any(f.startswith("epoch_mismatch") for f in failures.values()) and attempt + 1 < EPOCH_ATTEMPTS:
                continue  # the epoch moved on while we dispersed: again, in the new one
            try:
                result = self._submit(root, view, quorum_id, signed, failures, say)
            except _EpochMoved:
                continue
            result.upload_tx = upload_tx
            result.length, result.blobs = encoded.length, encoded.blobs
            return result
        raise DAError(f"the epoch kept changing during {EPOCH_ATTEMPTS} attempts; last failures: {failures}")

    def _pay(self, root: bytes, length: int) -> str | None:
        assert self.account is not None
        try:
            receipt = self.contracts.submit_original_data(self.account, [root], [length])
        except TransactionError as exc:
            if exc.reason and exc.reason.startswith("DAEntranceDataRootExists"):
                return None  # paid by someone else meanwhile
            raise
        return receipt["transactionHash"].to_0x_hex()

    def _disperse(self, encoded: Encoded, view: SignerSetView, quorum_id: int) -> tuple[list[_Signed], dict[int, str]]:
        """Send every signer of the quorum (`view`) its columns; its attestation, or why not."""
        root = encoded.root

        def one(signer: EpochSigner) -> _Signed:
            body = bundle(encoded, signer.columns).encode()
            client = self._signer(signer.url)
            deadline = time.monotonic() + self.settings.da_timeout
            while True:
                try:
                    answer = client.put_columns(root, view.epoch, quorum_id, body)
                    break
                except SignerError as exc:
                    if exc.code not in _RETRY_CODES or time.monotonic() > deadline:
                        raise
                time.sleep(RETRY_SECONDS)
            if int(answer["epoch"]) != view.epoch or int(answer["slot"]) != signer.slot:
                raise DAError(f"{signer.url} attested epoch {answer['epoch']} as slot {answer['slot']}")
            try:
                signature = G1.from_json(answer["signature"])
            except (BLSError, KeyError) as exc:
                raise DAError(f"{signer.url} returned a malformed signature: {exc}") from exc
            return _Signed(signer, signature)

        signed, failures = [], {}
        with ThreadPoolExecutor(max(1, len(view.signers))) as pool:
            futures = {signer.slot: pool.submit(one, signer) for signer in view.signers}
            for index, future in futures.items():
                try:
                    signed.append(future.result())
                except SignerError as exc:
                    failures[index] = f"{exc.code}: {exc.detail}"
                except (DAError, httpx.HTTPError) as exc:
                    failures[index] = f"unreachable: {exc}" if isinstance(exc, httpx.HTTPError) else str(exc)
        for index, why in failures.items():
            log.warning("signer %d left out: %s", index, why)
        return signed, failures

    def _submit(
        self, root: bytes, view: SignerSetView, quorum_id: int, signed: list[_Signed], failures: dict[int, str],
        say: Progress,
    ) -> PutResult:  # fmt: skip
        assert self.account is not None
        total = view.total_stake
        while True:
            stake = sum(s.signer.stake for s in signed)
            if not signed or stake * 3 < total * 2:
                detail = "; ".join(f"signer {i}: {why}" for i, why in sorted(failures.items())) or "no signers"
                raise InsufficientSignaturesError(
                    f"only {stake} of quorum {quorum_id}'s {total} wei of stake attested 0x{root.hex()} in epoch "
                    f"{view.epoch}, less than two thirds ({detail})"
                )
            bitmap = sum(1 << s.signer.slot for s in signed)
            signature = aggregate_g1(s.signature for s in signed)
            apk2 = aggregate_g2(s.signer.pk2 for s in signed)
            say(f"submitting the aggregate of {len(signed)} signatures")
            try:
                receipt = self.contracts.submit_verified(
                    self.account, root, view.epoch, bitmap, apk2, signature, quorum_id
                )
            except TransactionError as exc:
                reason = exc.reason or ""
                if reason.startswith(("DAEntranceEpochMismatch", "DAEntranceAttestationExpired")):
                    raise _EpochMoved from exc
                if not reason.startswith("DAEntranceInvalidSignature"):
                    raise
                # Rare: find the signers whose signatures are wrong (one pairing each), drop them, retry.
                digest = self.contracts.attestation_digest(root, view.epoch, quorum_id)
                bad = [s for s in signed if not verify(digest, s.signature, s.signer.pk1, s.signer.pk2)]
                if not bad:
                    raise
                for s in bad:
                    failures[s.signer.slot] = "invalid_signature: its signature does not verify"
                signed = [s for s in signed if s not in bad]
                continue
            if root not in self.contracts.verified_roots(receipt):
                # Skipped by the contract: another submission verified the root first.
                status = self.contracts.status(root)
                return PutResult(
                    "0x" + root.hex(), 0, 0, status.verified_epoch, status.quorum_id, 0, 0, total, None, None,
                    already_verified=True, failures=failures,
                )  # fmt: skip
            return PutResult(
                "0x" + root.hex(), 0, 0, view.epoch, quorum_id, bitmap, stake, total, None,
                receipt["transactionHash"].to_0x_hex(), failures=failures,
            )  # fmt: skip


class _EpochMoved(Exception):
    """The contract is in a later epoch than the signatures: disperse again."""
