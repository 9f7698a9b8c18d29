"""The KV node: replays the KV streams of the Flow into a versioned store and serves the official `kv_*` JSON-RPC."""
