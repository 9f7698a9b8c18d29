"""Client side of the faucet: ask a faucet daemon for test tokens (`zg faucet`, tests, scripts)."""

from zerog.faucet.client import FaucetError, FaucetUnavailableError, claim

__all__ = ["FaucetError", "FaucetUnavailableError", "claim"]
