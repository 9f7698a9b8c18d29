"""Settings of the bundled chain node (anvil)."""

from __future__ import annotations

from pydantic import Field

from zerog.config import DEFAULT_RPC_PORT, Settings


class ChainNodeSettings(Settings):
    chain_host: str = "127.0.0.1"
    chain_port: int = DEFAULT_RPC_PORT
    # Seconds between blocks when no transaction comes, so epochs (and mining) advance on an idle chain;
    # transactions are still mined at once (anvil's mixed mining). 0: a block per transaction only.
    block_time: float = Field(default=1.0, ge=0)
    dev_balance_ether: int = 10_000
