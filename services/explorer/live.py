"""Live reads for pages, beside the index: balances and code from the chain node, current contract state, which
storage nodes hold a file. Each is bounded by a short timeout and answers None when the source is down, so a page
shows "unavailable" (and the outage banner) instead of failing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from web3 import HTTPProvider, Web3

from services.explorer.decode import jsonable
from zerog.chain import Deployment
from zerog.compute.contracts import SERVING
from zerog.da.contracts import SIGNERS_CONTRACT
from zerog.market.contracts import MARKETPLACE
from zerog.storage.contracts import MINE
from zerog.storage.rpc import IndexerClient, RpcError, StorageNodeClient

log = logging.getLogger(__name__)
T = TypeVar("T")


def _jsonable_output(fn: Any, value: Any) -> Any:
    outputs = fn.abi["outputs"]
    if len(outputs) == 1:
        return jsonable(outputs[0], value)
    return {o.get("name") or str(i): jsonable(o, v) for i, (o, v) in enumerate(zip(outputs, value, strict=True))}


class LiveChain:
    def __init__(self, rpc_url: str, deployment: Deployment, indexer_url: str, timeout: float) -> None:
        # No retries: a page waits at most `timeout` for each live value.
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.deployment = deployment
        self.timeout = timeout
        self._indexer = IndexerClient(indexer_url, timeout=timeout)
        self._nodes: dict[str, StorageNodeClient] = {}
        self._lock = threading.Lock()

    def _try(self, what: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except Exception as exc:  # a live value is optional: the page says it is unavailable
            log.debug("live %s unavailable: %s", what, exc)
            return None

    def head(self) -> int | None:
        return self._try("head", lambda: self.w3.eth.block_number)

    def balance(self, address: str) -> int | None:
        return self._try("balance", lambda: self.w3.eth.get_balance(address))  # type: ignore[arg-type]

    def code(self, address: str) -> bytes | None:
        return self._try("code", lambda: bytes(self.w3.eth.get_code(address)))  # type: ignore[arg-type]

    def view(self, contract: str, function: str, *args: Any) -> Any:
        """A view function of one of our contracts, its result as JSON; None when unavailable."""

        def read() -> Any:
            fn = getattr(self.deployment.contract(self.w3, contract).functions, function)(*args)
            return _jsonable_output(fn, fn.call())

        return self._try(f"{contract}.{function}", read)

    def signers(self) -> Any:
        return self.view(SIGNERS_CONTRACT, "signers")

    def service(self, provider: str) -> Any:
        return self.view(SERVING, "getService", provider)

    def listing(self, listing_id: int) -> Any:
        return self.view(MARKETPLACE, "getListing", listing_id)

    def mining(self) -> Any:
        return {
            "difficulty": self.view(MINE, "difficulty"),
            "targetAnswersPerEpoch": self.view(MINE, "targetAnswersPerEpoch"),
            "epochAnswers": self.view(MINE, "epochAnswers"),
        }

    def file_holders(self, root: str) -> list[dict[str, Any]] | None:
        """The storage nodes holding `root`, each with what it says of the file (finalized)."""

        def read() -> list[dict[str, Any]]:
            holders = []
            for location in self._indexer.file_locations(root):
                url = location.get("url")
                try:
                    info = self._node(url).file_info(root, False) or {}
                except RpcError:
                    info = {}
                holders.append({"url": url, "finalized": info.get("finalized"), "shard": location.get("config")})
            return holders

        return self._try("file holders", read)

    def _node(self, url: str) -> StorageNodeClient:
        # One pooled client per node: making a client (its TLS context) costs more than the call.
        with self._lock:
            if url not in self._nodes:
                self._nodes[url] = StorageNodeClient(url, timeout=self.timeout)
            return self._nodes[url]

    def close(self) -> None:
        self._indexer.close()
        for node in self._nodes.values():
            node.close()
