"""`python -m services.compute_provider`: prepare (train the model if it is not cached, load it, register the
service on chain), then serve on ZG_COMPUTE_HOST:ZG_COMPUTE_PORT, logging to stdout.

SIGINT and SIGTERM shut it down gracefully — the latest vouchers are settled on chain first — with exit code 0.
Exit code 1: bad configuration (torch not installed too) or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI

from services.common import serve as common
from services.compute_provider.config import ProviderSettings
from zerog.config import load_settings
from zerog.errors import ZeroGError
from zerog.extras import PROVIDER, importing

log = logging.getLogger("services.compute_provider")

TRAIN_LOG_EVERY = 50


def _progress(step: int, steps: int, loss: float) -> None:
    if step % TRAIN_LOG_EVERY == 0 or step == steps:
        log.info("training: step %d/%d, loss %.3f", step, steps, loss)


def serve(settings: ProviderSettings) -> int:
    """Raises MissingExtraError, before anything starts, if torch is not installed."""
    with importing(PROVIDER):
        from services.compute_provider.main import create_app
        from services.compute_provider.runtime import ProviderRuntime

    def build() -> FastAPI:
        runtime = ProviderRuntime(settings)
        runtime.prepare(_progress)
        return create_app(settings, runtime)

    return common.serve("provider", build, settings.compute_host, settings.compute_port, "ZG_COMPUTE_PORT")


def main() -> int:
    common.setup_logging()
    try:
        return serve(load_settings(ProviderSettings))
    except ZeroGError as exc:
        log.error("provider cannot start: %s", exc.message)
        return common.EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
