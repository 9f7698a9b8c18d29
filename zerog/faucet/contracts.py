"""The faucet's contract as the deployment manifest names it."""

from __future__ import annotations

FAUCET = "Faucet"
CONTRACTS = (FAUCET,)
