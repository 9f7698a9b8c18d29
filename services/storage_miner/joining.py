"""Joining an indexer (ZG_STORAGE_INDEXER_URL): the node announces its public URL and shard config, signed by its
account (zerog.storage.announce), right after it starts serving and every ZG_STORAGE_ANNOUNCE_INTERVAL seconds
after that: an indexer that dropped the node while it was down, or lost its state, lists it again."""

from __future__ import annotations

import logging
import threading

from eth_account.signers.local import LocalAccount

from services.storage_miner.config import StorageNodeSettings
from services.storage_miner.flow import ShardConfig
from zerog.accounts import account_from_key, role_account
from zerog.storage.announce import Announcement
from zerog.storage.rpc import IndexerClient, RpcError

log = logging.getLogger(__name__)

#: The dev account a storage node announces itself with on the local network (it signs, and pays nothing).
NODE_DEV_INDEX = 10
#: The first announcement waits for the server to accept connections (the indexer calls the node back). A refused
#: one is retried soon (an indexer still starting), then less and less often, at least once an interval.
FIRST_DELAY_SECONDS = 0.5
RETRY_SECONDS = 1.0
INDEXER_TIMEOUT_SECONDS = 15
JOIN_TIMEOUT_SECONDS = 10


def node_account(settings: StorageNodeSettings) -> LocalAccount | None:
    """The node's account: ZG_STORAGE_NODE_PRIVATE_KEY; when the node joins an indexer and none is set, dev account
    10 on the local network (a ConfigError elsewhere). None: the node has no account (it joins no indexer)."""
    if settings.storage_indexer_url:
        return role_account(settings, "storage_node_private_key", NODE_DEV_INDEX, "storage node")
    key = settings.storage_node_private_key
    return account_from_key(key.get_secret_value()) if key is not None and key.get_secret_value() else None


class Announcer:
    """The thread that announces the node to its indexer."""

    def __init__(
        self,
        indexer_url: str,
        url: str,
        shard: ShardConfig,
        account: LocalAccount,
        chain_id: int,
        flow: str,
        interval: float,
    ) -> None:
        self.indexer = IndexerClient(indexer_url, INDEXER_TIMEOUT_SECONDS)
        self.url = url
        self.shard = shard
        self.account = account
        self.chain_id = chain_id
        self.flow = flow
        self.interval = interval
        self.joined = False
        self._error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storage-announcer", daemon=True)

    def announce(self) -> bool:
        """One announcement; True if the indexer accepted it. Failures are logged when they change."""
        announcement = Announcement.sign(
            self.account, self.url, self.shard.shard_id, self.shard.num_shard, self.chain_id, self.flow
        )
        try:
            self.indexer.announce(announcement)
        except RpcError as exc:
            if exc.message != self._error:
                log.warning("indexer %s did not list this node (%s): %s", self.indexer.url, self.url, exc.message)
            self._error = exc.message
            return False
        if not self.joined or self._error is not None:
            log.info("joined indexer %s as %s (account %s)", self.indexer.url, self.url, self.account.address)
        self.joined, self._error = True, None
        return True

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        delay, retry = FIRST_DELAY_SECONDS, RETRY_SECONDS
        while not self._stop.wait(delay):
            if self.announce():
                delay, retry = self.interval, RETRY_SECONDS
            else:
                delay, retry = min(retry, self.interval), retry * 2

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT_SECONDS)
        self.indexer.close()
