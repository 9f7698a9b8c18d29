"""`python -m services.storage_miner`: serve a storage node's JSON-RPC on ZG_STORAGE_HOST:ZG_STORAGE_PORT.

SIGINT and SIGTERM shut it down gracefully (log sync stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start; 4: its chain was replaced (ZG_RESYNC).
"""

from __future__ import annotations

import sys

from services.storage_miner.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
