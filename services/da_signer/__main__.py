"""`python -m services.da_signer`: serve DA signer ZG_DA_SIGNER_INDEX on ZG_DA_SIGNER_HOST:ZG_DA_SIGNER_PORT.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import logging
import signal
import sys

import uvicorn

from services.da_signer.main import create_app
from zerog.config import load_settings
from zerog.errors import ZeroGError
from zerog.process import port_in_use

log = logging.getLogger("services.da_signer")

EXIT_CONFIG = 1
EXIT_STARTUP = 3


def main() -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    name = f"DA signer {settings.da_signer_index}"
    host, port = settings.da_signer_host, settings.da_signer_port
    if port_in_use(host, port):
        log.error("%s cannot start: port %d on %s is busy (set ZG_DA_SIGNER_PORT)", name, port, host)
        return EXIT_CONFIG
    try:
        app = create_app(settings)
    except ZeroGError as exc:
        log.error("%s cannot start: %s", name, exc.message)
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
    log.info("%s stopped", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
