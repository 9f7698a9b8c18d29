"""Background thread that follows DAEntrance's `DataUpload` events into the store: a signer accepts cells only
for data roots somebody paid for."""

from __future__ import annotations

import logging
import sqlite3

from web3 import Web3
from web3.types import EventData

from services.common.follower import DaemonFollower
from services.da_signer.store import SignerStore, Upload

log = logging.getLogger(__name__)

FOLLOWER_NAME = "da-entrance-uploads"


class UploadFollower(DaemonFollower):
    """DataUpload logs into the store: a signer accepts cells only for data roots somebody paid for."""

    def __init__(
        self, w3: Web3, entrance_address: str, entrance_abi: list, store: SignerStore, *, start_block: int,
        confirmations: int, poll_interval: float, resync: bool = False,
    ) -> None:  # fmt: skip
        self.store = store
        contract = w3.eth.contract(address=entrance_address, abi=entrance_abi)
        super().__init__(
            w3, store, FOLLOWER_NAME, [contract.events.DataUpload], self._handle, store.rollback,
            start_block=start_block, confirmations=confirmations, poll_interval=poll_interval, resync=resync,
        )  # fmt: skip

    def _handle(self, conn: sqlite3.Connection, event: EventData) -> None:
        args = event["args"]
        upload = Upload(
            data_root="0x" + bytes(args["dataRoot"]).hex(),
            sender=args["sender"],
            epoch=int(args["epoch"]),
            blob_fee=int(args["blobFee"]),
            block_number=int(event["blockNumber"]),
            tx_hash=event["transactionHash"].to_0x_hex(),
            quorum_id=int(args["quorumId"]),
            length=int(args["length"]),
            expiry_epoch=int(args["expiryEpoch"]),
        )
        self.store.add_upload(conn, upload, event["blockHash"].to_0x_hex(), int(event["logIndex"]))
        log.info("upload of %s by %s in epoch %d (block %d)", upload.data_root, upload.sender, upload.epoch,
                 upload.block_number)  # fmt: skip
