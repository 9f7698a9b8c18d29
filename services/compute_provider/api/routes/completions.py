"""POST /v1/chat/completions and /v1/completions (streaming and not), paid by vouchers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from services.compute_provider import inference
from services.compute_provider.api.deps import ReadyRuntimeDep

router = APIRouter(prefix="/v1", tags=["completions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed body or parameter (OpenAI error shape)"},
    401: {"description": "Missing, invalid or replayed voucher; signer not acknowledged"},
    402: {"description": "Voucher below what is owed, or sub-account cannot cover the request"},
    404: {"description": "Unknown model"},
    409: {"description": "Another request of this user is running"},
}


@router.post("/chat/completions", responses=_ERRORS, response_model=None)
async def chat_completions(request: Request, runtime: ReadyRuntimeDep) -> JSONResponse | StreamingResponse:
    return await inference.handle(runtime, request, "chat")


@router.post("/completions", responses=_ERRORS, response_model=None)
async def completions(request: Request, runtime: ReadyRuntimeDep) -> JSONResponse | StreamingResponse:
    return await inference.handle(runtime, request, "text")
