"""Exceptions of the SDK; each is also a clean CLI error (message, exit code 1)."""

from __future__ import annotations

import click


class ZeroGError(click.ClickException):
    """Base class of every error the SDK raises on purpose."""


class ConfigError(ZeroGError):
    """Settings are missing or invalid (no account, no deployment, bad URL...)."""


class ChainUnavailableError(ZeroGError):
    """The RPC endpoint does not answer."""


class DeploymentNotFoundError(ZeroGError):
    """No deployment manifest for this chain, or a contract is missing from it."""


class DeploymentMismatchError(DeploymentNotFoundError):
    """The chain does not hold what the manifest says: another chain id, no code or other code at an address."""


class TransactionError(ZeroGError):
    """A transaction would revert or did revert; `reason` is the decoded custom error when known."""

    def __init__(self, message: str, reason: str | None = None, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.tx_hash = tx_hash


class NetworkMismatchError(ConfigError):
    """The network is not what its profile says: another chain id, no code at a contract's address, or a contract
    that does not answer our interface. Raised before any transaction is sent."""


class ComponentUnavailableError(ConfigError):
    """The selected network does not run our contracts for a component (0G's own deployment there differs)."""
