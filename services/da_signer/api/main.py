"""All routes of the signer."""

from __future__ import annotations

from fastapi import APIRouter

from services.da_signer.api.routes import data, health, signer

api_router = APIRouter()
api_router.include_router(data.router)
api_router.include_router(signer.router)
api_router.include_router(health.router)
