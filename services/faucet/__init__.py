"""The faucet daemon: a web page and JSON API that drip native tokens from the Faucet contract.

Run it with ``python -m services.faucet``; build the app in code with
:func:`services.faucet.main.create_app`.
"""
