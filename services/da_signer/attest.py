"""Accepting cells and attesting: check a column bundle against the paid data root (its length, its quorum, its
retention) and this signer's columns of the epoch (the current one, or the previous one during DAEntrance's grace
window), batch-verify every cell proof, store the columns durably, then sign
DAEntrance.attestationDigest(dataRoot, epoch, quorumId). A signer takes only the blobs of its own quorum. Nothing
is stored or signed unless every check passes, and every refusal says why."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from services.common.errors import ApiError
from services.da_signer.runtime import SignerRuntime
from services.da_signer.store import Upload
from zerog.da.contracts import EpochNotAttestableError
from zerog.da.encoding import EncodingError, verify_columns
from zerog.da.wire import ColumnBundle, WireError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attestation:
    data_root: str
    epoch: int
    quorum_id: int
    slot: int
    account: str
    signature: list[str]
    columns: list[int]


def _chain_unavailable(exc: Exception) -> ApiError:
    log.warning("chain unreachable while attesting: %s", exc)
    return ApiError(503, "chain_unavailable", "the signer cannot reach its chain node right now; try again later")


def expired_error(data_root: bytes, upload: Upload) -> ApiError:
    return ApiError(
        410,
        "expired",
        f"the retention of 0x{data_root.hex()} ended at epoch {upload.expiry_epoch} (uploaded in epoch "
        f"{upload.epoch}): its cells are deleted; pay for it again to make it available",
    )


def require_paid(runtime: SignerRuntime, data_root: bytes) -> Upload:
    """Refuses (409) a data root nobody paid for: checked before its cells are even read."""
    upload = runtime.store.upload(data_root)
    if upload is None:
        raise ApiError(
            409,
            "unknown_data_root",
            f"no DataUpload of 0x{data_root.hex()} seen (synced through block {runtime.follower.sync_height}): "
            "pay with DAEntrance.submitOriginalData first, or retry once the signer has synced",
        )
    return upload


def accept(runtime: SignerRuntime, data_root: bytes, epoch: int, quorum_id: int, body: bytes) -> Attestation:
    """Verifies and stores the columns in `body` of `data_root` (paid for: `require_paid`) and attests them."""
    root = "0x" + data_root.hex()
    upload = require_paid(runtime, data_root)
    if epoch >= upload.expiry_epoch:
        raise expired_error(data_root, upload)
    try:
        bundle = ColumnBundle.decode(body, runtime.settings.da_max_blob_size)
        bundle_root = bundle.root
    except (WireError, EncodingError) as exc:
        raise ApiError(400, "invalid_bundle", f"not a valid column bundle: {exc}") from exc
    if bundle_root != data_root:
        raise ApiError(
            400,
            "root_mismatch",
            f"the bundle's length and commitments hash to 0x{bundle_root.hex()}, not to the data root {root}",
        )
    if bundle.length != upload.length:
        raise ApiError(
            400, "length_mismatch", f"{root} was paid for as {upload.length} bytes, the bundle holds {bundle.length}"
        )
    store = runtime.store
    try:
        # The current epoch, or the previous one while DAEntrance still accepts it (a put at an epoch change).
        signer_set = runtime.contracts.attesting_signers(epoch)
    except EpochNotAttestableError as exc:
        raise ApiError(409, "epoch_mismatch", exc.message) from exc
    except Exception as exc:  # transport errors of every kind
        raise _chain_unavailable(exc) from exc
    me = signer_set.by_account(runtime.account.address)
    if me is None:
        raise ApiError(
            409, "not_a_member", f"signer {runtime.account.address} is not a member of epoch {signer_set.epoch}"
        )
    expected = signer_set.quorum_of(upload.quorum_id)
    if quorum_id != expected:
        raise ApiError(
            400, "wrong_quorum", f"{root} belongs to quorum {expected} in epoch {signer_set.epoch}, not {quorum_id}"
        )
    if me.quorum_id != expected:
        raise ApiError(
            409,
            "not_in_quorum",
            f"{root} belongs to quorum {expected} in epoch {signer_set.epoch}; signer {me.slot} is in quorum "
            f"{me.quorum_id}: send it to quorum {expected}'s signers",
        )
    assigned = set(me.columns)
    extra = sorted(set(bundle.columns) - assigned)
    if extra:
        raise ApiError(
            400,
            "columns_not_assigned",
            f"columns {extra} are not assigned to signer {me.slot} in epoch {epoch} "
            f"(its columns are {me.columns.start}..{me.columns.stop - 1})",
        )
    payload = store.payload(data_root)
    held = set(payload.columns) if payload else set()
    missing = sorted(assigned - held - set(bundle.columns))
    if missing:
        raise ApiError(400, "missing_columns", f"columns {missing} of signer {me.slot} are neither sent nor stored")
    bad = verify_columns(bundle.commitments, bundle.columns)
    if bad:
        log.warning("refused %s: the proofs of columns %s do not verify", root, bad)
        raise ApiError(
            422,
            "invalid_proofs",
            f"the cells of columns {bad} do not prove against the blob commitments: nothing stored, nothing signed",
        )
    if bundle.columns:
        store.write_columns(data_root, bundle.length, bundle.commitments, bundle.columns)
    digest = runtime.contracts.attestation_digest(data_root, epoch, quorum_id)
    signature = runtime.keys.sign(digest).to_json()
    columns = sorted(assigned)
    store.record_attestation(data_root, epoch, json.dumps(signature), columns)
    log.info("attested %s for epoch %d: %d columns (%d new)", root, epoch, len(columns), len(bundle.columns))
    return Attestation(root, epoch, quorum_id, me.slot, runtime.account.address, signature, columns)
