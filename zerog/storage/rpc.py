"""JSON-RPC clients for storage nodes (`zgs_*`) and the indexer (`indexer_*`)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from zerog.errors import ZeroGError
from zerog.storage.announce import Announcement
from zerog.storage.merkle import SEGMENT_CHUNKS

RPC_TIMEOUT_SECONDS = 60


class RpcError(ZeroGError):
    """The server answered with a JSON-RPC error (or not at all)."""

    def __init__(self, url: str, method: str, message: str, code: int | None = None, data: Any = None) -> None:
        detail = f": {data}" if data not in (None, "") else ""
        super().__init__(f"{method} at {url} failed: {message}{detail}")
        self.url, self.method, self.code, self.data = url, method, code, data


class JsonRpcClient:
    """JSON-RPC 2.0 over HTTP POST; one pooled connection per client. Redirects are not followed. With
    `max_reply_bytes`, a longer reply is cut off and is an error (a server that is not trusted)."""

    _ids = itertools.count(1)

    def __init__(self, url: str, timeout: float = RPC_TIMEOUT_SECONDS, max_reply_bytes: int | None = None) -> None:
        self.url = url.rstrip("/")
        self.max_reply_bytes = max_reply_bytes
        self._http = httpx.Client(timeout=timeout)

    def _post(self, body: Any) -> tuple[int, bytes]:
        """(HTTP status, body) of a POST; httpx.HTTPError if it fails or the reply is too long."""
        if self.max_reply_bytes is None:
            response = self._http.post(self.url, json=body)
            return response.status_code, response.content
        with self._http.stream("POST", self.url, json=body) as response:
            content = bytearray()
            for part in response.iter_bytes():
                content += part
                if len(content) > self.max_reply_bytes:
                    raise httpx.DecodingError(f"reply longer than {self.max_reply_bytes} bytes")
            return response.status_code, bytes(content)

    def call(self, method: str, *params: Any) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params:
            body["params"] = list(params)
        try:
            status, content = self._post(body)
        except httpx.HTTPError as exc:
            raise RpcError(self.url, method, f"no answer ({type(exc).__name__}: {exc})") from exc
        try:
            reply = json.loads(content)
        except ValueError as exc:
            raise RpcError(self.url, method, f"HTTP {status}, not JSON-RPC") from exc
        if not isinstance(reply, dict):
            raise RpcError(self.url, method, "malformed JSON-RPC reply")
        if (error := reply.get("error")) is not None:
            if isinstance(error, dict):
                raise RpcError(self.url, method, str(error.get("message")), error.get("code"), error.get("data"))
            raise RpcError(self.url, method, str(error))
        return reply.get("result")

    def call_batch(self, method: str, params: list[list[Any]]) -> list[Any]:
        """One JSON-RPC batch of `method` calls (one HTTP round trip); each call's result, or its RpcError."""
        ids = [next(self._ids) for _ in params]
        body = [{"jsonrpc": "2.0", "method": method, "params": p, "id": i} for i, p in zip(ids, params, strict=True)]
        try:
            reply = json.loads(self._post(body)[1])
        except (httpx.HTTPError, ValueError) as exc:
            raise RpcError(self.url, method, f"no batch answer ({type(exc).__name__}: {exc})") from exc
        if not isinstance(reply, list):
            raise RpcError(self.url, method, "malformed JSON-RPC batch reply")
        by_id = {item.get("id"): item for item in reply if isinstance(item, dict)}
        results: list[Any] = []
        for request_id in ids:
            item = by_id.get(request_id) or {"error": {"message": "no answer in the batch"}}
            error = item.get("error")
            if error is None:
                results.append(item.get("result"))
            elif isinstance(error, dict):
                results.append(
                    RpcError(self.url, method, str(error.get("message")), error.get("code"), error.get("data"))
                )
            else:
                results.append(RpcError(self.url, method, str(error)))
        return results

    def close(self) -> None:
        self._http.close()


class StorageNodeClient(JsonRpcClient):
    """A storage node's `zgs_*` methods, as the official SDK calls them."""

    def status(self) -> dict[str, Any]:
        return self.call("zgs_getStatus")

    def file_info(self, root: str, need_available: bool = True) -> dict[str, Any] | None:
        return self.call("zgs_getFileInfo", root, need_available)

    def file_info_by_tx_seq(self, seq: int) -> dict[str, Any] | None:
        return self.call("zgs_getFileInfoByTxSeq", seq)

    def file_infos_by_tx_seq(self, seqs: list[int]) -> list[Any]:
        """FileInfo of several submissions in one round trip: each a FileInfo, None (unknown) or an RpcError."""
        return self.call_batch("zgs_getFileInfoByTxSeq", [[seq] for seq in seqs])

    def shard_config(self) -> dict[str, int]:
        return self.call("zgs_getShardConfig")

    def upload_segments_by_tx_seq(self, segments: list[dict[str, Any]], seq: int) -> None:
        self.call("zgs_uploadSegmentsByTxSeq", segments, seq)

    def has_segment(self, root: str, index: int) -> bool:
        """Whether the node stores segment `index` of `root` (asks for its first chunk only)."""
        first = index * SEGMENT_CHUNKS
        return self.call("zgs_downloadSegment", root, first, first + 1) is not None

    def download_segment_with_proof(self, root: str, index: int) -> dict[str, Any] | None:
        return self.call("zgs_downloadSegmentWithProof", root, index)

    def download_segments_with_proof(self, root: str, indices: list[int]) -> list[Any]:
        """Several segments in one round trip: each a segment, None (not here) or an RpcError."""
        return self.call_batch("zgs_downloadSegmentWithProof", [[root, i] for i in indices])

    def download_segments_with_proof_by_tx_seq(self, seq: int, indices: list[int]) -> list[Any]:
        """Segments of submission `seq` in one round trip: each a segment, None (not here) or an RpcError."""
        return self.call_batch("zgs_downloadSegmentWithProofByTxSeq", [[seq, i] for i in indices])


class IndexerClient(JsonRpcClient):
    """The indexer's `indexer_*` methods."""

    def sharded_nodes(self) -> dict[str, list[dict[str, Any]]]:
        return self.call("indexer_getShardedNodes")

    def file_locations(self, root: str) -> list[dict[str, Any]]:
        return self.call("indexer_getFileLocations", root) or []

    def announce(self, announcement: Announcement) -> None:
        """Ask the indexer to list the announced node (see zerog.storage.announce); RpcError says why not."""
        self.call("indexer_announce", announcement.to_json())
