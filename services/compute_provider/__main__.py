"""`python -m services.compute_provider`: prepare (train the model if it is not cached, load it, register the
service on chain), then serve on ZG_COMPUTE_HOST:ZG_COMPUTE_PORT, logging to stdout.

SIGINT and SIGTERM shut it down gracefully — the latest vouchers are settled on chain first — with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import logging
import signal
import sys

import uvicorn

from services.compute_provider.core.runtime import ProviderRuntime
from services.compute_provider.main import create_app
from zerog.config import Settings, load_settings
from zerog.errors import ZeroGError
from zerog.process import port_in_use

log = logging.getLogger("services.compute_provider")

EXIT_CONFIG = 1
EXIT_STARTUP = 3
TRAIN_LOG_EVERY = 50


def _progress(step: int, steps: int, loss: float) -> None:
    if step % TRAIN_LOG_EVERY == 0 or step == steps:
        log.info("training: step %d/%d, loss %.3f", step, steps, loss)


def serve(settings: Settings) -> int:
    host, port = settings.compute_host, settings.compute_port
    if port_in_use(host, port):
        log.error("provider cannot start: port %d on %s is busy (set ZG_COMPUTE_PORT)", port, host)
        return EXIT_CONFIG
    # SIGTERM during preparation (training can take a minute) ends us like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        runtime = ProviderRuntime(settings)
        runtime.prepare(_progress)
    except ZeroGError as exc:
        log.error("provider cannot start: %s", exc.message)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        log.info("provider stopped while starting")
        return 0
    app = create_app(settings, runtime)
    # log_config=None: uvicorn's loggers propagate to our stdout handler instead of their own.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on"))
    interrupted = False
    try:
        server.run()
    except KeyboardInterrupt:
        interrupted = True
    if not server.started and not interrupted:
        return EXIT_STARTUP
    log.info("provider stopped")
    return 0


def main() -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(load_settings())


if __name__ == "__main__":
    sys.exit(main())
