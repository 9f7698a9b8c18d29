"""Python SDK and `zg` CLI of the 0G stack."""

__version__ = "0.1.0"
