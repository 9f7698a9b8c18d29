"""`python -m services.da_server` (also `zg da server`): the OP alt-DA server on ZG_DA_SERVER_HOST:ZG_DA_SERVER_PORT.

SIGINT and SIGTERM shut it down gracefully with exit code 0; 1: bad configuration or busy port; 3: failed to start.
"""

from __future__ import annotations

import sys

from services.common import serve as common
from services.da_server.main import create_app
from zerog.config import Settings, load_settings


def serve(settings: Settings) -> int:
    return common.serve(
        "alt-DA server", lambda: create_app(settings), settings.da_server_host, settings.da_server_port,
        "ZG_DA_SERVER_PORT",
    )  # fmt: skip


def main() -> int:
    common.setup_logging()
    return serve(load_settings())


if __name__ == "__main__":
    sys.exit(main())
