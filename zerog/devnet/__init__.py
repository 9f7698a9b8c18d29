"""The local network: the bundled chain, the deployment and every daemon on one machine (`zg up`).

Not part of the SDK: it launches processes (chain_node, services) that SDK users never need to import.
"""
