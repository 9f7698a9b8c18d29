"""What the node holds while it runs: settings, the deployment, the store, the log sync, the methods."""

from __future__ import annotations

import logging

import requests
from web3 import Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from services.common.jsonrpc import Dispatcher
from services.storage_miner import mining
from services.storage_miner.core.config import FLOW_CONTRACT, Settings, db_path, segments_dir, shard_config
from services.storage_miner.methods import NodeRpc
from services.storage_miner.store import NodeStore
from services.storage_miner.sync import SubmitFollower
from zerog.chain import Deployment, connect
from zerog.errors import ConfigError

log = logging.getLogger(__name__)

#: A dead chain node should make /health answer promptly, not after seconds of back-off.
RPC_RETRIES = 2
RPC_BACKOFF_SECONDS = 0.1


def node_web3(rpc_url: str) -> Web3:
    w3 = connect(rpc_url, check=False)
    w3.provider.exception_retry_configuration = ExceptionRetryConfiguration(  # type: ignore[union-attr]
        errors=(ConnectionError, requests.ConnectionError, requests.Timeout),
        retries=RPC_RETRIES,
        backoff_factor=RPC_BACKOFF_SECONDS,
    )
    return w3


class NodeRuntime:
    """Built by create_app (fails fast on bad config); `open()`/`close()` run in the app lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shard = shard_config(settings)
        if problem := self.shard.problem():
            raise ConfigError(f"bad shard config (ZG_STORAGE_SHARD_ID / ZG_STORAGE_NUM_SHARD): {problem}")
        self.deployment = Deployment.for_settings(settings)
        try:
            record = self.deployment.record(FLOW_CONTRACT)
        except Exception as exc:
            raise ConfigError(
                f"the deployment {self.deployment.path} has no {FLOW_CONTRACT} contract: "
                "deploy the storage contracts (`zg deploy`) before starting a storage node"
            ) from exc
        self.flow_address = self.deployment.address(FLOW_CONTRACT)
        self.flow_abi = record["abi"]
        self.start_block = int(record.get("deployBlock", 0))
        # A redeploy on a fresh chain can reuse the address; the deploy block hash tells them apart.
        self.flow_identity = f"{self.flow_address}@{record.get('deployBlockHash', '')}"
        self.chain_id = self.deployment.chain_id
        self.w3 = node_web3(settings.rpc_url)
        self._store: NodeStore | None = None
        self._follower: SubmitFollower | None = None
        self.rpc = NodeRpc(lambda: self.store, lambda: self.follower, self.shard, self.chain_id, self.flow_address)
        self.dispatcher: Dispatcher = self.rpc.dispatcher()
        # Storage mining (ZG_STORAGE_MINING): resolved now so that bad settings fail the start.
        self.mining = mining.resolve(settings, self.deployment)
        self.miner: mining.Miner | None = None

    def check_chain(self) -> None:
        """If the chain answers, it must be the one the manifest was deployed on."""
        try:
            chain_id = self.w3.eth.chain_id
        except Exception:  # not a config error: the node syncs once the chain is back
            log.warning("chain node at %s does not answer yet", self.settings.rpc_url)
            return
        if chain_id != self.chain_id:
            raise ConfigError(
                f"the chain at {self.settings.rpc_url} has chain id {chain_id}, "
                f"but {self.deployment.path} is for chain {self.chain_id}"
            )

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
        self._follower = SubmitFollower(
            node_web3(self.settings.rpc_url),
            self.flow_address,
            self.flow_abi,
            self._store,
            start_block=self.start_block,
            confirmations=self.settings.confirmations,
            poll_interval=self.settings.poll_interval,
            resync=self.settings.resync,
        )
        self._follower.start()
        if self.mining is not None:
            self.miner = mining.start(self.mining, self._store, self.settings.rpc_url, self.deployment)
        log.info(
            "storage node %s: shard %d/%d, Flow %s (chain %d), store %s",
            self.settings.storage_name, self.shard.shard_id, self.shard.num_shard, self.flow_address,
            self.chain_id, db_path(self.settings).parent,
        )  # fmt: skip

    def close(self) -> None:
        if self.miner is not None:
            self.miner.stop()
            self.miner = None
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def store(self) -> NodeStore:
        if self._store is None:
            raise RuntimeError("the storage node is not running (app lifespan not started)")
        return self._store

    @property
    def follower(self) -> SubmitFollower:
        if self._follower is None:
            raise RuntimeError("the storage node is not running (app lifespan not started)")
        return self._follower
