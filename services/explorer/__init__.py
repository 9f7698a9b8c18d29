"""The explorer: indexes the chain's blocks, transactions and logs into SQLite, decodes our contracts' calls,
events and reverts, and serves pages and a JSON API for the chain and what storage, compute, DA and the faucet
did on it (`python -m services.explorer`, `zg explorer start`, part of `zg up`)."""
