"""All routes of the storage node."""

from __future__ import annotations

from fastapi import APIRouter

from services.storage_miner.api.routes import health, mining, rpc

api_router = APIRouter()
api_router.include_router(rpc.router)
api_router.include_router(health.router)
api_router.include_router(mining.router)
