"""`python -m services.storage_kv`: serve the KV node's JSON-RPC on ZG_KV_HOST:ZG_KV_PORT (exit codes: see
services.common.serve)."""

from __future__ import annotations

import sys

from services.storage_kv.main import DAEMON

if __name__ == "__main__":
    sys.exit(DAEMON.main())
