"""The search workers as the miner drives them: a pool of worker processes (search.py) kept busy with nonce ranges of
the current plan, a round at a time; their results are counted in the state, and every answer of the current context
is queued for the submitter.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from services.storage_miner.mining.planning import Planner
from services.storage_miner.mining.search import Plan, SearchResult, init_worker, search
from services.storage_miner.mining.state import MinerState
from services.storage_miner.mining.submission import Found
from zerog.storage.pora import MiningContext

log = logging.getLogger(__name__)

#: Nonces per task: about a tenth of a second of one worker.
TASK_NONCES = 4 * 8192
#: Seconds of searching per loop step (then the context, the data and the epoch are checked again).
ROUND_SECONDS = 1.0
#: Seconds of search results the reported hash rate averages over.
RATE_WINDOW_SECONDS = 10.0


class SearchPool:
    """`workers` processes searching the plans of `planner` (from its next nonce on) for the miner's loop thread;
    answers go to `inbox`."""

    def __init__(
        self, workers: int, state: MinerState, planner: Planner, inbox: queue.Queue[Found], stop: threading.Event
    ) -> None:
        self.workers = workers
        self.state = state
        self.planner = planner
        self._queue = inbox
        self._stop = stop
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
        )
        self._inflight: dict[Future[SearchResult], tuple[int, bytes]] = {}
        # (when, hashed, tried, seconds) of recent search results.
        self._rates: deque[tuple[float, int, int, float]] = deque()
        self._lock = threading.Lock()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def rates(self) -> tuple[float, float]:
        """Hashes and nonces per second while searching: per-worker throughput of the recent tasks times the
        workers."""
        with self._lock:
            rates = list(self._rates)
        now = time.monotonic()
        recent = [r for r in rates if now - r[0] <= RATE_WINDOW_SECONDS]
        seconds = sum(r[3] for r in recent)
        per_second = self.workers / seconds if seconds > 0 else 0.0
        hashed = sum(r[1] for r in recent)
        tried = sum(r[2] for r in recent)
        return hashed * per_second, tried * per_second

    def round(self, plan: Plan, context: MiningContext, remaining: int) -> None:
        """Search `plan` for about ROUND_SECONDS, until `remaining` answers are queued or the miner stops."""
        planner = self.planner
        deadline = time.monotonic() + ROUND_SECONDS
        found_now = 0
        while not self._stop.is_set() and time.monotonic() < deadline and found_now < remaining:
            while len(self._inflight) < 2 * self.workers:
                first = planner.next_nonce
                planner.next_nonce += TASK_NONCES
                future = self._pool.submit(search, plan, first, TASK_NONCES, max(1, remaining - found_now))
                self._inflight[future] = (context.epoch, context.digest)
            self.state.hand_out(context.epoch, planner.next_nonce)
            timeout = max(0.0, deadline - time.monotonic())
            found_now += self._collect(context, plan, timeout, limit=remaining - found_now)

    def _collect(self, context: MiningContext, plan: Plan, timeout: float, limit: int) -> int:
        """Take finished search results; queue up to `limit` answers of the current context (the epoch takes no
        more). Returns how many it queued."""
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
            prover = self.planner.prover
            if digest != context.digest or prover is None:
                continue  # the context moved on: these answers are stale
            for nonce, position, quality in result.found:
                if queued >= limit:
                    break
                answer_id = self.state.add_answer(epoch, "0x" + digest.hex(), nonce, position, quality)
                if answer_id is None:
                    continue
                log.info("found an answer: epoch %d nonce %d recalls sector %d", epoch, nonce, position)
                self._queue.put(Found(answer_id, context, prover, plan.mine_range, nonce))
                queued += 1
        return queued

    def drain(self, timeout: float) -> None:
        """Record the results of tasks still running (the search counts them) without waiting."""
        if not self._inflight:
            return
        done, _ = wait(list(self._inflight), timeout=timeout)
        for future in done:
            epoch, _ = self._inflight.pop(future)
            if future.cancelled() or future.exception() is not None:
                continue
            result = future.result()
            self.state.searched(epoch, result.count, result.hashed, result.seconds, 0)
