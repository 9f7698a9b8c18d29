"""The storage node daemon (`python -m services.storage_miner`) and its indexer
(`python -m services.storage_miner.indexer`): the official 0G node's and indexer's JSON-RPC, so the
official SDKs upload to and download from them unchanged."""
