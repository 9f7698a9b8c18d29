"""`python -m services.storage_kv`: serve the KV node's JSON-RPC on ZG_KV_HOST:ZG_KV_PORT (exit codes: see
services.common.serve)."""

from __future__ import annotations

import sys

from services.common.serve import main
from services.storage_kv.config import KVNodeSettings
from services.storage_kv.main import create_app

if __name__ == "__main__":
    sys.exit(main("KV node", create_app, KVNodeSettings, "kv"))
