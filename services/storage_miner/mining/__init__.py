"""PoRA storage mining inside the storage node (on with ZG_STORAGE_MINING=true).

* `config`: the miner's settings resolved against the deployment (key, miner id, beneficiary, contracts).
* `state`: its SQLite state (sealed segments, search progress, answers, rewards); it resumes from it.
* `sealed`: the sealed copy of the node's segments (sealed.bin), sealed for the miner id.
* `data`: the node store as the miner sees it, and answers with their flow proofs built from it.
* `search`: the worker processes' vectorized nonce search.
* `planning`: what to mine: the epoch's context, the sealed copy kept in line with the node store, the search plan
  (range, target, the sectors held).
* `search_pool`: the worker processes kept busy with nonce ranges of the plan; answers found go to the submitter.
* `submission`: the submitter thread: proves, checks and sends answers; settles those of a previous run.
* `rewards`: the reward logs followed into the state; the beneficiary's balance, withdrawn when configured.
* `miner`: the thread that ties it together (its loop, its status).

GET /mining (services/storage_miner/api/routes/mining.py) shows the miner's status; this package does not import the
node's runtime or its API.

The definitions the contract verifies live in zerog/storage/pora.py and zerog/storage/flow_tree.py (shared with tests
and clients).
"""

from __future__ import annotations

from services.common.runtime import daemon_web3
from services.storage_miner.mining.config import MinerConfig
from services.storage_miner.mining.miner import Miner
from services.storage_miner.store import NodeStore
from zerog.chain import Deployment
from zerog.config import Settings


def resolve(settings: Settings, deployment: Deployment) -> MinerConfig | None:
    """The miner's configuration, or None when mining is off; raises ConfigError on bad settings."""
    if not settings.storage_mining:
        return None
    return MinerConfig.resolve(settings, deployment)


def start(config: MinerConfig, store: NodeStore, rpc_url: str, deployment: Deployment) -> Miner:
    """Start mining with `store`'s data."""
    miner = Miner(config, store, daemon_web3(rpc_url), daemon_web3(rpc_url), deployment.error_decoder())
    miner.start()
    return miner
