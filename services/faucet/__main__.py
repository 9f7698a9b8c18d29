"""`python -m services.faucet`: serve the faucet on ZG_FAUCET_HOST:ZG_FAUCET_PORT, logging to stdout.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start.
"""

from __future__ import annotations

import sys

from services.faucet.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
