"""The local network's settings: every component's, plus how many of each daemon `zg up` runs."""

from __future__ import annotations

from pydantic import Field

from chain_node.settings import ChainNodeSettings
from services.compute_provider.config import ProviderSettings
from services.da_disperser.config import DADisperserSettings
from services.da_server.config import DAServerSettings
from services.da_signer.config import DEFAULT_DA_SIGNER_PORT, DASignerSettings
from services.explorer.config import ExplorerDaemonSettings
from services.faucet.config import FaucetDaemonSettings
from services.storage_kv.config import KVNodeSettings
from services.storage_miner.config import StorageNodeSettings
from services.storage_miner.indexer.config import IndexerSettings
from zerog.market.settings import MarketSettings
from zerog.storage.settings import DEFAULT_STORAGE_PORT


class NetworkSettings(
    ChainNodeSettings,
    FaucetDaemonSettings,
    StorageNodeSettings,
    IndexerSettings,
    KVNodeSettings,
    ProviderSettings,
    DASignerSettings,
    DAServerSettings,
    DADisperserSettings,
    ExplorerDaemonSettings,
    MarketSettings,
):
    # Ports of the storage nodes, one shard each (1, 2 or 4 nodes).
    storage_ports: str = f"{DEFAULT_STORAGE_PORT},{DEFAULT_STORAGE_PORT + 1}"
    # Port of a node holding the whole flow (a full replica; 0: none). Clients that pick the fewest nodes (the
    # official SDK) upload to it alone; replication fills the shards from it and it from them.
    storage_full_port: int = Field(default=DEFAULT_STORAGE_PORT + 2, ge=0)
    # DA signers (signer i on port da_signer_base_port + i, dev account 3 + i). On the local network the deploy
    # makes them the genesis signers (members from epoch 0, stakes paid by the deployer), so the DA works as soon
    # as `zg up` is.
    da_signers: int = Field(default=4, ge=0, le=32)
    da_signer_base_port: int = DEFAULT_DA_SIGNER_PORT

    @property
    def storage_port_list(self) -> list[int]:
        ports = [int(p) for p in self.storage_ports.split(",") if p.strip()]
        if len(ports) not in (1, 2, 4):
            raise ValueError(f"storage_ports must list 1, 2 or 4 ports (one shard each), not {len(ports)}")
        return ports

    def da_signer(self, index: int) -> DASignerSettings:
        """Signer `index` of the network: its port and URL, and (whatever key the env holds) dev account 3 + index,
        the genesis signer the deploy registered."""
        port = self.da_signer_base_port + index
        return DASignerSettings.model_validate(
            self.model_dump()
            | {
                "da_signer_index": index,
                "da_signer_port": port,
                "da_signer_url": f"http://{self.da_signer_host}:{port}",
                "da_signer_private_key": None,
            }
        )
