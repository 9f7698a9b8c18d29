"""The miner: a thread of the storage node that mines PoRA answers with the node's data.

Each step of its loop:
1. follows the reward pool's RewardDistributed/Withdrawn logs for its miner id and beneficiary (`rewards`);
2. registers its miner id once (and sets the configured beneficiary);
3. reads the Flow's context, and makes the context of a new epoch (`makeContext`) when nobody did yet (`planning`);
4. brings its sealed copy in line with the node store: seals new segments, drops segments the node lost
   (`planning`);
5. builds the search plan of the context (after checking that the node's synced submissions rebuild the
   context's flow root, i.e. the log sync has caught up) (`planning`);
6. keeps the worker processes busy with nonce ranges for about a second (`search_pool`), queueing every nonce
   whose answer meets the target for the submitter thread (`submission`), until the epoch has its answers;
7. now and then reads the beneficiary's credited balance and, if configured, withdraws it (`rewards`).

All progress is in MinerState, so a restart resumes: nothing is sealed twice, the search continues after the last
nonce handed out, and answers sent before the restart are settled by asking the contract.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from web3 import Web3
from web3.exceptions import ProviderConnectionError

from services.storage_miner.flow import ShardConfig
from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.data import NodeData
from services.storage_miner.mining.planning import Planner
from services.storage_miner.mining.rewards import Rewards
from services.storage_miner.mining.sealed import SealedFile
from services.storage_miner.mining.search_pool import SearchPool
from services.storage_miner.mining.state import MinerState
from services.storage_miner.mining.submission import Found, Submitter
from services.storage_miner.store import NodeStore
from zerog.chain import ErrorDecoder, send_transaction
from zerog.errors import TransactionError
from zerog.follower import FollowerStoppedError

log = logging.getLogger(__name__)

JOIN_TIMEOUT_SECONDS = 15


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
        self.state: MinerState | None = None
        self.sealed: SealedFile | None = None
        # Its parts, made by start() with the state and the sealed copy.
        self.planner: Planner | None = None
        self.submitter: Submitter | None = None
        self.rewards: Rewards | None = None
        self.search: SearchPool | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue: queue.Queue[Found] = queue.Queue()
        self._lock = threading.Lock()
        # Caches of the loop (its thread only).
        self._registered = False
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
        self.rewards = Rewards(self.config, self.w3, self.state, self.mine, self.reward, self._send, self._set)
        self.planner = Planner(
            self.config, self.data, self.shard, self.mine, self.flow, self.state, self.sealed, self._send, self._set
        )
        self.submitter = Submitter(
            self.config, self.state, self.w3, self.submit_w3, self.decoder, self.mine, self.reward, self._queue,
            self._stop,
        )  # fmt: skip
        self.search = SearchPool(self.config.workers, self.state, self.planner, self._queue, self._stop)
        self._stop.clear()
        for name, target in (("storage-miner", self._run), ("storage-miner-submit", self.submitter.run)):
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
        if self.search is not None:
            self.search.shutdown()
            self.search = None
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
        try:  # the credited balance, live (the loop's copy is up to rewards.BALANCE_SECONDS old)
            status["pendingWei"] = self.reward.functions.balanceOf(self.config.beneficiary).call()
        except Exception:  # the chain does not answer: keep the loop's last reading
            log.debug("could not read the beneficiary's balance", exc_info=True)
        state = self.state
        totals = state.totals() if state is not None else {}
        hash_rate, nonce_rate = self.search.rates() if self.search is not None else (0.0, 0.0)
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
            "hashRate": hash_rate,
            "nonceRate": nonce_rate,
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
        search = self.search
        assert self.submitter is not None and search is not None
        self.submitter.settle_previous_answers_safely()
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
                search.drain(timeout=0)
                self._stop.wait(self.config.poll_interval)
        search.drain(timeout=0)

    def _error(self, message: str) -> None:
        log.error("miner: %s", message)
        self._last_error = message
        self._set(state=f"error: {message}", lastErrorAt=time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def _step(self) -> bool:
        """One pass; True if it did work (search or sealing), so the loop goes on without pausing."""
        planner, submitter, rewards, search = self.planner, self.submitter, self.rewards, self.search
        assert planner is not None and submitter is not None and rewards is not None and search is not None
        rewards.follower.poll_once()
        self._ensure_registered()
        context = planner.context()
        self._set(epoch=context.epoch, contextDigest="0x" + context.digest.hex(), flowLength=context.flow_length)
        submitter.recheck_orphans(context)
        sealed_any = planner.refresh_data()
        rewards.read_balance()
        plan, reason = planner.plan_for(context)
        if plan is None:
            self._set(state=f"idle: {reason}")
            return sealed_any
        remaining = planner.remaining_answers(context)
        if remaining <= 0:
            self._set(state=f"idle: epoch {context.epoch} has its answers; waiting for the next epoch")
            return sealed_any
        self._set(state="mining")
        search.round(plan, context, remaining)
        return True

    # ------------------------------------------------------------ registration

    def _ensure_registered(self) -> None:
        if self._registered:
            return
        assert self.planner is not None and self.submitter is not None
        config = self.config
        self.planner.read_rules()
        self.submitter.target_answers = self.planner.target_answers
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
