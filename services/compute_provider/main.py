"""The provider app: `create_app(settings, runtime)` builds it; the lifespan opens the store and runs the settler
(which settles once more on shutdown).

Every error leaves in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``: validation errors
are 400 (not FastAPI's 422), unknown routes 404, anything unexpected 500 without internals.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_daemon_app
from services.common.errors import OpenAIErrors
from services.common.guard import BodyLimits
from services.compute_provider.api.main import api_router
from services.compute_provider.config import ProviderSettings
from services.compute_provider.runtime import ProviderRuntime
from zerog.config import get_settings

#: A request is a prompt for a model with a context of a few thousand bytes: 256 KiB is far beyond any valid one.
MAX_BODY_BYTES = 256 * 1024


def create_app(settings: ProviderSettings | None = None, runtime: ProviderRuntime | None = None) -> FastAPI:
    """The app around `runtime` (default: a new one for `settings`, not yet prepared: /health answers 503
    until `runtime.prepare()` has loaded the model and registered the service)."""
    settings = settings or (runtime.settings if runtime else get_settings(ProviderSettings))
    return create_daemon_app(
        title="0G compute provider",
        summary="OpenAI-compatible inference, paid per token with EIP-712 vouchers.",
        settings=settings,
        runtime=runtime or ProviderRuntime(settings),
        routers=[api_router],
        dialect=OpenAIErrors(),
        limits=BodyLimits(MAX_BODY_BYTES),
    )
