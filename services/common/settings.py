"""Settings every daemon has on top of the core ones: who may call it, and what to do on a replaced chain."""

from __future__ import annotations

from pydantic import Field

from zerog.config import Settings


class DaemonSettings(Settings):
    # DNS names (comma-separated) its Host header may carry besides IP addresses and localhost, and the web
    # origins allowed to call it from a browser (CORS, and state-changing requests); none by default.
    allowed_hosts: str = ""
    cors_origins: str = ""
    # A daemon whose event follower finds another chain than the one its data came from (a wiped dev chain)
    # stops and deletes nothing; with this on it drops what it synced from the old chain and syncs again.
    resync: bool = False
    # Seconds a starting daemon waits for the chain node to answer before it gives up (a process manager then
    # restarts it); once running, outages are waited out.
    chain_wait: float = Field(default=30, ge=0)

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
