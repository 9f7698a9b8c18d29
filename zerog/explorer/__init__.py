"""Links into a block explorer for what the SDK and `zg` did (a transaction, an address, a stored file, a DA blob)."""

from zerog.explorer.links import ExplorerLinks, explorer_links

__all__ = ["ExplorerLinks", "explorer_links"]
