"""`GET /api?module=…&action=…`: the Etherscan-style subset wallets and scripts call — account balance and
transaction list, contract ABI and verified source (our deployed contracts), proxy eth_blockNumber. Answers have
Etherscan's shape: {"status": "1", "message": "OK", "result": …}, or status "0" with the reason in `result`."""

from __future__ import annotations

import json
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from fastapi import APIRouter

from services.explorer.api.deps import RuntimeDep
from services.explorer.store import SQLITE_MAX_INT
from services.explorer.views import MAX_LIMIT

router = APIRouter(tags=["etherscan"])
#: Etherscan's default page size for txlist.
DEFAULT_OFFSET = 10


def ok(result: Any) -> dict[str, Any]:
    return {"status": "1", "message": "OK", "result": result}


def failed(reason: str, message: str = "NOTOK") -> dict[str, Any]:
    return {"status": "0", "message": message, "result": reason}


def _tx_entry(tx: dict[str, Any]) -> dict[str, Any]:
    return {
        "blockNumber": str(tx["block_number"]),
        "timeStamp": str(tx["timestamp"]),
        "hash": tx["hash"],
        "nonce": str(tx["nonce"]),
        "transactionIndex": str(tx["tx_index"]),
        "from": tx["from_addr"].lower(),
        "to": (tx["to_addr"] or "").lower(),
        "value": tx["value"],
        "gas": str(tx["gas"]),
        "gasPrice": tx["gas_price"],
        "isError": "0" if tx["status"] == 1 else "1",
        "txreceipt_status": str(tx["status"]),
        "input": tx["input"],
        "contractAddress": (tx["created"] or "").lower(),
        "gasUsed": str(tx["gas_used"]),
        "methodId": tx["input"][:10] if len(tx["input"]) >= 10 else "0x",
        "functionName": tx["method"] or "",
    }


@router.get("/api")
def etherscan(
    runtime: RuntimeDep,
    module: str = "",
    action: str = "",
    address: str = "",
    page: int = 1,
    offset: int = DEFAULT_OFFSET,
    sort: str = "asc",
) -> dict[str, Any]:
    views = runtime.views
    key = f"{module}.{action}"
    if key == "proxy.eth_blockNumber":
        head = views.live.head()
        if head is None:
            return failed("the chain node does not answer")
        return {"jsonrpc": "2.0", "id": 83, "result": hex(head)}
    if key in ("account.balance", "account.txlist", "contract.getabi", "contract.getsourcecode"):
        if not is_hex_address(address):
            return failed("Invalid address format", "NOTOK")
        address = to_checksum_address(address)
    if key == "account.balance":
        balance = views.live.balance(address)
        return failed("the chain node does not answer") if balance is None else ok(str(balance))
    if key == "account.txlist":
        size = max(1, min(offset, MAX_LIMIT))
        skip = size * (max(page, 1) - 1)
        rows = [] if skip > SQLITE_MAX_INT else views.store.address_txlist(address, size, skip, sort != "desc")
        return ok([_tx_entry(row) for row in rows]) if rows else failed([], "No transactions found")  # type: ignore[arg-type]
    if key == "contract.getabi":
        name = views.decoder.contract_name(address)
        if name is None:
            return failed("Contract source code not verified")
        return ok(json.dumps(runtime.deployment.record(name)["abi"]))
    if key == "contract.getsourcecode":
        return ok([runtime.source_code(address)])
    return failed(
        f"unknown module/action {module!r}/{action!r}: supported are account balance|txlist, "
        "contract getabi|getsourcecode, proxy eth_blockNumber",
        "NOTOK",
    )
