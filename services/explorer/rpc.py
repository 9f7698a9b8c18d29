"""Raw JSON-RPC batches to the chain node: a range of blocks with their transactions and receipts in one round
trip, without web3's per-field formatting (the explorer keeps hex strings and converts what it stores)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import httpx

#: A node without eth_getBlockReceipts (the explorer then asks per transaction) says "method not found" (JSON-RPC)
#: or, as Hardhat Network does, "method not supported" (EIP-1474).
UNKNOWN_METHOD_CODES = frozenset({-32601, -32004})
RPC_TIMEOUT_SECONDS = 30


class RpcCallError(RuntimeError):
    """The node answered a call with a JSON-RPC error."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message')}")
        self.method = method
        self.code = error.get("code")
        self.data = error.get("data")

    @property
    def revert_data(self) -> bytes | None:
        """A reverted call's return data: bare hex from geth and anvil, in an object beside the node's own message
        from Hardhat."""
        data = self.data.get("data") if isinstance(self.data, dict) else self.data
        return bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else None


class ChainRpc:
    """Batches of calls to one node. Transport failures raise ConnectionError (an outage for the follower)."""

    _ids = itertools.count(1)

    def __init__(self, url: str, timeout: float = RPC_TIMEOUT_SECONDS) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout)

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Each call's result, or its RpcCallError, in order."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls, strict=True)]
        try:
            reply = self._http.post(self.url, json=body)
            reply.raise_for_status()
            items = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ConnectionError(f"chain node at {self.url}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(items, list):
            raise ConnectionError(f"chain node at {self.url} gave no batch answer")
        by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
        results: list[Any] = []
        for request_id, (method, _) in zip(ids, calls, strict=True):
            item = by_id.get(request_id) or {"error": {"message": "no answer in the batch"}}
            error = item.get("error")
            results.append(
                RpcCallError(method, error if isinstance(error, dict) else {"message": error})
                if error
                else item.get("result")
            )
        return results

    def close(self) -> None:
        self._http.close()
