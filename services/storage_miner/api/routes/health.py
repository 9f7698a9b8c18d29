"""GET /health: the daemon is up (always 200); `status` is "degraded" while the chain does not answer
or the log sync has stopped; `replication`: what the node fetched from its peers (storage_miner/replication.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from services.storage_miner.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(runtime: RuntimeDep) -> dict[str, Any]:
    def probe() -> int | None:
        try:
            return int(runtime.w3.eth.block_number)
        except Exception:  # any transport failure means "unreachable"
            return None

    block_number = await run_in_threadpool(probe)
    follower = runtime.follower
    ok = block_number is not None and follower.failed is None
    return {
        "status": "ok" if ok else "degraded",
        "chain": "ok" if block_number is not None else "unreachable",
        "chainId": runtime.chain_id,
        "blockNumber": block_number,
        "flow": runtime.flow_address,
        "shardId": runtime.shard.shard_id,
        "numShard": runtime.shard.num_shard,
        "logSyncHeight": follower.sync_height,
        "logSyncError": follower.failed,
        "nextTxSeq": runtime.store.next_tx_seq(),
        "replication": runtime.replicator.status() if runtime.replicator else {"enabled": False},
    }
