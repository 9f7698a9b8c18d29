"""`python -m services.da_disperser` (also `zg da disperser start`): the gRPC disperser on
ZG_DA_DISPERSER_HOST:ZG_DA_DISPERSER_PORT, /health and request status on ZG_DA_DISPERSER_HTTP_PORT.

SIGINT and SIGTERM shut it down gracefully with exit code 0; 1: bad configuration or busy port; 3: failed to start.
"""

from __future__ import annotations

import sys

from services.da_disperser.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
