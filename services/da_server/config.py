"""The OP alt-DA server's settings (``ZG_DA_SERVER_*``)."""

from __future__ import annotations

from pydantic import SecretStr

from services.common.settings import DaemonSettings
from zerog.da.settings import DASettings

DEFAULT_DA_SERVER_PORT = 3100


class DAServerSettings(DASettings, DaemonSettings):
    da_server_host: str = "127.0.0.1"
    da_server_port: int = DEFAULT_DA_SERVER_PORT
    # Bearer token the server requires on puts (they spend its key's blob fees); needed to listen beyond loopback.
    da_server_token: SecretStr | None = None
