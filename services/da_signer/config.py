"""A DA signer daemon's settings (``ZG_DA_SIGNER_*``), its identity and directory."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr

from services.common.settings import DaemonSettings
from zerog.accounts import role_account
from zerog.config import ETHER
from zerog.da.keys import SIGNER_DEV_ACCOUNT_OFFSET
from zerog.da.settings import DASettings
from zerog.errors import ConfigError

DEFAULT_DA_SIGNER_PORT = 8800


class DASignerSettings(DASettings, DaemonSettings):
    # Its index (data dir <data_dir>/da-signer-<index>; dev account 3 + index on the local network), where it
    # listens, the URL it registers on chain (default http://host:port), the stake it registers with, and its
    # account key. Its BLS key is derived from the account key and a domain tag (zerog.da.bls.derive_secret_key),
    # so there is no second secret to keep.
    da_signer_index: int = Field(default=0, ge=0, le=31)
    da_signer_host: str = "127.0.0.1"
    da_signer_port: int = DEFAULT_DA_SIGNER_PORT
    da_signer_url: str | None = None
    da_signer_stake_wei: int = Field(default=100 * ETHER, gt=0)
    da_signer_private_key: SecretStr | None = None
    # Seconds between two passes deleting the cells of data roots whose retention ended.
    da_prune_interval: float = Field(default=30.0, gt=0)


def signer_account(settings: DASignerSettings, index: int | None = None) -> LocalAccount:
    """ZG_DA_SIGNER_PRIVATE_KEY, else (local network only) dev account 3 + the signer index. An empty key counts
    as none (`zg up` clears it, so its signers are the deployment's genesis signers)."""
    index = settings.da_signer_index if index is None else index
    has_key = settings.da_signer_private_key is not None and settings.da_signer_private_key.get_secret_value()
    if not has_key and settings.is_local and SIGNER_DEV_ACCOUNT_OFFSET + index >= settings.dev_accounts:
        raise ConfigError(
            f"DA signer {index} would use dev account {SIGNER_DEV_ACCOUNT_OFFSET + index}, but the chain has "
            f"{settings.dev_accounts}: set ZG_DA_SIGNER_PRIVATE_KEY"
        )
    return role_account(settings, "da_signer_private_key", SIGNER_DEV_ACCOUNT_OFFSET + index, f"DA signer {index}")


def signer_socket(settings: DASignerSettings) -> str:
    """The URL the signer registers: ZG_DA_SIGNER_URL, else http://<host>:<port>."""
    return (settings.da_signer_url or f"http://{settings.da_signer_host}:{settings.da_signer_port}").rstrip("/")


def signer_dir(settings: DASignerSettings) -> Path:
    """Everything one signer keeps: `<data_dir>/da-signer-<index>/` (SQLite, then `cells/`)."""
    return settings.data_dir / f"da-signer-{settings.da_signer_index}"
