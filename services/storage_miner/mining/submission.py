"""Sending answers. The submitter thread takes each nonce the search found, builds its answer's proof from the node's
data, checks it (context still current, epoch not full, proof leads to the flow root, quality meets the target) and
sends it. Answers found or sent before a restart are settled by asking the contract.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.data import DataMissingError, Prover
from services.storage_miner.mining.state import ACCEPTED, FAILED, FOUND, REJECTED, SENT, AnswerRow, MinerState
from zerog.chain import ErrorDecoder, send_transaction
from zerog.errors import TransactionError
from zerog.storage.client import CONTEXT_GAS_RESERVE
from zerog.storage.pora import MineRange, MiningContext

log = logging.getLogger(__name__)

#: Reverts that only mean an answer came too late (the epoch ended or filled up between check and send).
RACES = ("MineStaleContext", "MineEpochFull")


@dataclass(frozen=True)
class Found:
    """A nonce whose answer meets the target, waiting for the submitter."""

    answer_id: int
    context: MiningContext
    prover: Prover
    mine_range: MineRange
    nonce: int


class Submitter:
    """Sends the answers queued in `inbox` (its thread: `run`, until `stop` is set) over `submit_w3`; `w3` and `mine`
    are the miner's reads."""

    def __init__(
        self,
        config: MinerConfig,
        state: MinerState,
        w3: Web3,
        submit_w3: Web3,
        decoder: ErrorDecoder,
        mine: Contract,
        reward: Contract,
        inbox: queue.Queue[Found],
        stop: threading.Event,
    ) -> None:
        self.config = config
        self.state = state
        self.w3 = w3
        self.submit_w3 = submit_w3
        self.decoder = decoder
        self.mine = mine
        self.reward = reward
        self._queue = inbox
        self._stop = stop
        self._submit_mine = submit_w3.eth.contract(address=config.mine_address, abi=config.mine_abi)
        self._submit_flow = submit_w3.eth.contract(address=config.flow_address, abi=config.flow_abi)
        #: Answers an epoch takes (set when the miner registers).
        self.target_answers = 0
        # Answers a previous run had sent whose transaction may still be in the chain's mempool.
        self._orphans: list[AnswerRow] = []

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                found = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.submit(found)
            except Exception as exc:  # never lose the thread; the answer is marked failed
                log.exception("submitting answer %d failed", found.answer_id)
                self.state.update_answer(found.answer_id, FAILED, error=f"{type(exc).__name__}: {exc}")

    def submit(self, found: Found) -> None:
        state = self.state
        mine = self._submit_mine
        context = found.context
        current = MiningContext.from_call(self._submit_flow.functions.getContext().call())
        if current.digest != context.digest or self._submit_flow.functions.epoch().call() > context.epoch:
            state.update_answer(found.answer_id, FAILED, error=f"stale: epoch {current.epoch} began before it was sent")
            return
        epoch, answers = mine.functions.epochAnswers().call()
        if epoch == context.epoch and answers >= self.target_answers:
            state.update_answer(found.answer_id, FAILED, error=f"epoch {epoch} got its answers first")
            return
        try:
            answer = found.prover.answer(context, self.config.miner_id, found.nonce, found.mine_range)
        except (DataMissingError, ValueError) as exc:
            state.update_answer(found.answer_id, FAILED, error=f"cannot prove it: {exc}")
            log.warning("answer for nonce %d dropped: %s", found.nonce, exc)
            return
        target = found.mine_range.target(mine.functions.target().call())
        if answer.quality > target:
            state.update_answer(found.answer_id, FAILED, error="quality above the current target")
            return
        state.update_answer(found.answer_id, SENT)
        try:
            receipt = send_transaction(
                self.submit_w3,
                self.config.account,
                mine.functions.submit(answer.to_abi()),
                decoder=self.decoder,
                gas_reserve=CONTEXT_GAS_RESERVE,
            )
        except TransactionError as exc:
            reason = exc.reason or exc.message
            if exc.tx_hash is None and reason.startswith(RACES):  # lost a race at the epoch's end: not sent
                state.update_answer(found.answer_id, FAILED, error=f"too late: {reason}")
                log.info("answer for nonce %d too late: %s", found.nonce, reason)
            else:
                state.update_answer(found.answer_id, REJECTED, error=reason, tx_hash=exc.tx_hash)
                log.warning("answer for nonce %d rejected: %s", found.nonce, reason)
            return
        reward = 0
        for event in self.reward.events.RewardDistributed().process_receipt(receipt, errors=DISCARD):
            if bytes(event["args"]["minerId"]) == self.config.miner_id:
                reward += int(event["args"]["amount"])
        state.update_answer(
            found.answer_id,
            ACCEPTED,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            reward=str(reward),
        )
        log.info(
            "answer accepted: epoch %d nonce %d sector %d, reward %d wei, gas %d",
            context.epoch, found.nonce, answer.recall_position, reward, receipt["gasUsed"],
        )  # fmt: skip

    def settle_previous_answers_safely(self) -> None:
        try:
            self._settle_previous_answers()
        except Exception:
            log.exception("could not settle the answers of the previous run")

    def _settle_previous_answers(self) -> None:
        """Answers found or sent before a restart: accepted if the contract has them; found and never sent: failed;
        sent: their transaction may still land (it waits in the chain's mempool), rechecked by `recheck_orphans`."""
        for row in self.state.answers_in(FOUND, SENT):
            done = self.mine.functions.isAnswered(row.epoch, self.config.miner_id, row.nonce).call()
            if done:
                self.state.update_answer(row.id, ACCEPTED)
            elif row.status == SENT:
                self._orphans.append(row)
            else:
                self.state.update_answer(row.id, FAILED, error="not sent before the miner stopped")

    def recheck_orphans(self, context: MiningContext) -> None:
        """Answers sent by a previous run: accepted once the contract has them; failed once their epoch is over and
        nothing of ours waits in the mempool any more (until then they count as pending for their epoch)."""
        if not self._orphans:
            return
        owner = self.config.account.address
        idle = self.w3.eth.get_transaction_count(owner, "pending") <= self.w3.eth.get_transaction_count(owner)
        left = []
        for row in self._orphans:
            if self.mine.functions.isAnswered(row.epoch, self.config.miner_id, row.nonce).call():
                self.state.update_answer(row.id, ACCEPTED)
                log.info("answer of the previous run accepted: epoch %d nonce %d", row.epoch, row.nonce)
            elif idle and context.epoch > row.epoch:
                self.state.update_answer(row.id, FAILED, error="sent before the miner stopped; never landed")
            else:
                left.append(row)
        self._orphans = left
