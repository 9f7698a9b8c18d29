"""`python -m services.faucet`: serve the faucet on ZG_FAUCET_HOST:ZG_FAUCET_PORT, logging to stdout.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import logging
import signal
import sys

import uvicorn

from services.faucet.main import create_app
from zerog.config import load_settings
from zerog.errors import ZeroGError
from zerog.process import port_in_use

log = logging.getLogger("services.faucet")

EXIT_CONFIG = 1
EXIT_STARTUP = 3


def main() -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    try:
        app = create_app(settings)
    except ZeroGError as exc:
        log.error("faucet cannot start: %s", exc.message)
        return EXIT_CONFIG
    host, port = settings.faucet_host, settings.faucet_port
    if port_in_use(host, port):
        log.error("faucet cannot start: port %d on %s is busy (set ZG_FAUCET_PORT)", port, host)
        return EXIT_CONFIG

    # log_config=None: uvicorn's loggers propagate to our stdout handler instead of their own.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on"))
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the previous handler:
    # make both a KeyboardInterrupt, which ends us cleanly below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    interrupted = False
    try:
        server.run()
    except KeyboardInterrupt:
        interrupted = True
    if not server.started and not interrupted:
        return EXIT_STARTUP
    log.info("faucet stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
