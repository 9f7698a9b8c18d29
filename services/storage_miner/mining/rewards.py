"""The miner's rewards: the reward pool's RewardDistributed/Withdrawn logs for its miner id and beneficiary, followed
into its state (an EventFollower, rolled back with a reorg), and the beneficiary's credited balance, read now and then
and withdrawn once it reaches ZG_STORAGE_MINING_CLAIM_WEI (when set, and the beneficiary is the miner's account).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from web3 import Web3
from web3.contract import Contract

from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.state import MinerState
from zerog.follower import EventFollower

log = logging.getLogger(__name__)

FOLLOWER_NAME = "mining-rewards"
#: Seconds between reads of the beneficiary's credited balance.
BALANCE_SECONDS = 5.0


class Rewards:
    """The reward log sync (`follower`, polled by the miner's loop) and the balance (`report` updates what the
    miner's status shows; `send` sends a transaction as the miner)."""

    def __init__(
        self,
        config: MinerConfig,
        w3: Web3,
        state: MinerState,
        mine: Contract,
        reward: Contract,
        send: Callable[[Any], Any],
        report: Callable[..., None],
    ) -> None:
        self.config = config
        self.state = state
        self.mine = mine
        self.reward = reward
        self._send = send
        self._set = report
        self._balance_read = 0.0
        self.follower = EventFollower(
            w3,
            state.conn,
            FOLLOWER_NAME,
            [reward.events.RewardDistributed, reward.events.Withdrawn],
            self._handle_reward_log,
            state.rollback,
            start_block=config.mine_block,
            confirmations=config.confirmations,
            lock=state.lock,
            resync=config.resync,
        )

    def balance(self) -> Any:
        """The beneficiary's credited balance, in wei."""
        return self.reward.functions.balanceOf(self.config.beneficiary).call()

    def read_balance(self) -> None:
        now = time.monotonic()
        if now - self._balance_read < BALANCE_SECONDS:
            return
        self._balance_read = now
        balance = self.balance()
        self._set(pendingWei=balance, target=self.mine.functions.target().call())
        if (
            self.config.claim_wei
            and balance >= self.config.claim_wei
            and self.config.beneficiary == self.config.account.address
        ):
            receipt = self._send(self.reward.functions.withdraw())
            log.info("withdrew %d wei of rewards in tx %s", balance, receipt["transactionHash"].to_0x_hex())
            self._set(pendingWei=self.balance())

    def _handle_reward_log(self, conn: Any, event: Any) -> None:
        args = event["args"]
        if event["event"] == "RewardDistributed" and bytes(args["minerId"]) == self.config.miner_id:
            self.state.add_reward(conn, event)
        elif event["event"] == "Withdrawn" and args["account"] == self.config.beneficiary:
            self.state.add_withdrawal(conn, event)
