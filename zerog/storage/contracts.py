"""The storage network's contracts as the deployment manifest names them, and their lookups."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract

from zerog.chain import Deployment
from zerog.errors import NetworkMismatchError

FLOW = "Flow"
MARKET = "FixedPriceMarket"
REWARD = "ChunkLinearReward"
MINE = "PoraMine"
#: Every storage contract, in deploy order.
CONTRACTS = (REWARD, MARKET, FLOW, MINE)


def flow_contract(w3: Web3, deployment: Deployment) -> Contract:
    return deployment.contract(w3, FLOW)


def market_of(w3: Web3, deployment: Deployment, flow: Contract) -> Contract:
    """The market the Flow charges through (its address from the Flow, its ABI from the deployment). On a network
    profile's Flow, answering `market()` and then `pricePerSector()` is the check that both speak our interface; a
    market the profile names must be the Flow's."""
    market = w3.eth.contract(address=deployment.probe(flow, FLOW, "market"), abi=deployment.abi(MARKET))
    if deployment.profile is None:
        return market
    if MARKET in deployment.data["contracts"] and (named := deployment.address(MARKET)) != market.address:
        raise NetworkMismatchError(
            f"network {deployment.profile.name}: its Flow {flow.address} charges through the market {market.address}, "
            f"but the profile names {named} ({deployment.record(MARKET)['source'] or deployment.path})"
        )
    deployment.probe(market, MARKET, "pricePerSector")
    return market
