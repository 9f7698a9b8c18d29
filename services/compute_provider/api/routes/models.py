"""GET /v1/models and /v1/models/{model}: the one model this provider serves (free, no voucher)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.compute_provider.api.deps import ReadyRuntimeDep
from services.compute_provider.errors import OpenAIError
from services.compute_provider.runtime import ProviderRuntime

router = APIRouter(prefix="/v1", tags=["models"])


def _model(runtime: ProviderRuntime) -> dict[str, Any]:
    generator = runtime.model()
    return {
        "id": runtime.model_name,
        "object": "model",
        "created": int(runtime.service.updated_at) if runtime.service else 0,
        "owned_by": runtime.account.address,
        "context_window": generator.block_size,
        "pricing": {
            "input_wei_per_token": str(runtime.prices.input),
            "output_wei_per_token": str(runtime.prices.output),
        },
    }


@router.get("/models")
def list_models(runtime: ReadyRuntimeDep) -> dict[str, Any]:
    return {"object": "list", "data": [_model(runtime)]}


@router.get("/models/{model}")
def get_model(model: str, runtime: ReadyRuntimeDep) -> dict[str, Any]:
    if model != runtime.model_name:
        raise OpenAIError(404, "model_not_found", f"the model {model!r} does not exist on this provider", "model")
    return _model(runtime)
