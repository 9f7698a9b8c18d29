"""The storage indexer: which storage nodes exist, which shard each stores, and where a file is."""
