"""Getting a payload back from DA (retrieval), and what the chain and the signers know of a data root.

get: any 64 of a blob's 128 columns recover it; columns 0..63 are the payload itself, so with those at hand
nothing needs recovering. Only the signers of the blob's quorum hold its columns: those are asked (all signers
when the attesting epoch's set can no longer be read). A root past its retention is refused up front
(DataExpiredError, naming the expiry epoch). Every column is checked against the blob commitments, which are
checked against the data root: a signer cannot make the client accept wrong data.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from zerog.da.connection import DAConnection, Progress
from zerog.da.contracts import DataRootStatus, EpochSigner
from zerog.da.encoding import DATA_CELLS_PER_BLOB, EncodingError, data_root, decode, verify_columns
from zerog.da.errors import DAError, DataExpiredError, DataNotFoundError, SignerError
from zerog.da.kzg import CELLS_PER_BLOB
from zerog.da.wire import ColumnBundle, WireError

log = logging.getLogger(__name__)


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


class Retriever(DAConnection):
    """Gets payloads (every cell verified, recovered if columns are missing) and reports a data root's status."""

    def _signers_to_ask(self, status: DataRootStatus | None = None) -> list[EpochSigner]:
        """The signers of the root's quorum in the epoch that attested it, if that set can still be read; else the
        current and next epochs' signers. One per URL."""
        views = []
        if status is not None and status.verified:
            try:
                views = [self.contracts.signers_at(status.verified_epoch).quorum(status.quorum_id)]
            except Exception:  # an epoch the registry no longer keeps: ask everyone
                views = []
        if not views:
            views = [self.contracts.current_signers(), self.contracts.next_signers()]
        seen, out = set(), []
        for view in views:
            for signer in view.signers:
                if signer.url not in seen:
                    seen.add(signer.url)
                    out.append(signer)
        return out

    def _inventories(
        self, root: bytes, status: DataRootStatus | None = None, signers: list[EpochSigner] | None = None
    ) -> dict[str, dict[str, Any] | str]:
        """Per signer URL: its payload description (checked against the root), or why it has none."""
        signers = self._signers_to_ask(status) if signers is None else signers

        def one(signer: EpochSigner) -> dict[str, Any] | str:
            try:
                found = self._signer(signer.url).payload(root)
            except SignerError as exc:
                return "expired" if exc.code == "expired" else f"refused: {exc}"
            except httpx.HTTPError as exc:
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
        status = self.contracts.status(root)
        if not status.uploaded:
            raise DataNotFoundError(f"data root 0x{root.hex()} is unknown: nobody paid for it")
        if status.expired:
            raise DataExpiredError(root, status.expiry_epoch)
        inventories = self._inventories(root, status)
        holders: dict[int, list[str]] = {}
        described = None
        for url, found in inventories.items():
            if isinstance(found, dict):
                described = described or found
                for column in found["columns"]:
                    holders.setdefault(int(column), []).append(url)
        if described is None:
            if any(found == "expired" for found in inventories.values()):
                raise DataExpiredError(root, status.expiry_epoch)
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
        quorum = view.quorum(view.quorum_of(status.quorum_id)) if status.uploaded else view
        inventories = self._inventories(root, signers=quorum.signers) if status.uploaded else {}
        columns: set[int] = set()
        signers = []
        for signer in quorum.signers:
            found = inventories.get(signer.url, "not asked")
            held = [int(c) for c in found["columns"]] if isinstance(found, dict) else []
            columns.update(held)
            signers.append(
                {
                    "slot": signer.slot,
                    "quorumId": signer.quorum_id,
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
            "quorumId": status.quorum_id if status.uploaded else None,
            "quorumCount": view.quorum_count,
            "blobs": status.blobs if status.uploaded else None,
            "fee": str(status.fee) if status.uploaded else None,
            "expiryEpoch": status.expiry_epoch if status.uploaded else None,
            "expired": status.expired,
            "expiresInSeconds": self._seconds_until(status.expiry_epoch) if status.uploaded else None,
            "epoch": view.epoch,
            "signers": signers,
            "columnsAvailable": len(columns),
            "recoverable": len(columns) >= DATA_CELLS_PER_BLOB,
        }

    def _seconds_until(self, epoch: int) -> float | None:
        """Estimated seconds until `epoch` starts, at the chain's average block time so far (None if past or
        unknown)."""
        try:
            genesis = self.contracts.epoch_start_block(0)
            head = self.w3.eth.get_block("latest")
            if head["number"] <= genesis:
                return None
            first = self.w3.eth.get_block(genesis)
            per_block = (head["timestamp"] - first["timestamp"]) / (head["number"] - genesis)
        except Exception:  # an estimate only: nothing to say without the chain
            return None
        remaining = self.contracts.epoch_start_block(epoch) - head["number"]
        return remaining * per_block if remaining > 0 else None
