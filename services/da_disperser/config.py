"""The DA disperser's settings (``ZG_DA_DISPERSER_*``)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr

from services.common.settings import DaemonSettings
from zerog.accounts import role_account
from zerog.da.settings import DASettings

#: 0G DA client's gRPC port.
DEFAULT_DA_DISPERSER_PORT = 51001
DEFAULT_DA_DISPERSER_HTTP_PORT = 51002
#: On the local network without a key: dev account 0, the CLI's own (every other dev account has a role).
DISPERSER_DEV_INDEX = 0
#: The random challenger's own account locally (no other daemon uses it).
CHALLENGER_DEV_INDEX = 11


class DADisperserSettings(DASettings, DaemonSettings):
    # Where it listens: the gRPC API (0G DA client's port) and, on the same host, the HTTP side (/health, and
    # GET /v1/requests/<id>: a request's state with its error message, which the gRPC status has no field for).
    da_disperser_host: str = "127.0.0.1"
    da_disperser_port: int = Field(default=DEFAULT_DA_DISPERSER_PORT, gt=0, lt=65536)
    da_disperser_http_port: int = Field(default=DEFAULT_DA_DISPERSER_HTTP_PORT, gt=0, lt=65536)
    # Token gRPC calls must carry (metadata `authorization: Bearer <token>`): dispersing spends the key's blob
    # fees, so listening beyond loopback needs one.
    da_disperser_token: SecretStr | None = None
    # The key that pays the blob fees and submits the attestations.
    da_disperser_private_key: SecretStr | None = None
    # Threads serving gRPC calls (dispersal itself is one worker, in order).
    da_disperser_grpc_workers: int = Field(default=8, gt=0)
    # Random sampling challenges (services.da_disperser.challenger): seconds between two (0: off; `zg up`: 60), and
    # the key that posts the bonds and claims the missed ones.
    da_challenge_interval: float = Field(default=0, ge=0)
    da_challenger_private_key: SecretStr | None = None


def disperser_account(settings: DADisperserSettings) -> LocalAccount:
    """ZG_DA_DISPERSER_PRIVATE_KEY, else (local network only) dev account 0."""
    return role_account(settings, "da_disperser_private_key", DISPERSER_DEV_INDEX, "DA disperser")


def queue_dir(settings: DADisperserSettings) -> Path:
    """The persisted dispersal queue (services.common.dispersal)."""
    return settings.data_dir / "da-disperser" / "queue"


def challenger_account(settings: DADisperserSettings) -> LocalAccount:
    """ZG_DA_CHALLENGER_PRIVATE_KEY, else (local network only) dev account 11."""
    return role_account(settings, "da_challenger_private_key", CHALLENGER_DEV_INDEX, "DA challenger")
