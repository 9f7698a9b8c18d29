"""GET /v1/account/{user}: the provider's view of a user's account — the last voucher it holds (signed by the
user) and the receipts that voucher does not cover yet (signed by the provider's signer). A client that lost
its state (a new process, a dropped stream) resumes from it after checking both signatures."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from fastapi import APIRouter
from web3 import Web3

from services.compute_provider.api.deps import ReadyRuntimeDep
from services.compute_provider.errors import bad_request

router = APIRouter(prefix="/v1", tags=["account"])


@router.get("/account/{user}")
def account(user: str, runtime: ReadyRuntimeDep) -> dict[str, Any]:
    if not Web3.is_address(user):
        raise bad_request(f"{user!r} is not an address", "user", "invalid_address")
    return runtime.billing.account_view(to_checksum_address(user))
