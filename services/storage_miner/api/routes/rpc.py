"""POST /: the node's JSON-RPC 2.0 endpoint (what the SDKs call a storage node URL)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.common.jsonrpc import serve_http
from services.storage_miner.api.deps import RuntimeDep

router = APIRouter(tags=["json-rpc"])


@router.post("/")
async def json_rpc(request: Request, runtime: RuntimeDep) -> Response:
    return await serve_http(request, runtime.dispatcher)
