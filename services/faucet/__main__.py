"""`python -m services.faucet`: serve the faucet on ZG_FAUCET_HOST:ZG_FAUCET_PORT, logging to stdout.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import sys

from services.common.serve import serve, setup_logging
from services.faucet.main import create_app
from zerog.config import load_settings


def main() -> int:
    setup_logging()
    settings = load_settings()
    return serve("faucet", lambda: create_app(settings), settings.faucet_host, settings.faucet_port, "ZG_FAUCET_PORT")


if __name__ == "__main__":
    sys.exit(main())
