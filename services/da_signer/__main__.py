"""`python -m services.da_signer`: serve DA signer ZG_DA_SIGNER_INDEX on ZG_DA_SIGNER_HOST:ZG_DA_SIGNER_PORT.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import sys

from services.common.serve import serve, setup_logging
from services.da_signer.main import create_app
from zerog.config import load_settings


def main() -> int:
    setup_logging()
    settings = load_settings()
    return serve(
        f"DA signer {settings.da_signer_index}",
        lambda: create_app(settings),
        settings.da_signer_host,
        settings.da_signer_port,
        "ZG_DA_SIGNER_PORT",
    )


if __name__ == "__main__":
    sys.exit(main())
