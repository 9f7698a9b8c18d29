"""All routes of the faucet."""

from __future__ import annotations

from fastapi import APIRouter

from services.faucet.api.routes import claim, health, info, page

api_router = APIRouter()
api_router.include_router(page.router)
api_router.include_router(health.router)
api_router.include_router(info.router)
api_router.include_router(claim.router)
