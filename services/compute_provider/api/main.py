from fastapi import APIRouter

from services.compute_provider.api.routes import account, completions, fine_tuning, health, models

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(models.router)
api_router.include_router(completions.router)
api_router.include_router(account.router)
api_router.include_router(fine_tuning.router)
