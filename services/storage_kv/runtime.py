"""What the KV node holds while it runs: settings, the deployment, the store, the follower and the replayer."""

from __future__ import annotations

import logging

from services.common.jsonrpc import Dispatcher
from services.common.runtime import DaemonRuntime, daemon_web3
from services.storage_kv.config import KVNodeSettings, db_path
from services.storage_kv.methods import KvRpc
from services.storage_kv.store import KvStore
from services.storage_kv.sync import KvFollower, Replayer
from zerog.errors import ConfigError
from zerog.storage.contracts import FLOW

log = logging.getLogger(__name__)


class KvRuntime(DaemonRuntime[KvStore, KvFollower]):
    name = "KV node"
    uses_contracts = (FLOW,)

    def __init__(self, settings: KVNodeSettings) -> None:
        try:
            self.held = settings.kv_stream_set
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        super().__init__(settings)
        self.settings: KVNodeSettings = settings
        try:
            record = self.deployment.record(FLOW)
        except Exception as exc:
            raise ConfigError(f"the deployment {self.deployment.path} has no {FLOW} contract: deploy first") from exc
        self.flow_address = self.deployment.address(FLOW)
        self.flow_abi = record["abi"]
        self.start_block = int(record.get("deployBlock", 0))
        self.replayer: Replayer | None = None
        self.dispatcher: Dispatcher | None = None

    def open(self) -> None:
        s = self.settings
        self._store = KvStore.open(db_path(s))
        self.dispatcher = KvRpc(self._store, self.held).dispatcher()
        self._follower = KvFollower(
            daemon_web3(s.rpc_url), self.flow_address, self.flow_abi, self._store, self.held,
            start_block=self.start_block, confirmations=s.confirmations, poll_interval=s.poll_interval,
            resync=s.resync,
        )  # fmt: skip
        self._follower.start()
        self.replayer = Replayer(self._store, self.held, s.indexer_url, db_path(s).parent, s.kv_fetch_timeout,
                                 s.poll_interval, s.kv_max_blob_bytes)  # fmt: skip
        self.replayer.start()
        streams = "all" if self.held is None else ", ".join("0x" + h.hex() for h in sorted(self.held))
        log.info("KV node: streams %s, Flow %s (chain %d), store %s", streams, self.flow_address, self.chain_id,
                 db_path(s))  # fmt: skip

    def stop_workers(self) -> None:
        if self.replayer is not None:
            self.replayer.stop()
            self.replayer = None
