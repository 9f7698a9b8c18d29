"""`python -m services.storage_miner.indexer`: serve the indexer on ZG_INDEXER_HOST:ZG_INDEXER_PORT for
the storage nodes in ZG_INDEXER_NODES. SIGINT/SIGTERM exit 0; bad configuration or busy port exit 1."""

from __future__ import annotations

import sys

from services.storage_miner.indexer.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
