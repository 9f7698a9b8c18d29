"""The bundled EVM node: anvil with the 0G local chain id and persistent state."""

from chain_node.node import ChainNode, ChainNodeError, find_anvil, run_until_signal

__all__ = ["ChainNode", "ChainNodeError", "find_anvil", "run_until_signal"]
