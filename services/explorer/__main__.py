"""`python -m services.explorer`: serve the daemon (exit codes: see services.common.serve)."""

from __future__ import annotations

import sys

from services.explorer.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
