"""Background thread that follows DAEntrance's `DataUpload` events into the store: a signer accepts cells only
for data roots somebody paid for."""

from __future__ import annotations

import logging
import sqlite3
import threading

from web3 import Web3
from web3.types import EventData

from services.common.serve import stop_daemon
from services.da_signer.store import SignerStore, Upload
from zerog.follower import EventFollower, FollowerStoppedError

log = logging.getLogger(__name__)

FOLLOWER_NAME = "da-entrance-uploads"
JOIN_TIMEOUT_SECONDS = 10


class UploadFollower:
    """Runs the DataUpload follower in a daemon thread; `start()` / `stop()` from the app lifespan."""

    def __init__(
        self, w3: Web3, entrance_address: str, entrance_abi: list, store: SignerStore, *, start_block: int,
        confirmations: int, poll_interval: float, resync: bool = False,
    ) -> None:  # fmt: skip
        self.store = store
        self.start_block = start_block
        self.poll_interval = poll_interval
        contract = w3.eth.contract(address=entrance_address, abi=entrance_abi)
        self.follower = EventFollower(
            w3,
            store.conn,
            FOLLOWER_NAME,
            [contract.events.DataUpload],
            self._handle,
            store.rollback,
            start_block=start_block,
            confirmations=confirmations,
            lock=store.lock,
            resync=resync,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed: str | None = None

    @property
    def sync_height(self) -> int:
        """Newest block whose uploads are all known."""
        with self.store.lock:
            cursor = self.follower.cursor
        return cursor.block_number if cursor else max(self.start_block - 1, 0)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        upload = Upload(
            data_root="0x" + bytes(args["dataRoot"]).hex(),
            sender=args["sender"],
            epoch=int(args["epoch"]),
            blob_fee=int(args["blobFee"]),
            block_number=int(event["blockNumber"]),
            tx_hash=event["transactionHash"].to_0x_hex(),
        )
        self.store.add_upload(conn, upload, event["blockHash"].to_0x_hex(), int(event["logIndex"]))
        log.info("upload of %s by %s in epoch %d (block %d)", upload.data_root, upload.sender, upload.epoch,
                 upload.block_number)  # fmt: skip

    def _run(self) -> None:
        try:
            self.follower.run(self._stop, self.poll_interval)
        except FollowerStoppedError as exc:
            self.failed = str(exc)
            stop_daemon(f"the upload follower cannot go on: {exc}")

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=FOLLOWER_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                log.warning("upload follower did not stop within %d s", JOIN_TIMEOUT_SECONDS)
            self._thread = None
