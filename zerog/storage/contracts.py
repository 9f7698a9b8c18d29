"""The storage network's contracts as the deployment manifest names them, and their lookups."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract

from zerog.chain import Deployment

FLOW = "Flow"
MARKET = "FixedPriceMarket"
REWARD = "ChunkLinearReward"
MINE = "PoraMine"
#: Every storage contract, in deploy order.
CONTRACTS = (REWARD, MARKET, FLOW, MINE)


def flow_contract(w3: Web3, deployment: Deployment) -> Contract:
    return deployment.contract(w3, FLOW)


def market_of(w3: Web3, deployment: Deployment, flow: Contract) -> Contract:
    """The market the Flow charges through (its address from the Flow, its ABI from the manifest)."""
    return w3.eth.contract(address=flow.functions.market().call(), abi=deployment.record(MARKET)["abi"])
