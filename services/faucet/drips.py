"""Background thread that follows the Faucet's `Dripped` events into the store (recent drips)."""

from __future__ import annotations

import logging
import sqlite3
import threading

from web3 import Web3
from web3.types import EventData

from services.faucet.core.config import Settings
from services.faucet.store import FaucetStore
from zerog.chain import Deployment
from zerog.follower import EventFollower, ReorgTooDeepError

log = logging.getLogger(__name__)

FOLLOWER_NAME = "faucet-drips"
JOIN_TIMEOUT_SECONDS = 10


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
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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

    def _run(self) -> None:
        try:
            self.follower.run(self._stop, self.settings.poll_interval)
        except ReorgTooDeepError:
            log.exception("drip follower stopped: recent drips are no longer updated")

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=FOLLOWER_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                log.warning("drip follower did not stop within %d s", JOIN_TIMEOUT_SECONDS)
            self._thread = None
