"""Storage settings of the SDK side: where the indexer is, and the storage contracts' deploy parameters."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from zerog.config import Settings

#: 0G's own defaults: zgs node JSON-RPC on 5678, indexer on 12345.
DEFAULT_STORAGE_PORT = 5678
DEFAULT_INDEXER_PORT = 12345


class StorageSettings(Settings):
    network_keys: ClassVar[dict[str, str]] = {"indexer": "indexer_url"}

    # The indexer uploads and downloads ask which nodes hold what.
    indexer_url: str = f"http://127.0.0.1:{DEFAULT_INDEXER_PORT}"
    # Deploy time: wei per 256-byte sector, blocks per mining epoch, sectors per pricing chunk of the reward pool
    # (0G: 8 GiB), seconds over which a chunk's fees are released.
    storage_price_per_sector: int = Field(default=10**9, ge=0)
    storage_blocks_per_epoch: int = Field(default=20, gt=0)
    storage_sectors_per_pricing_chunk: int = Field(default=2**25, gt=0)
    storage_release_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # Deploy time (PoraMine): the initial difficulty (target = (2^256 - 1) / difficulty), the answers per epoch the
    # difficulty steers toward (also the most an epoch accepts), and the most sectors of its shard one miner
    # covers (0G: 8 TiB).
    storage_mining_difficulty: int = Field(default=2**16, ge=1)
    storage_mining_target_answers: int = Field(default=4, ge=1, le=2**32 - 1)
    storage_mining_max_length: int = Field(default=2**35, ge=1024)


class KVSettings(Settings):
    network_keys: ClassVar[dict[str, str]] = {"kv": "kv_url"}

    # The KV node the `zg storage kv` reads ask (0G's KV node listens on 6789).
    kv_url: str = "http://127.0.0.1:6789"
