"""`python -m services.da_server` (also `zg da server`): the OP alt-DA server on ZG_DA_SERVER_HOST:ZG_DA_SERVER_PORT.

SIGINT and SIGTERM shut it down gracefully with exit code 0; 1: bad configuration or busy port; 3: failed to start.
"""

from __future__ import annotations

import sys

from services.da_server.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
