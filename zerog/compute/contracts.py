"""The compute network's contracts as the deployment manifest names them."""

from __future__ import annotations

LEDGER = "Ledger"
SERVING = "InferenceServing"
FINE_TUNING = "FineTuningServing"
#: Every compute contract, in deploy order.
CONTRACTS = (LEDGER, SERVING, FINE_TUNING)
