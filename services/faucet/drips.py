"""Background thread that follows the Faucet's `Dripped` events into the store (recent drips)."""

from __future__ import annotations

import logging
import sqlite3

from web3 import Web3
from web3.types import EventData

from services.common.serve import stop_daemon
from services.faucet.core.config import Settings
from services.faucet.store import FaucetStore
from zerog.chain import Deployment
from zerog.follower import EventFollower

log = logging.getLogger(__name__)

FOLLOWER_NAME = "faucet-drips"


class DripFollower:
    """Runs an EventFollower on `Dripped` in a daemon thread; `start()` / `stop()` from the app lifespan."""

    def __init__(self, settings: Settings, w3: Web3, deployment: Deployment, store: FaucetStore) -> None:
        self.settings = settings
        self.w3 = w3
        self.store = store
        contract = deployment.contract(w3, "Faucet")
        self.follower = EventFollower(
            w3,
            store.conn,
            FOLLOWER_NAME,
            [contract.events.Dripped],
            self._handle,
            FaucetStore.rollback_drips,
            start_block=int(deployment.record("Faucet").get("deployBlock", 0)),
            confirmations=settings.confirmations,
            lock=store.lock,
            resync=settings.resync,
        )
        self._timestamps: dict[str, int] = {}

    @property
    def block_number(self) -> int | None:
        """Newest block the follower has fully processed."""
        with self.store.lock:
            cursor = self.follower.cursor
        return cursor.block_number if cursor else None

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        block_hash = event["blockHash"].to_0x_hex()
        if block_hash not in self._timestamps:
            self._timestamps = {block_hash: int(self.w3.eth.get_block(event["blockHash"])["timestamp"])}
        FaucetStore.add_drip(conn, event, self._timestamps[block_hash])

    def start(self) -> None:
        self.follower.start(self.settings.poll_interval, on_stopped=stop_daemon)

    def stop(self) -> None:
        self.follower.stop()
