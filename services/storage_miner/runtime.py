"""What the node holds while it runs: settings, the deployment, the store, the log sync, the methods."""

from __future__ import annotations

import logging

from services.common.jsonrpc import Dispatcher
from services.common.runtime import DaemonRuntime, daemon_web3
from services.storage_miner import mining
from services.storage_miner.config import StorageNodeSettings, db_path, public_url, segments_dir, shard_config
from services.storage_miner.joining import Announcer, node_account
from services.storage_miner.methods import NodeRpc
from services.storage_miner.replication import ReplicationConfig, Replicator
from services.storage_miner.store import NodeStore
from services.storage_miner.sync import SubmitFollower
from zerog.errors import ConfigError
from zerog.storage.contracts import FLOW, MINE

log = logging.getLogger(__name__)


class NodeRuntime(DaemonRuntime[NodeStore, SubmitFollower]):
    """Built by create_app (fails fast on bad config); `open()`/`close()` run in the app lifespan."""

    name = "storage node"

    def __init__(self, settings: StorageNodeSettings) -> None:
        self.shard = shard_config(settings)
        if problem := self.shard.problem():
            raise ConfigError(f"bad shard config (ZG_STORAGE_SHARD_ID / ZG_STORAGE_NUM_SHARD): {problem}")
        super().__init__(settings)
        try:
            record = self.deployment.record(FLOW)
        except Exception as exc:
            raise ConfigError(
                f"the deployment {self.deployment.path} has no {FLOW} contract: "
                "deploy the storage contracts (`zg deploy`) before starting a storage node"
            ) from exc
        self.flow_address = self.deployment.address(FLOW)
        self.flow_abi = record["abi"]
        self.start_block = int(record.get("deployBlock", 0))
        # A redeploy on a fresh chain can reuse the address; the deploy block hash tells them apart.
        self.flow_identity = f"{self.flow_address}@{record.get('deployBlockHash', '')}"
        # The node's account (joining an indexer): resolved now so that a missing key fails the start.
        self.account = node_account(settings)
        self.rpc = NodeRpc(
            lambda: self.store,
            lambda: self.follower,
            self.shard,
            self.chain_id,
            self.flow_address,
            self.account.address if self.account else None,
        )
        self.dispatcher: Dispatcher = self.rpc.dispatcher()
        # Storage mining (ZG_STORAGE_MINING): resolved now so that bad settings fail the start.
        self.mining = mining.resolve(settings, self.deployment)
        self.uses_contracts = (FLOW, MINE) if self.mining is not None else (FLOW,)
        self.miner: mining.Miner | None = None
        self.announcer: Announcer | None = None
        # Replication from peers: on when peers or an indexer are configured.
        self.replication = ReplicationConfig.resolve(settings)
        self.replicator: Replicator | None = None

    def open_store(self) -> None:
        """Open the store (fails with ConfigError if the data dir belongs to another shard)."""
        if self._store is None:
            self._store = NodeStore.open(
                db_path(self.settings), segments_dir(self.settings), self.shard, self.flow_identity, self.chain_id
            )

    def open(self) -> None:
        """Start serving: the store (if not open yet) and the log sync."""
        self.open_store()
        assert self._store is not None
        if self.replication is not None:
            self.replicator = Replicator(self.replication, self._store, self.shard)
        self._follower = SubmitFollower(
            daemon_web3(self.settings.rpc_url),
            self.flow_address,
            self.flow_abi,
            self._store,
            start_block=self.start_block,
            confirmations=self.settings.confirmations,
            poll_interval=self.settings.poll_interval,
            resync=self.settings.resync,
            on_submissions=self.replicator.notify if self.replicator is not None else None,
        )
        self._follower.start()
        if self.mining is not None:
            self.miner = mining.start(self.mining, self._store, self.settings.rpc_url, self.deployment)
        if self.settings.storage_indexer_url and self.account is not None:
            self.announcer = Announcer(
                self.settings.storage_indexer_url,
                public_url(self.settings),
                self.shard,
                self.account,
                self.chain_id,
                self.flow_address,
                self.settings.storage_announce_interval,
            )
            self.announcer.start()
        if self.replicator is not None:
            self.replicator.start()
        log.info(
            "storage node %s: shard %d/%d, Flow %s (chain %d), store %s",
            self.settings.storage_name, self.shard.shard_id, self.shard.num_shard, self.flow_address,
            self.chain_id, db_path(self.settings).parent,
        )  # fmt: skip

    def stop_workers(self) -> None:
        if self.announcer is not None:
            self.announcer.stop()
            self.announcer = None
        if self.replicator is not None:
            self.replicator.stop()
            self.replicator = None
        if self.miner is not None:
            self.miner.stop()
            self.miner = None
