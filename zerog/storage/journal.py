"""Pay exactly once: a retried upload never pays for a submission again (the official client's most reported
bug).

Before paying for a file the client looks for a submission of it that the same submitter already paid for:

* on chain, a `Submit` log of that submitter with the file's identity (keccak256 of its submission node roots,
  the Flow's `digest`), so another machine or a lost journal still finds it;
* in the journal, a transaction sent but perhaps never seen mined (a crash or a timeout before the receipt):
  one small file per root in the data dir, written as soon as the transaction is out. A journaled transaction
  still pending is waited for; one that reverted, or that the chain dropped, is forgotten and the file is paid.

An encrypted file is a new stream each time (a fresh nonce and v2 ephemeral key), so the journal also keeps the
randomness of an encrypted upload until it is finalized: a retry makes the same stream, hence the same root, and
the checks above find its payment.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import keccak
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD

from zerog.chain import Deployment
from zerog.storage.contracts import FLOW, flow_contract
from zerog.storage.encryption import Encryptor

JOURNAL_DIR = "storage-submissions"
#: How long a journaled transaction still pending is waited for before the upload gives up.
PENDING_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class SentSubmission:
    tx_hash: str
    submitter: str


class SubmitJournal:
    """Sent submission transactions by root, and unfinished encrypted uploads' randomness: one JSON file each
    (written atomically)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def in_data_dir(cls, data_dir: Path, deployment: Deployment) -> SubmitJournal:
        """One journal per Flow deployment: a root paid on another chain is not paid here."""
        return cls(data_dir / JOURNAL_DIR / f"{deployment.chain_id}-{deployment.address(FLOW).lower()}")

    def _path(self, root: str) -> Path:
        return self.directory / f"{root.lower()}.json"

    def get(self, root: str) -> SentSubmission | None:
        try:
            return SentSubmission(**json.loads(self._path(root).read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def record(self, roots: Iterable[str], sent: SentSubmission) -> None:
        for root in roots:
            self._write(self._path(root), asdict(sent))

    def forget(self, root: str) -> None:
        self._path(root).unlink(missing_ok=True)

    def _encryption_path(self, upload_id: str) -> Path:
        return self.directory / f"encryption-{upload_id}.json"

    def encryption(self, upload_id: str, fresh: Encryptor) -> Encryptor:
        """The encryption an earlier attempt at this upload (`encrypted_upload_id`) used, if one is on record;
        else `fresh`, recorded now, before anything is paid.

        v2 keeps its ephemeral secret here (it decrypts this one file) in a file only the user can read, as a
        keystore, until `forget_encryption`. We store it rather than derive it from the submitter's key: a
        derived one would give equal files sent to one recipient equal roots, telling anyone they are equal."""
        path = self._encryption_path(upload_id)
        try:
            saved = json.loads(path.read_text())
            secret = saved.get("ephemeralSecret")
            return fresh.again(bytes.fromhex(saved["nonce"]), bytes.fromhex(secret) if secret else None)
        except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
            pass  # none, or unreadable: this is a new upload
        record = {"nonce": fresh.header.nonce.hex()}
        if fresh.ephemeral_secret is not None:
            record["ephemeralSecret"] = fresh.ephemeral_secret.hex()
        self._write(path, record)
        return fresh

    def forget_encryption(self, upload_id: str) -> None:
        self._encryption_path(upload_id).unlink(missing_ok=True)

    def _write(self, path: Path, entry: dict[str, str]) -> None:
        """Atomically, readable by the user only (an encryption entry may hold a secret)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # a leftover would keep its mode
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            json.dump(entry, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def encrypted_upload_id(encryption: Encryptor, content_digest: bytes, submitter: str) -> str:
    """Names an encrypted upload: this plaintext (its SHA-256), for this symmetric key or recipient, paid by this
    submitter (a journal is already one chain's Flow). A different key or recipient is another file."""
    parts = [bytes([encryption.header.version]), encryption.target, content_digest, bytes.fromhex(submitter[2:])]
    return hashlib.sha256(b"".join(parts)).hexdigest()


def identity(node_roots: Iterable[bytes]) -> bytes:
    """The Flow's `Submit` identity topic: keccak256 of the submission's node roots, packed."""
    return keccak(b"".join(node_roots))


def find_paid(
    w3: Web3,
    deployment: Deployment,
    submitter: str,
    root: str,
    node_roots: list[bytes],
    journal: SubmitJournal | None,
    timeout: float = PENDING_TIMEOUT_SECONDS,
) -> int | None:
    """The seq of a submission of this file that `submitter` already paid for (mined, or pending and then
    mined), else None."""
    flow = flow_contract(w3, deployment)
    digest = identity(node_roots)
    logs = flow.events.Submit().get_logs(
        from_block=int(deployment.record(FLOW).get("deployBlock", 0)),
        argument_filters={"sender": submitter, "identity": digest},
    )
    if logs:
        return int(logs[0]["args"]["submissionIndex"])
    if journal is None or (sent := journal.get(root)) is None or sent.submitter.lower() != submitter.lower():
        return None
    try:
        w3.eth.get_transaction(sent.tx_hash)  # mined or pending: its receipt comes
    except TransactionNotFound:
        journal.forget(root)
        return None
    receipt = w3.eth.wait_for_transaction_receipt(sent.tx_hash, timeout=timeout, poll_latency=0.2)
    events = flow.events.Submit().process_receipt(receipt, errors=DISCARD) if receipt["status"] == 1 else []
    seq = next((int(e["args"]["submissionIndex"]) for e in events if bytes(e["args"]["identity"]) == digest), None)
    if seq is None:  # reverted
        journal.forget(root)
    return seq
