"""`python -m services.storage_miner`: serve a storage node's JSON-RPC on ZG_STORAGE_HOST:ZG_STORAGE_PORT.

SIGINT and SIGTERM shut it down gracefully (log sync stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import sys

from services.common.serve import serve, setup_logging
from services.storage_miner.main import create_app
from zerog.config import load_settings


def main() -> int:
    setup_logging()
    settings = load_settings()
    return serve(
        f"storage node {settings.storage_name}",
        lambda: create_app(settings),
        settings.storage_host,
        settings.storage_port,
        "ZG_STORAGE_PORT",
    )


if __name__ == "__main__":
    sys.exit(main())
