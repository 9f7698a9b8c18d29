"""What the miner mines: the epoch's context (made when a new epoch began and nobody made it yet), the data (the
sealed copy kept in line with the node store: new segments sealed, lost ones dropped) and the search plan of a
context: the range (a window of the flow, where the miner holds the most, when the flow is longer than one range),
the target scaled to the range, and which recalled sectors the miner holds.

The planner belongs to the miner's loop thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from web3.contract import Contract
from web3.logs import DISCARD

from services.storage_miner.flow import ShardConfig
from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.data import NodeData, Prover, StoredTx, best_range_start, flow_index, plan_spans
from services.storage_miner.mining.sealed import SealedFile
from services.storage_miner.mining.search import EMPTY, HELD, MISSING, Plan
from services.storage_miner.mining.state import FOUND, SENT, MinerState
from zerog.storage.pora import MineRange, MiningContext, MiningRangeError, seed_prefix

log = logging.getLogger(__name__)

#: Segments sealed per loop step (a segment takes a few milliseconds).
SEAL_PER_STEP = 64
#: Seconds between checks that the node still has the segment files the sealed copy mirrors.
PRESENCE_SECONDS = 2.0


class Planner:
    """The context, the sealed data and the search plan of the miner (`report` updates what the miner's status
    shows; `send` sends a transaction as the miner)."""

    def __init__(
        self,
        config: MinerConfig,
        data: NodeData,
        shard: ShardConfig,
        mine: Contract,
        flow: Contract,
        state: MinerState,
        sealed: SealedFile,
        send: Callable[[Any], Any],
        report: Callable[..., None],
    ) -> None:
        self.config = config
        self.data = data
        self.shard = shard
        self.mine = mine
        self.flow = flow
        self.state = state
        self.sealed = sealed
        self._send = send
        self._set = report
        # The contract's rules (`read_rules`, when the miner registers).
        self.target_answers = 0
        self._max_mining_length = 0
        self._range_alignment = 0
        self._fingerprint: tuple[int, ...] | None = None
        self._presence_checked = 0.0
        self._txs: list[StoredTx] = []
        self._data_version = 0
        self._to_seal: list[tuple[StoredTx, int]] = []
        self._plan: Plan | None = None
        self._plan_key: tuple[Any, ...] | None = None
        #: The prover of the current plan: answers found with the plan are proven with it.
        self.prover: Prover | None = None
        #: The next nonce to hand out in the current plan's epoch (read from the state with a new plan; the search
        #: advances it).
        self.next_nonce = 0

    def read_rules(self) -> None:
        """Answers per epoch, the longest range and the range alignment: fixed when PoraMine is deployed."""
        self.target_answers = self.mine.functions.targetAnswersPerEpoch().call()
        self._max_mining_length = self.mine.functions.maxMiningLength().call()
        self._range_alignment = self.mine.functions.sectorsPerPricingChunk().call()

    # ------------------------------------------------------------ the context

    def context(self) -> MiningContext:
        """The Flow's context, made first if a new epoch began and nobody made it yet."""
        context = MiningContext.from_call(self.flow.functions.getContext().call())
        if self.flow.functions.epoch().call() > context.epoch:
            receipt = self._send(self.flow.functions.makeContext())
            made = self.flow.events.NewEpoch().process_receipt(receipt, errors=DISCARD)
            if made:
                log.info("made the context of epoch %d (gas %d)", made[0]["args"]["index"], receipt["gasUsed"])
            context = MiningContext.from_call(self.flow.functions.getContext().call())
        return context

    def remaining_answers(self, context: MiningContext) -> int:
        """Answers the epoch can still take, minus ours found and not settled yet."""
        epoch, answers = self.mine.functions.epochAnswers().call()
        taken = answers if epoch == context.epoch else 0
        pending = sum(1 for a in self.state.answers_in(FOUND, SENT) if a.epoch == context.epoch)
        return self.target_answers - taken - pending

    # ------------------------------------------------------------ data: sealing and the plan

    def refresh_data(self) -> bool:
        """Mirror the node store into the sealed copy; True if it sealed something."""
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

    def plan_for(self, context: MiningContext) -> tuple[Plan | None, str]:
        """The search plan of `context` (rebuilt when the context, the data or the target changed)."""
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
        self.next_nonce = self.state.epoch_progress(context.epoch, digest_hex, context.flow_length)
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
        self.prover = prover
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
        window = self._max_mining_length * self.shard.num_shard
        if context.flow_length <= window:
            return 0
        segments = [(s.position, s.sectors) for s in self.state.sealed().values()]
        return best_range_start(segments, context.flow_length, window, self._range_alignment)
