"""The DA client: put a payload (encode, pay, disperse, collect signatures, submit the aggregate), get it back
(fetch columns from the signers, verify every cell proof, recover), and report a data root's status.

put: the payload is encoded into KZG blobs (zerog/da/encoding.py), its data root paid for with
DAEntrance.submitOriginalData, and each signer of the current epoch is sent its columns of every blob. Each
signer verifies them, stores them and returns a BLS signature over DAEntrance.attestationDigest. The client sums
the signatures and the signers' G2 keys (from the chain) and calls submitVerifiedCommitRoots with the signer
bitmap; the contract checks the rest with one pairing. Signers that are down or refuse are left out as long as
the others hold two thirds of the stake. Putting a payload again is cheap: a root already paid for is not paid
again, and one already verified is returned as it is.

get: any 64 of a blob's 128 columns recover it; columns 0..63 are the payload itself, so with those at hand
nothing needs recovering. Every column is checked against the blob commitments, which are checked against the
data root: a signer cannot make the client accept wrong data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from zerog.chain import connect
from zerog.config import Settings
from zerog.da import altda
from zerog.da.bls import G1, BLSError, aggregate_g1, aggregate_g2, verify
from zerog.da.contracts import QUORUM_ID, DAContracts, EpochSigner, SignerSetView
from zerog.da.encoding import DATA_CELLS_PER_BLOB, Encoded, EncodingError, data_root, decode, encode, verify_columns
from zerog.da.kzg import CELLS_PER_BLOB
from zerog.da.wire import CONTENT_TYPE, ColumnBundle, WireError, bundle
from zerog.errors import TransactionError, ZeroGError

log = logging.getLogger(__name__)

#: Attempts at attesting in a fresh epoch when the epoch changes under a put.
EPOCH_ATTEMPTS = 3
RETRY_SECONDS = 0.2
#: Signer answers that mean "not yet": retried until the timeout.
_RETRY_CODES = frozenset({"unknown_data_root", "chain_unavailable"})

Progress = Callable[[str], None]


class DAError(ZeroGError):
    """A put or get could not complete."""


class BlobTooLargeError(DAError):
    """The payload is over the size limit (nothing was paid)."""


class DataNotFoundError(DAError):
    """Nobody paid for the data root, or no signer holds its cells."""


class SignerError(DAError):
    """A signer refused a request; `code` is its stable error code."""

    def __init__(self, url: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{url}: {message} ({code})")
        self.url = url
        self.status = status
        self.code = code
        self.detail = message


def parse_root(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        root = value
    else:
        try:
            root = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            root = b""
    if len(root) != 32:
        raise DAError(f"not a 32-byte hex data root: {value!r}")
    return root


class SignerClient:
    """HTTP client of one signer."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url = url.rstrip("/")
        self.http = http

    def _error(self, response: httpx.Response) -> SignerError:
        try:
            error = response.json()["error"]
            return SignerError(self.url, response.status_code, error["code"], error["message"])
        except (ValueError, KeyError, TypeError):
            return SignerError(self.url, response.status_code, f"http_{response.status_code}", response.text[:200])

    def put_columns(self, root: bytes, epoch: int, quorum_id: int, body: bytes) -> dict[str, Any]:
        response = self.http.post(
            f"{self.url}/v1/data/0x{root.hex()}/columns",
            params={"epoch": epoch, "quorum": quorum_id},
            content=body,
            headers={"content-type": CONTENT_TYPE},
        )
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def payload(self, root: bytes) -> dict[str, Any] | None:
        response = self.http.get(f"{self.url}/v1/data/0x{root.hex()}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def columns(self, root: bytes, columns: list[int], max_length: int) -> ColumnBundle:
        response = self.http.get(
            f"{self.url}/v1/data/0x{root.hex()}/columns", params={"columns": ",".join(map(str, columns))}
        )
        if response.status_code != 200:
            raise self._error(response)
        return ColumnBundle.decode(response.content, max_length)


@dataclass
class PutResult:
    """A payload made available: its data root, attested in `epoch` by the signers of `signer_bitmap`."""

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


class DAClient:
    """Put and get payloads through the DA contracts and signers of `settings`' network."""

    def __init__(self, settings: Settings, account: LocalAccount | None = None, w3: Web3 | None = None) -> None:
        self.settings = settings
        self.account = account
        self.w3 = w3 or connect(settings.rpc_url)
        self.contracts = DAContracts.from_settings(settings, self.w3)
        self.http = httpx.Client(timeout=httpx.Timeout(settings.da_timeout, connect=5.0))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> DAClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _signer(self, url: str) -> SignerClient:
        return SignerClient(url, self.http)

    # ------------------------------------------------------------ put

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
        if status.verified:
            say("already available")
            return PutResult(
                "0x" + root.hex(), encoded.length, encoded.blobs, status.verified_epoch, QUORUM_ID, 0, 0, 0,
                None, None, already_verified=True,
            )  # fmt: skip
        upload_tx = None
        if not status.uploaded:
            say(f"paying for 0x{root.hex()}")
            upload_tx = self._pay(root)
        failures: dict[int, str] = {}
        for attempt in range(EPOCH_ATTEMPTS):
            view = self.contracts.current_signers()
            if not view.signers:
                raise DAError(f"epoch {view.epoch} has no DA signers: nobody can attest the data")
            say(f"dispersing {encoded.blobs} blobs to {len(view.signers)} signers (epoch {view.epoch})")
            signed, failures = self._disperse(encoded, view)
            if any(f.startswith("epoch_mismatch") for f in failures.values()) and attempt + 1 < EPOCH_ATTEMPTS:
                continue  # the epoch moved on while we dispersed: again, in the new one
            try:
                result = self._submit(root, view, signed, failures, say)
            except _EpochMoved:
                continue
            result.upload_tx = upload_tx
            result.length, result.blobs = encoded.length, encoded.blobs
            return result
        raise DAError(f"the epoch kept changing during {EPOCH_ATTEMPTS} attempts; last failures: {failures}")

    def _pay(self, root: bytes) -> str | None:
        assert self.account is not None
        try:
            receipt = self.contracts.submit_original_data(self.account, [root])
        except TransactionError as exc:
            if exc.reason and exc.reason.startswith("DAEntranceDataRootExists"):
                return None  # paid by someone else meanwhile
            raise
        return receipt["transactionHash"].to_0x_hex()

    def _disperse(self, encoded: Encoded, view: SignerSetView) -> tuple[list[_Signed], dict[int, str]]:
        """Send every signer its columns; its attestation, or why not."""
        root = encoded.root

        def one(signer: EpochSigner) -> _Signed:
            body = bundle(encoded, signer.columns).encode()
            client = self._signer(signer.url)
            deadline = time.monotonic() + self.settings.da_timeout
            while True:
                try:
                    answer = client.put_columns(root, view.epoch, QUORUM_ID, body)
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
        self, root: bytes, view: SignerSetView, signed: list[_Signed], failures: dict[int, str], say: Progress
    ) -> PutResult:
        assert self.account is not None
        total = view.total_stake
        while True:
            stake = sum(s.signer.stake for s in signed)
            if not signed or stake * 3 < total * 2:
                detail = "; ".join(f"signer {i}: {why}" for i, why in sorted(failures.items())) or "no signers"
                raise DAError(
                    f"only {stake} of {total} wei of stake attested 0x{root.hex()} in epoch {view.epoch}, "
                    f"less than two thirds ({detail})"
                )
            bitmap = sum(1 << s.signer.slot for s in signed)
            signature = aggregate_g1(s.signature for s in signed)
            apk2 = aggregate_g2(s.signer.pk2 for s in signed)
            say(f"submitting the aggregate of {len(signed)} signatures")
            try:
                receipt = self.contracts.submit_verified(self.account, root, view.epoch, bitmap, apk2, signature)
            except TransactionError as exc:
                reason = exc.reason or ""
                if reason.startswith(("DAEntranceEpochMismatch", "DAEntranceAttestationExpired")):
                    raise _EpochMoved from exc
                if not reason.startswith("DAEntranceInvalidSignature"):
                    raise
                # Rare: find the signers whose signatures are wrong (one pairing each), drop them, retry.
                digest = self.contracts.attestation_digest(root, view.epoch)
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
                    "0x" + root.hex(), 0, 0, status.verified_epoch, QUORUM_ID, 0, 0, total, None, None,
                    already_verified=True, failures=failures,
                )  # fmt: skip
            return PutResult(
                "0x" + root.hex(), 0, 0, view.epoch, QUORUM_ID, bitmap, stake, total, None,
                receipt["transactionHash"].to_0x_hex(), failures=failures,
            )  # fmt: skip

    # ------------------------------------------------------------ get

    def _signers_to_ask(self) -> list[EpochSigner]:
        """The current and next epochs' signers, one per URL."""
        seen, out = set(), []
        for view in (self.contracts.current_signers(), self.contracts.next_signers()):
            for signer in view.signers:
                if signer.url not in seen:
                    seen.add(signer.url)
                    out.append(signer)
        return out

    def _inventories(self, root: bytes) -> dict[str, dict[str, Any] | str]:
        """Per signer URL: its payload description (checked against the root), or why it has none."""
        signers = self._signers_to_ask()

        def one(signer: EpochSigner) -> dict[str, Any] | str:
            try:
                found = self._signer(signer.url).payload(root)
            except (SignerError, httpx.HTTPError) as exc:
                return f"unreachable: {exc}"
            if found is None:
                return "stores nothing of it"
            try:
                commitments = [bytes.fromhex(c.removeprefix("0x")) for c in found["commitments"]]
                if data_root(int(found["length"]), commitments) != root:
                    return "its commitments do not match the data root"
            except (KeyError, ValueError, EncodingError) as exc:
                return f"malformed description: {exc}"
            return {**found, "commitmentBytes": commitments}

        with ThreadPoolExecutor(max(1, len(signers))) as pool:
            answers = list(pool.map(one, signers))
        return {s.url: a for s, a in zip(signers, answers, strict=True)}

    def get(self, root_value: str | bytes, progress: Progress | None = None) -> bytes:
        """The payload of a data root, every cell verified; recovered if some columns are missing."""
        say = progress or (lambda _: None)
        root = parse_root(root_value)
        if not self.contracts.status(root).uploaded:
            raise DataNotFoundError(f"data root 0x{root.hex()} is unknown: nobody paid for it")
        inventories = self._inventories(root)
        holders: dict[int, list[str]] = {}
        described = None
        for url, found in inventories.items():
            if isinstance(found, dict):
                described = described or found
                for column in found["columns"]:
                    holders.setdefault(int(column), []).append(url)
        if described is None:
            reasons = "; ".join(f"{url}: {why}" for url, why in inventories.items())
            raise DataNotFoundError(f"no signer serves 0x{root.hex()} ({reasons})")
        length, commitments = int(described["length"]), described["commitmentBytes"]
        verified: dict[int, bytes] = {}
        refused: set[tuple[int, str]] = set()
        while len(verified) < DATA_CELLS_PER_BLOB:
            plan = self._plan(holders, verified, refused)
            if not plan:
                break
            say(f"fetching {sum(len(c) for c in plan.values())} columns from {len(plan)} signers")
            with ThreadPoolExecutor(len(plan)) as pool:
                fetched = list(pool.map(lambda item: self._fetch(root, item[0], item[1]), plan.items()))
            for (url, wanted), got in zip(plan.items(), fetched, strict=True):
                if isinstance(got, str):
                    log.warning("%s: %s", url, got)
                    refused.update((c, url) for c in wanted)
                    continue
                if got.length != length or got.commitments != commitments:
                    log.warning("%s served columns of another payload", url)
                    refused.update((c, url) for c in wanted)
                    continue
                served = {c: d for c, d in got.columns.items() if c in wanted}
                bad = set(verify_columns(commitments, served))
                for column in wanted:
                    if column in served and column not in bad:
                        verified[column] = served[column]
                    else:
                        refused.add((column, url))
                if bad:
                    log.warning("%s served columns %s whose proofs fail: ignored", url, sorted(bad))
        if len(verified) < DATA_CELLS_PER_BLOB:
            raise DataNotFoundError(
                f"only {len(verified)} of the {DATA_CELLS_PER_BLOB} columns needed to recover 0x{root.hex()} "
                f"could be fetched and verified ({len(holders)} of {CELLS_PER_BLOB} are on reachable signers)"
            )
        say("decoding" if all(c in verified for c in range(DATA_CELLS_PER_BLOB)) else "recovering missing columns")
        return decode(length, commitments, verified)

    @staticmethod
    def _plan(
        holders: dict[int, list[str]], verified: dict[int, bytes], refused: set[tuple[int, str]]
    ) -> dict[str, list[int]]:
        """Which columns to fetch from whom next: the data columns 0..63 first (no recovery needed), then any
        others, each from a holder not refused yet, spreading the load."""
        need = DATA_CELLS_PER_BLOB - len(verified)
        load: dict[str, list[int]] = {}
        for column in sorted(holders, key=lambda c: (c >= DATA_CELLS_PER_BLOB, c)):
            if need == 0:
                break
            if column in verified:
                continue
            options = [url for url in holders[column] if (column, url) not in refused]
            if not options:
                continue
            url = min(options, key=lambda u: len(load.get(u, [])))
            load.setdefault(url, []).append(column)
            need -= 1
        return load

    def _fetch(self, root: bytes, url: str, columns: list[int]) -> ColumnBundle | str:
        try:
            return self._signer(url).columns(root, columns, self.settings.da_max_blob_size)
        except (SignerError, httpx.HTTPError, WireError) as exc:
            return f"cannot fetch columns {columns}: {exc}"

    # ------------------------------------------------------------ status

    def status(self, root_value: str | bytes) -> dict[str, Any]:
        """What the chain and each signer know of a data root, and whether it can be recovered now."""
        root = parse_root(root_value)
        status = self.contracts.status(root)
        view = self.contracts.current_signers()
        inventories = self._inventories(root) if status.uploaded else {}
        columns: set[int] = set()
        signers = []
        for signer in view.signers:
            found = inventories.get(signer.url, "not asked")
            held = [int(c) for c in found["columns"]] if isinstance(found, dict) else []
            columns.update(held)
            signers.append(
                {
                    "slot": signer.slot,
                    "account": signer.account,
                    "url": signer.url,
                    "stake": str(signer.stake),
                    "assignedColumns": [signer.columns.start, signer.columns.stop - 1] if signer.columns else [],
                    "storedColumns": len(held),
                    "problem": None if isinstance(found, dict) else found,
                }
            )
        return {
            "dataRoot": "0x" + root.hex(),
            "uploaded": status.uploaded,
            "uploader": status.uploader,
            "uploadEpoch": status.upload_epoch if status.uploaded else None,
            "verified": status.verified,
            "verifiedEpoch": status.verified_epoch if status.verified else None,
            "epoch": view.epoch,
            "signers": signers,
            "columnsAvailable": len(columns),
            "recoverable": len(columns) >= DATA_CELLS_PER_BLOB,
        }


class _EpochMoved(Exception):
    """The contract is in a later epoch than the signatures: disperse again."""
