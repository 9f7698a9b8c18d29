"""`python -m services.storage_miner.indexer`: serve the indexer on ZG_INDEXER_HOST:ZG_INDEXER_PORT for
the storage nodes in ZG_INDEXER_NODES. SIGINT/SIGTERM exit 0; bad configuration or busy port exit 1."""

from __future__ import annotations

import sys

from services.common.serve import serve, setup_logging
from services.storage_miner.indexer.main import create_app
from zerog.config import load_settings


def main() -> int:
    setup_logging()
    settings = load_settings()
    return serve(
        "storage indexer", lambda: create_app(settings), settings.indexer_host, settings.indexer_port, "ZG_INDEXER_PORT"
    )


if __name__ == "__main__":
    sys.exit(main())
