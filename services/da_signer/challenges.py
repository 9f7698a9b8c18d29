"""Answers the sampling challenges of this signer (DAChallenges) on its own: a follower records every
`ChallengeCreated` naming the signer's account in the store, and a worker answers each open one with the cell and
proof of its store and the blob commitment's merkle path, the signer's account paying the gas.

Crash-safe: the challenge row is written with the follower's cursor, and the respond transaction's hash before its
receipt, so after a restart the worker looks at the chain first: an answer already mined closes the row, one never
mined is sent again while the deadline holds. It never answers twice: it sends only while the contract says the
challenge is open (a second answer would revert anyway, DAChallengesNotOpen)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import EventData

from services.common.follower import DaemonFollower
from services.da_signer.store import CHALLENGE_PENDING, ChallengeRow, SignerStore
from zerog.da.challenges import ChallengeContract, ChallengeStatus, build_answer
from zerog.da.encoding import EncodingError, split_column
from zerog.errors import ZeroGError

log = logging.getLogger(__name__)

FOLLOWER_NAME = "da-challenges"


class ChallengeFollower(DaemonFollower):
    """ChallengeCreated logs naming this signer into the store."""

    def __init__(
        self, w3: Web3, challenges: ChallengeContract, account: str, store: SignerStore, *, confirmations: int,
        poll_interval: float, resync: bool = False, after_poll: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.account = to_checksum_address(account)
        contract = w3.eth.contract(address=challenges.address, abi=challenges.contract.abi)
        super().__init__(
            w3, store, FOLLOWER_NAME, [contract.events.ChallengeCreated], self._handle, store.rollback_challenges,
            start_block=challenges.deploy_block, confirmations=confirmations, poll_interval=poll_interval,
            resync=resync, after_poll=after_poll,
        )  # fmt: skip

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        if to_checksum_address(args["signer"]) != self.account:
            return
        root = "0x" + bytes(args["dataRoot"]).hex()
        self.store.add_challenge(
            conn, int(args["id"]), root, int(args["blobIndex"]), int(args["column"]), int(args["deadline"]),
            int(event["blockNumber"]),
        )  # fmt: skip
        log.warning("challenge %d: cell %d of blob %d of %s, answer by block %d", args["id"], args["column"],
                    args["blobIndex"], root, args["deadline"])  # fmt: skip


class ChallengeResponder:
    """Answers the store's open challenges, one pass per poll of the follower (and once at start)."""

    def __init__(self, challenges: ChallengeContract, account: LocalAccount, store: SignerStore) -> None:
        self.challenges = challenges
        self.account = account
        self.store = store
        self._lock = threading.Lock()

    def run_once(self) -> None:
        """Act on every pending challenge; errors are logged and retried next pass."""
        if not self._lock.acquire(blocking=False):
            return  # a pass is already running (the follower thread and start may overlap)
        try:
            for row in self.store.challenges(CHALLENGE_PENDING):
                try:
                    self._handle(row)
                except Exception:  # the chain away, a failed send: next pass
                    log.warning("challenge %d: answering failed; retrying", row.id, exc_info=True)
        finally:
            self._lock.release()

    def _handle(self, row: ChallengeRow) -> None:
        current = self.challenges.get(row.id)
        if current.status == ChallengeStatus.ANSWERED:
            self.store.set_challenge_state(row.id, "answered")
            return
        if current.status == ChallengeStatus.CLAIMED:
            log.error("challenge %d went unanswered and was claimed: stake slashed", row.id)
            self.store.set_challenge_state(row.id, "claimed")
            return
        if self.challenges.w3.eth.block_number >= row.deadline:
            return  # too late to answer (the next block is past the deadline): wait for the claim
        answer = self._answer(row)
        if answer is None:
            if row.state == "missing":
                return
            log.error("challenge %d: cell %d of blob %d of %s is not in the store: cannot answer", row.id,
                      row.column, row.blob_index, row.data_root)  # fmt: skip
            self.store.set_challenge_state(row.id, "missing")
            return
        receipt = self.challenges.respond(
            self.account, row.id, answer, on_sent=lambda tx: self.store.set_challenge_state(row.id, "sent", tx)
        )
        self.store.set_challenge_state(row.id, "answered", receipt["transactionHash"].to_0x_hex())
        log.info("challenge %d answered in block %d (%d gas)", row.id, receipt["blockNumber"], receipt["gasUsed"])

    def _answer(self, row: ChallengeRow) -> tuple | None:
        root = bytes.fromhex(row.data_root.removeprefix("0x"))
        payload = self.store.payload(root)
        if payload is None:
            return None
        data = self.store.read_columns(root, [row.column]).get(row.column)
        if data is None:
            return None
        try:
            cells, proofs = split_column(data, len(payload.commitments))
            return build_answer(
                cells[row.blob_index], proofs[row.blob_index], payload.commitments, payload.length, row.blob_index
            )
        except (EncodingError, IndexError, ZeroGError):
            return None
