"""GET /api/info: the faucet's parameters, balance and recent drips (what the web page shows)."""

from __future__ import annotations

from fastapi import APIRouter

from services.faucet.api.deps import DripperDep, SettingsDep, StoreDep
from services.faucet.config import NATIVE_SYMBOL, network_name
from services.faucet.schemas import DripRecord, ErrorResponse, InfoResponse

router = APIRouter(prefix="/api", tags=["info"])

RECENT_DRIPS = 10


@router.get("/info", responses={503: {"model": ErrorResponse, "description": "chain_unavailable"}})
def info(settings: SettingsDep, dripper: DripperDep, store: StoreDep) -> InfoResponse:
    status = dripper.status()
    return InfoResponse(
        network=network_name(status.chain_id),
        chain_id=status.chain_id,
        symbol=NATIVE_SYMBOL,
        faucet=dripper.faucet_address,
        dripper=dripper.account.address,
        drip_amount=str(status.drip_amount),
        cooldown=status.cooldown,
        balance=str(status.balance),
        block_number=status.block_number,
        window_seconds=settings.faucet_window,
        ip_limit=settings.faucet_ip_limit,
        recent_drips=[
            DripRecord(
                recipient=d.recipient,
                amount=str(d.amount),
                tx_hash=d.tx_hash,
                block_number=d.block_number,
                timestamp=d.timestamp,
            )
            for d in store.recent_drips(RECENT_DRIPS)
        ],
        explorer_url=settings.explorer_url or None,
    )
