"""POST /api/claim: one drip to an address, within the per-address and per-IP limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.faucet.api.deps import ClientIpDep, DripperDep
from services.faucet.schemas import ClaimRequest, ClaimResponse, ErrorResponse

router = APIRouter(prefix="/api", tags=["claim"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "Malformed body or address, or a recipient refusing funds "
        "(invalid_request, invalid_address, recipient_rejected)",
    },
    429: {
        "model": ErrorResponse,
        "description": "Address or IP limited (address_limited, cooldown_active, ip_limited); see Retry-After",
    },
    502: {"model": ErrorResponse, "description": "The drip transaction failed (drip_failed)"},
    503: {
        "model": ErrorResponse,
        "description": "faucet_empty, faucet_budget_exhausted (see Retry-After), chain_unavailable or "
        "faucet_misconfigured",
    },
}


@router.post("/claim", responses=_ERRORS)
def claim(body: ClaimRequest, dripper: DripperDep, client_ip: ClientIpDep) -> ClaimResponse:
    result = dripper.claim(body.address, client_ip)
    return ClaimResponse(
        address=result.address,
        amount=str(result.amount),
        tx_hash=result.tx_hash,
        block_number=result.block_number,
        next_claim_at=result.next_claim_at,
    )
