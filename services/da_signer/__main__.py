"""`python -m services.da_signer`: serve DA signer ZG_DA_SIGNER_INDEX on ZG_DA_SIGNER_HOST:ZG_DA_SIGNER_PORT.

SIGINT and SIGTERM shut it down gracefully (follower stopped, store closed) with exit code 0.
Exit code 1: bad configuration or busy port; 3: the app failed to start; 4: its chain was replaced (ZG_RESYNC).
"""

from __future__ import annotations

import sys

from services.da_signer.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
