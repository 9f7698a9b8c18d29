"""The miner: a thread of the storage node that mines PoRA answers with the node's data.

Each step of its loop:
1. follows the reward pool's RewardDistributed/Withdrawn logs for its miner id and beneficiary (EventFollower);
2. registers its miner id once (and sets the configured beneficiary);
3. reads the Flow's context, and makes the context of a new epoch (`makeContext`) when nobody did yet;
4. brings its sealed copy in line with the node store: seals new segments, drops segments the node lost;
5. builds the search plan of the context (after checking that the node's synced submissions rebuild the
   context's flow root, i.e. the log sync has caught up);
6. keeps the worker processes busy with nonce ranges for about a second, queueing every nonce whose answer
   meets the target for the submitter thread, until the epoch has its answers;
7. now and then reads the beneficiary's credited balance and, if configured, withdraws it.

The submitter thread builds each answer's proof from the node's data, checks it (context still current, epoch not
full, proof leads to the flow root, quality meets the target) and sends it. All progress is in MinerState, so a
restart resumes: nothing is sealed twice, the search continues after the last nonce handed out, and answers sent
before the restart are settled by asking the contract.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
from web3 import Web3
from web3.exceptions import ProviderConnectionError
from web3.logs import DISCARD

from services.storage_miner.flow import ShardConfig
from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.data import (
    DataMissingError,
    NodeData,
    Prover,
    StoredTx,
    best_range_start,
    flow_index,
    plan_spans,
)
from services.storage_miner.mining.sealed import SealedFile
from services.storage_miner.mining.search import EMPTY, HELD, MISSING, Plan, SearchResult, init_worker, search
from services.storage_miner.mining.state import ACCEPTED, FAILED, FOUND, REJECTED, SENT, AnswerRow, MinerState
from services.storage_miner.store import NodeStore
from zerog.chain import ErrorDecoder, send_transaction
from zerog.errors import TransactionError
from zerog.follower import EventFollower, FollowerStoppedError
from zerog.storage.client import CONTEXT_GAS_RESERVE
from zerog.storage.pora import MineRange, MiningContext, MiningRangeError, seed_prefix

log = logging.getLogger(__name__)

FOLLOWER_NAME = "mining-rewards"
#: Nonces per task: about a tenth of a second of one worker.
TASK_NONCES = 4 * 8192
#: Seconds of searching per loop step (then the context, the data and the epoch are checked again).
ROUND_SECONDS = 1.0
#: Segments sealed per loop step (a segment takes a few milliseconds).
SEAL_PER_STEP = 64
#: Seconds between checks that the node still has the segment files the sealed copy mirrors.
PRESENCE_SECONDS = 2.0
#: Seconds between reads of the beneficiary's credited balance.
BALANCE_SECONDS = 5.0
#: Seconds of search results the reported hash rate averages over.
RATE_WINDOW_SECONDS = 10.0
JOIN_TIMEOUT_SECONDS = 15
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


class Miner:
    """Started and stopped by the node runtime (`start()` / `stop()`); `status()` is what GET /mining shows."""

    def __init__(self, config: MinerConfig, store: NodeStore, w3: Web3, submit_w3: Web3, decoder: ErrorDecoder):
        self.config = config
        self.w3 = w3
        self.submit_w3 = submit_w3
        self.decoder = decoder
        self.data = NodeData(store)
        self.shard = ShardConfig(config.shard_id, config.num_shard)
        self.mine = w3.eth.contract(address=config.mine_address, abi=config.mine_abi)
        self.flow = w3.eth.contract(address=config.flow_address, abi=config.flow_abi)
        self.reward = w3.eth.contract(address=config.reward_address, abi=config.reward_abi)
        self._submit_mine = submit_w3.eth.contract(address=config.mine_address, abi=config.mine_abi)
        self._submit_flow = submit_w3.eth.contract(address=config.flow_address, abi=config.flow_abi)
        self.state: MinerState | None = None
        self.sealed: SealedFile | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue: queue.Queue[Found] = queue.Queue()
        self._lock = threading.Lock()
        # Caches of the loop (its thread only).
        self._registered = False
        self._target_answers = 0
        self._max_mining_length = 0
        self._range_alignment = 0
        self._fingerprint: tuple[int, ...] | None = None
        self._presence_checked = 0.0
        self._txs: list[StoredTx] = []
        self._data_version = 0
        self._to_seal: list[tuple[StoredTx, int]] = []
        self._plan: Plan | None = None
        self._plan_key: tuple[Any, ...] | None = None
        self._prover: Prover | None = None
        self._next_nonce = 0
        self._inflight: dict[Future[SearchResult], tuple[int, bytes]] = {}
        # (when, hashed, tried, seconds) of recent search results.
        self._rates: deque[tuple[float, int, int, float]] = deque()
        self._balance_read = 0.0
        # Answers a previous run had sent whose transaction may still be in the chain's mempool.
        self._orphans: list[AnswerRow] = []
        self.follower: EventFollower | None = None
        # What status() reports.
        self._status: dict[str, Any] = {"state": "starting"}
        self._last_error: str | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        directory = self.config.directory
        directory.mkdir(parents=True, exist_ok=True)
        self.state = MinerState.open(directory / "miner.db")
        identity = {
            "mine": self.config.identity,
            "miner_id": "0x" + self.config.miner_id.hex(),
            "shard": f"{self.shard.shard_id}/{self.shard.num_shard}",
        }
        self.sealed = SealedFile(directory / "sealed.bin", self.config.miner_id)
        if self.state.reset_if_changed(identity):
            log.warning("the mining contract, miner id or shard changed: sealing everything again")
            self.sealed.clear()
        self.follower = EventFollower(
            self.w3,
            self.state.conn,
            FOLLOWER_NAME,
            [self.reward.events.RewardDistributed, self.reward.events.Withdrawn],
            self._handle_reward_log,
            self.state.rollback,
            start_block=self.config.mine_block,
            confirmations=self.config.confirmations,
            lock=self.state.lock,
            resync=self.config.resync,
        )
        self._pool = ProcessPoolExecutor(
            self.config.workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
        )
        self._stop.clear()
        for name, target in (("storage-miner", self._run), ("storage-miner-submit", self._run_submitter)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "mining as miner id 0x%s (owner %s, beneficiary %s), shard %d/%d, %d workers",
            self.config.miner_id.hex(), self.config.account.address, self.config.beneficiary,
            self.shard.shard_id, self.shard.num_shard, self.config.workers,
        )  # fmt: skip

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT_SECONDS)
            if thread.is_alive():
                log.warning("%s did not stop within %d s", thread.name, JOIN_TIMEOUT_SECONDS)
        self._threads.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self.sealed is not None:
            self.sealed.close()
            self.sealed = None
        if self.state is not None:
            self.state.close()
            self.state = None

    # ------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        with self._lock:
            status = dict(self._status)
            rates = list(self._rates)
        try:  # the credited balance, live (the loop's copy is up to BALANCE_SECONDS old)
            status["pendingWei"] = self.reward.functions.balanceOf(self.config.beneficiary).call()
        except Exception:  # the chain does not answer: keep the loop's last reading
            log.debug("could not read the beneficiary's balance", exc_info=True)
        state = self.state
        totals = state.totals() if state is not None else {}
        # Rates while searching: per-worker throughput of the recent tasks times the workers.
        now = time.monotonic()
        recent = [r for r in rates if now - r[0] <= RATE_WINDOW_SECONDS]
        seconds = sum(r[3] for r in recent)
        per_second = self.config.workers / seconds if seconds > 0 else 0.0
        hashed = sum(r[1] for r in recent)
        tried = sum(r[2] for r in recent)
        return {
            "enabled": True,
            "minerId": "0x" + self.config.miner_id.hex(),
            "owner": self.config.account.address,
            "beneficiary": self.config.beneficiary,
            "shardId": self.shard.shard_id,
            "numShard": self.shard.num_shard,
            "workers": self.config.workers,
            "mineContract": self.config.mine_address,
            **status,
            "hashRate": hashed * per_second,
            "nonceRate": tried * per_second,
            "lastError": self._last_error,
            **totals,
            "recentAnswers": state.recent_answers(10) if state is not None else [],
        }

    def _set(self, **fields: Any) -> None:
        with self._lock:
            self._status.update(fields)

    # ------------------------------------------------------------ the loop

    def _run(self) -> None:
        unreachable = False
        self._settle_previous_answers_safely()
        while not self._stop.is_set():
            try:
                busy = self._step()
            except FollowerStoppedError as exc:  # the node's own log sync stops the node on the same chain
                self._error(f"reward log sync stopped: {exc}")
                self._set(state="stopped: the reward log sync cannot go on")
                return
            except (OSError, ProviderConnectionError) as exc:  # requests' errors are OSErrors
                if not unreachable:
                    log.warning("miner: chain node unreachable (%s), retrying", type(exc).__name__)
                unreachable, busy = True, False
                self._set(state="waiting: the chain node does not answer")
            except TransactionError as exc:
                self._error(str(exc.message))
                busy = False
            except Exception as exc:
                log.exception("miner step failed, retrying")
                self._error(f"{type(exc).__name__}: {exc}")
                busy = False
            else:
                unreachable = False
            if not busy:
                self._drain(timeout=0)
                self._stop.wait(self.config.poll_interval)
        self._drain(timeout=0)

    def _error(self, message: str) -> None:
        log.error("miner: %s", message)
        self._last_error = message
        self._set(state=f"error: {message}", lastErrorAt=time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def _step(self) -> bool:
        """One pass; True if it did work (search or sealing), so the loop goes on without pausing."""
        assert self.follower is not None
        self.follower.poll_once()
        self._ensure_registered()
        context = self._context()
        self._set(epoch=context.epoch, contextDigest="0x" + context.digest.hex(), flowLength=context.flow_length)
        self._recheck_orphans(context)
        sealed_any = self._refresh_data()
        self._read_balance()
        plan, reason = self._plan_for(context)
        if plan is None:
            self._set(state=f"idle: {reason}")
            return sealed_any
        remaining = self._remaining_answers(context)
        if remaining <= 0:
            self._set(state=f"idle: epoch {context.epoch} has its answers; waiting for the next epoch")
            return sealed_any
        self._set(state="mining")
        self._search_round(plan, context, remaining)
        return True

    # ------------------------------------------------------------ chain side

    def _ensure_registered(self) -> None:
        if self._registered:
            return
        config = self.config
        self._target_answers = self.mine.functions.targetAnswersPerEpoch().call()
        self._max_mining_length = self.mine.functions.maxMiningLength().call()
        self._range_alignment = self.mine.functions.sectorsPerPricingChunk().call()
        owner, beneficiary = self.mine.functions.minerOf(config.miner_id).call()
        if int(owner, 16) == 0:
            log.info("registering miner id 0x%s for %s", config.miner_id.hex(), config.account.address)
            self._send(self.mine.functions.register(config.salt, config.beneficiary))
        elif beneficiary != config.beneficiary:
            log.info("setting the beneficiary of miner id 0x%s to %s", config.miner_id.hex(), config.beneficiary)
            self._send(self.mine.functions.setBeneficiary(config.miner_id, config.beneficiary))
        self._registered = True
        self._set(registered=True)

    def _send(self, call: Any) -> Any:
        return send_transaction(self.w3, self.config.account, call, decoder=self.decoder)

    def _context(self) -> MiningContext:
        """The Flow's context, made first if a new epoch began and nobody made it yet."""
        context = MiningContext.from_call(self.flow.functions.getContext().call())
        if self.flow.functions.epoch().call() > context.epoch:
            receipt = self._send(self.flow.functions.makeContext())
            made = self.flow.events.NewEpoch().process_receipt(receipt, errors=DISCARD)
            if made:
                log.info("made the context of epoch %d (gas %d)", made[0]["args"]["index"], receipt["gasUsed"])
            context = MiningContext.from_call(self.flow.functions.getContext().call())
        return context

    def _remaining_answers(self, context: MiningContext) -> int:
        """Answers the epoch can still take, minus ours found and not settled yet."""
        epoch, answers = self.mine.functions.epochAnswers().call()
        taken = answers if epoch == context.epoch else 0
        assert self.state is not None
        pending = sum(1 for a in self.state.answers_in(FOUND, SENT) if a.epoch == context.epoch)
        return self._target_answers - taken - pending

    def _read_balance(self) -> None:
        now = time.monotonic()
        if now - self._balance_read < BALANCE_SECONDS:
            return
        self._balance_read = now
        balance = self.reward.functions.balanceOf(self.config.beneficiary).call()
        self._set(pendingWei=balance, target=self.mine.functions.target().call())
        if (
            self.config.claim_wei
            and balance >= self.config.claim_wei
            and self.config.beneficiary == self.config.account.address
        ):
            receipt = self._send(self.reward.functions.withdraw())
            log.info("withdrew %d wei of rewards in tx %s", balance, receipt["transactionHash"].to_0x_hex())
            self._set(pendingWei=self.reward.functions.balanceOf(self.config.beneficiary).call())

    def _handle_reward_log(self, conn: Any, event: Any) -> None:
        assert self.state is not None
        args = event["args"]
        if event["event"] == "RewardDistributed" and bytes(args["minerId"]) == self.config.miner_id:
            self.state.add_reward(conn, event)
        elif event["event"] == "Withdrawn" and args["account"] == self.config.beneficiary:
            self.state.add_withdrawal(conn, event)

    # ------------------------------------------------------------ data: sealing and the plan

    def _refresh_data(self) -> bool:
        """Mirror the node store into the sealed copy; True if it sealed something."""
        assert self.state is not None and self.sealed is not None
        fingerprint = self.data.fingerprint()
        now = time.monotonic()
        if fingerprint != self._fingerprint or now - self._presence_checked >= PRESENCE_SECONDS:
            self._presence_checked = now
            if fingerprint != self._fingerprint:
                self._txs = self.data.submissions()
                self._fingerprint = fingerprint
                self._data_version += 1
            self._reconcile()
        if not self._to_seal:
            return False
        batch, self._to_seal = self._to_seal[:SEAL_PER_STEP], self._to_seal[SEAL_PER_STEP:]
        sealed = 0
        for tx, seg_index in batch:
            held = self.data.segment(tx, seg_index)
            if held is None:
                continue
            self.sealed.seal(self.state, tx.uid, seg_index, tx.segment_start(seg_index), held[0])
            sealed += 1
        if sealed:
            self._data_version += 1
            log.info("sealed %d segments for mining (%d more to seal)", sealed, len(self._to_seal))
        return True

    def _reconcile(self) -> None:
        """Drop sealed segments the node no longer has; list the stored ones not sealed yet."""
        assert self.state is not None
        stored = self.data.stored_segments()
        sealed = self.state.sealed()
        by_uid = {tx.uid: tx for tx in self._txs}
        lost = [
            key
            for key in sealed
            if key not in stored or key[0] not in by_uid or not self.data.present(by_uid[key[0]], key[1])
        ]
        if lost:
            log.warning("the node lost %d segments: no longer mining them (%s)", len(lost), lost[:5])
            self.state.drop_sealed(lost)
            self._data_version += 1
        kept = set(sealed) - set(lost)
        self._to_seal = [
            (by_uid[uid], seg_index)
            for uid, seg_index in sorted(stored)
            if uid in by_uid and (uid, seg_index) not in kept and self.data.present(by_uid[uid], seg_index)
        ]
        self._to_seal.sort(key=lambda item: item[0].segment_start(item[1]))
        self._set(sealedSegments=len(sealed) - len(lost), toSeal=len(self._to_seal))

    def _plan_for(self, context: MiningContext) -> tuple[Plan | None, str]:
        """The search plan of `context` (rebuilt when the context, the data or the target changed)."""
        assert self.state is not None and self.sealed is not None
        if context.flow_length <= 1:
            return None, "the flow holds no data yet"
        if context.digest == bytes(32):
            return None, f"epoch {context.epoch} cannot be mined: its context was made too late"
        base_target = self.mine.functions.target().call()
        key = (context.digest, self._data_version, base_target)
        if key == self._plan_key and self._plan is not None:
            return self._plan, ""
        view = flow_index(self._txs).at(context.flow_length)
        if view.root() != context.flow_root:
            self._plan = self._plan_key = None
            return None, f"waiting for the log sync to reach the flow of epoch {context.epoch}"
        try:
            mine_range = MineRange.of(
                self._range_start(context), self.shard.shard_id, self.shard.num_shard, context.flow_length,
                self._max_mining_length, self._range_alignment,
            )  # fmt: skip
        except MiningRangeError as exc:
            self._plan = self._plan_key = None
            return None, f"no range to mine: {exc}"
        prover = Prover(self.data, self._txs, view)
        sealed = self.state.sealed()
        starts, kinds, rows, counts = plan_spans(self._txs, context.flow_length, self.shard, sealed, prover)
        if counts[HELD] + counts[EMPTY] == 0:
            self._plan = self._plan_key = None
            return None, "nothing of this shard is stored or provable"
        digest_hex = "0x" + context.digest.hex()
        self._next_nonce = self.state.epoch_progress(context.epoch, digest_hex, context.flow_length)
        self._plan = Plan(
            key=f"{digest_hex}:{self._data_version}",
            prefix=seed_prefix(
                context.digest, self.config.miner_id, mine_range.start, mine_range.shard_id, mine_range.num_shard
            ),
            miner_id=self.config.miner_id,
            mine_range=mine_range,
            target=mine_range.target(base_target),
            sealed_path=str(self.sealed.path),
            sealed_rows=self.sealed.rows,
            starts=np.array(starts, dtype=np.uint64),
            kinds=np.array(kinds, dtype=np.uint8),
            rows=np.array(rows, dtype=np.int64),
        )
        self._plan_key = key
        self._prover = prover
        self._set(
            rangeStart=mine_range.start,
            mineLength=mine_range.mine_length,
            shardSectors=mine_range.shard_sectors,
            heldSegments=counts[HELD],
            missingSegments=counts[MISSING],
            target=base_target,
        )
        return self._plan, ""

    def _range_start(self, context: MiningContext) -> int:
        assert self.state is not None
        window = self._max_mining_length * self.shard.num_shard
        if context.flow_length <= window:
            return 0
        segments = [(s.position, s.sectors) for s in self.state.sealed().values()]
        return best_range_start(segments, context.flow_length, window, self._range_alignment)

    # ------------------------------------------------------------ the search

    def _search_round(self, plan: Plan, context: MiningContext, remaining: int) -> None:
        assert self._pool is not None and self.state is not None
        deadline = time.monotonic() + ROUND_SECONDS
        found_now = 0
        while not self._stop.is_set() and time.monotonic() < deadline and found_now < remaining:
            while len(self._inflight) < 2 * self.config.workers:
                first = self._next_nonce
                self._next_nonce += TASK_NONCES
                future = self._pool.submit(search, plan, first, TASK_NONCES, max(1, remaining - found_now))
                self._inflight[future] = (context.epoch, context.digest)
            self.state.hand_out(context.epoch, self._next_nonce)
            timeout = max(0.0, deadline - time.monotonic())
            found_now += self._collect(context, plan, timeout, limit=remaining - found_now)

    def _collect(self, context: MiningContext, plan: Plan, timeout: float, limit: int) -> int:
        """Take finished search results; queue up to `limit` answers of the current context (the epoch takes no
        more). Returns how many it queued."""
        assert self.state is not None
        done, _ = wait(list(self._inflight), timeout=timeout, return_when=FIRST_COMPLETED)
        queued = 0
        for future in done:
            epoch, digest = self._inflight.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                log.error("a search task failed: %s", exc)
                continue
            with self._lock:
                self._rates.append((time.monotonic(), result.hashed, result.count, result.seconds))
                while self._rates and time.monotonic() - self._rates[0][0] > RATE_WINDOW_SECONDS:
                    self._rates.popleft()
            self.state.searched(epoch, result.count, result.hashed, result.seconds, len(result.found))
            if digest != context.digest or self._prover is None:
                continue  # the context moved on: these answers are stale
            for nonce, position, quality in result.found:
                if queued >= limit:
                    break
                answer_id = self.state.add_answer(epoch, "0x" + digest.hex(), nonce, position, quality)
                if answer_id is None:
                    continue
                log.info("found an answer: epoch %d nonce %d recalls sector %d", epoch, nonce, position)
                self._queue.put(Found(answer_id, context, self._prover, plan.mine_range, nonce))
                queued += 1
        return queued

    def _drain(self, timeout: float) -> None:
        """Record the results of tasks still running (the search counts them) without waiting."""
        if not self._inflight:
            return
        done, _ = wait(list(self._inflight), timeout=timeout)
        for future in done:
            epoch, _ = self._inflight.pop(future)
            if future.cancelled() or future.exception() is not None:
                continue
            result = future.result()
            if self.state is not None:
                self.state.searched(epoch, result.count, result.hashed, result.seconds, 0)

    # ------------------------------------------------------------ submitting

    def _run_submitter(self) -> None:
        while not self._stop.is_set():
            try:
                found = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._submit(found)
            except Exception as exc:  # never lose the thread; the answer is marked failed
                log.exception("submitting answer %d failed", found.answer_id)
                if self.state is not None:
                    self.state.update_answer(found.answer_id, FAILED, error=f"{type(exc).__name__}: {exc}")

    def _submit(self, found: Found) -> None:
        state = self.state
        assert state is not None
        mine = self._submit_mine
        context = found.context
        current = MiningContext.from_call(self._submit_flow.functions.getContext().call())
        if current.digest != context.digest or self._submit_flow.functions.epoch().call() > context.epoch:
            state.update_answer(found.answer_id, FAILED, error=f"stale: epoch {current.epoch} began before it was sent")
            return
        epoch, answers = mine.functions.epochAnswers().call()
        if epoch == context.epoch and answers >= self._target_answers:
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

    def _settle_previous_answers_safely(self) -> None:
        try:
            self._settle_previous_answers()
        except Exception:
            log.exception("could not settle the answers of the previous run")

    def _settle_previous_answers(self) -> None:
        """Answers found or sent before a restart: accepted if the contract has them; found and never sent: failed;
        sent: their transaction may still land (it waits in the chain's mempool), rechecked by `_recheck_orphans`."""
        assert self.state is not None
        for row in self.state.answers_in(FOUND, SENT):
            done = self.mine.functions.isAnswered(row.epoch, self.config.miner_id, row.nonce).call()
            if done:
                self.state.update_answer(row.id, ACCEPTED)
            elif row.status == SENT:
                self._orphans.append(row)
            else:
                self.state.update_answer(row.id, FAILED, error="not sent before the miner stopped")

    def _recheck_orphans(self, context: MiningContext) -> None:
        """Answers sent by a previous run: accepted once the contract has them; failed once their epoch is over and
        nothing of ours waits in the mempool any more (until then they count as pending for their epoch)."""
        if not self._orphans:
            return
        assert self.state is not None
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
