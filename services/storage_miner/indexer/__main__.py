"""`python -m services.storage_miner.indexer`: serve the indexer on ZG_INDEXER_HOST:ZG_INDEXER_PORT for
the storage nodes in ZG_INDEXER_NODES. SIGINT/SIGTERM exit 0; bad configuration or busy port exit 1."""

from __future__ import annotations

import sys

from services.common.serve import main
from services.storage_miner.indexer.config import IndexerSettings
from services.storage_miner.indexer.main import create_app

if __name__ == "__main__":
    sys.exit(main("storage indexer", create_app, IndexerSettings, "indexer"))
