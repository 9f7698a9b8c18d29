"""The DA signer app: `create_app(settings)` builds it on the daemon platform; the lifespan runs the upload follower
and registration.

Every error leaves as ``{"error": {"code": ..., "message": ...}}`` with a fitting status.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_daemon_app
from services.common.errors import JsonErrors
from services.common.guard import BodyLimits
from services.common.serve import DaemonEntry
from services.da_signer.api.main import api_router
from services.da_signer.api.routes.data import max_bundle_bytes
from services.da_signer.config import DASignerSettings
from services.da_signer.runtime import SignerRuntime
from zerog.config import get_settings


def create_app(settings: DASignerSettings | None = None) -> FastAPI:
    """The signer app for `settings` (default: the process settings). Fails fast (ConfigError) on bad
    configuration: no key, no DA contracts in the manifest, another chain, another signer's data dir."""
    settings = settings or get_settings(DASignerSettings)
    runtime = SignerRuntime(settings)
    runtime.check_chain()
    runtime.prepare()
    return create_daemon_app(
        title="0G DA signer",
        summary="Verifies and stores its cell columns of paid data roots, attests them with BLS, serves them back.",
        settings=settings,
        runtime=runtime,
        routers=[api_router],
        dialect=JsonErrors(),
        # The only body it takes is a column bundle of a blob of the largest legal size.
        limits=BodyLimits(max_bundle_bytes(settings.da_max_blob_size)),
    )


DAEMON = DaemonEntry(lambda s: f"DA signer {s.da_signer_index}", DASignerSettings, "da_signer", create_app)
