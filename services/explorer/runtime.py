"""What the explorer holds while it runs: the store, the block indexer (a follower thread), the decoder, the
live reads, and the page views over them."""

from __future__ import annotations

import logging
from typing import Any

from eth_utils import keccak

from services.common.follower import DaemonFollower
from services.common.runtime import DaemonRuntime, daemon_web3
from services.explorer.config import ExplorerDaemonSettings, db_path
from services.explorer.decode import AbiDecoder
from services.explorer.indexer import BlockIndexer
from services.explorer.live import LiveChain
from services.explorer.rpc import ChainRpc
from services.explorer.store import ExplorerStore
from services.explorer.views import Views

log = logging.getLogger(__name__)
#: getsourcecode's answer for an address without verified source (Etherscan's field set, empty).
UNVERIFIED = dict.fromkeys(
    [
        "SourceCode",
        "ABI",
        "ContractName",
        "CompilerVersion",
        "OptimizationUsed",
        "Runs",
        "ConstructorArguments",
        "EVMVersion",
        "Library",
        "LicenseType",
        "Proxy",
        "Implementation",
        "SwarmSource",
    ],
    "",
)


class ExplorerRuntime(DaemonRuntime[ExplorerStore, DaemonFollower]):
    name = "explorer"

    def __init__(self, settings: ExplorerDaemonSettings) -> None:
        super().__init__(settings)
        self.settings: ExplorerDaemonSettings = settings
        self.uses_contracts = tuple(self.deployment.data.get("contracts", {}))
        self.decoder = AbiDecoder.from_manifest(self.deployment.data)
        self.live = LiveChain(settings.rpc_url, self.deployment, settings.indexer_url, settings.explorer_live_timeout)
        self.sources = self.deployment.sources()
        # Whether our contract's code on chain hashes to what the published sources build, per address (asked once).
        self._code_matches: dict[str, bool] = {}
        self._rpc: ChainRpc | None = None
        self._views: Views | None = None

    def open(self) -> None:
        path = db_path(self.settings)
        self._store = ExplorerStore.open(path)
        self._rpc = ChainRpc(self.settings.rpc_url)
        indexer = BlockIndexer(
            daemon_web3(self.settings.rpc_url),
            self._rpc,
            self._store,
            self.decoder,
            start_block=self.settings.explorer_start_block,
            confirmations=self.settings.confirmations,
            batch_blocks=self.settings.explorer_batch_blocks,
            resync=self.settings.resync,
        )
        self._follower = DaemonFollower.running_follower(indexer, self.settings.poll_interval)
        self._follower.start()
        self._views = Views(
            self._store, self.live, self.decoder, self.chain_id, self.follower_state, self.verified_source
        )
        log.info("explorer indexing %s into %s", self.settings.rpc_url, path)

    def verified_source(self, address: str) -> dict[str, Any] | None:
        """Our contract at `address` with its published source, if the code on chain is still the code the
        published input builds (its runtime code hash matches); None otherwise."""
        name = self.decoder.contract_name(address)
        if name is None or self.sources is None or not self.sources.verified(name):
            return None
        entry = self.sources.contract(name)
        if address not in self._code_matches:
            code = self.live.code(address)
            if code is None:  # unknown for now: asked again next time
                return None
            self._code_matches[address] = "0x" + keccak(code).hex() == entry["runtimeCodeHash"]
        if not self._code_matches[address]:
            return None
        path = entry["sourcePath"]
        return {
            "ContractName": name,
            "CompilerVersion": self.sources.compiler_version,
            "files": [(path, self.sources.standard_input["sources"][path]["content"])],
        }

    def source_code(self, address: str) -> dict[str, str]:
        """Etherscan's getsourcecode result for `address`: ours and verified, or its "not verified" shape."""
        if self.verified_source(address) is None:
            return {**UNVERIFIED, "ABI": "Contract source code not verified"}
        return self.deployment.etherscan_source(self.decoder.contract_name(address) or "")

    def follower_state(self) -> dict[str, Any]:
        follower = self.follower
        return {
            "unreachable": follower.unreachable,
            "failed": follower.failed,
            "height": follower.sync_height,
            "head": follower.follower.head,
        }

    @property
    def views(self) -> Views:
        return self.running(self._views)

    def close(self) -> None:
        super().close()
        self.live.close()
        if self._rpc is not None:
            self._rpc.close()
            self._rpc = None
