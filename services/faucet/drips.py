"""Background thread that follows the Faucet's `Dripped` events into the store (recent drips)."""

from __future__ import annotations

import logging
import sqlite3

from web3 import Web3
from web3.types import EventData

from services.common.follower import DaemonFollower
from services.faucet.config import FaucetDaemonSettings
from services.faucet.store import FaucetStore
from zerog.chain import Deployment
from zerog.faucet.contracts import FAUCET

log = logging.getLogger(__name__)

FOLLOWER_NAME = "faucet-drips"


class DripFollower(DaemonFollower):
    """Dripped logs into the store (the drips the API lists)."""

    def __init__(self, settings: FaucetDaemonSettings, w3: Web3, deployment: Deployment, store: FaucetStore) -> None:
        self.w3 = w3
        contract = deployment.contract(w3, FAUCET)
        super().__init__(
            w3, store, FOLLOWER_NAME, [contract.events.Dripped], self._handle, FaucetStore.rollback_drips,
            start_block=int(deployment.record(FAUCET).get("deployBlock", 0)), confirmations=settings.confirmations,
            poll_interval=settings.poll_interval, resync=settings.resync,
        )  # fmt: skip
        self._timestamps: dict[str, int] = {}

    @property
    def block_number(self) -> int | None:
        """Newest block the follower has fully processed."""
        cursor = self.cursor
        return cursor.block_number if cursor else None

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        block_hash = event["blockHash"].to_0x_hex()
        if block_hash not in self._timestamps:
            self._timestamps = {block_hash: int(self.w3.eth.get_block(event["blockHash"])["timestamp"])}
        FaucetStore.add_drip(conn, event, self._timestamps[block_hash])
