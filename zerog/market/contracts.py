"""The marketplace's contract as the deployment manifest names it."""

from __future__ import annotations

MARKETPLACE = "Marketplace"
CONTRACTS = (MARKETPLACE,)
