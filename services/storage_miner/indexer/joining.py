"""Storage nodes joining the indexer: `indexer_announce` (wire format and signature: zerog.storage.announce).

An announcement is accepted, and the node stored and listed, only if, in this order:

1. it is well formed, its URL is http(s) with a host that ZG_INDEXER_JOIN_HOSTS allows (never a link-local
   address: cloud metadata), and its shard config is valid;
2. it is signed by its `account` for this indexer's chain id and Flow address;
3. its timestamp is within ZG_INDEXER_JOIN_WINDOW_SECONDS of the indexer's clock and newer than the last
   announcement accepted for the URL (no replays);
4. the URL answers `zgs_getStatus` with the indexer's chain id and Flow address and with `nodeAccount` equal to
   the signer — the node itself announced it, not someone naming another's node — and `zgs_getShardConfig` with
   the announced shard config.

Anything else is a JSON-RPC error saying what is wrong; nothing is stored.

Calling announced URLs back is a request anyone can make the indexer send (SSRF). It is bounded: only after a valid
signature, only http(s) to allowed hosts, two fixed JSON-RPC POSTs, redirects not followed, a short timeout, a
small reply limit, a few checks at a time, and errors that tell whether and how the URL answered, never what it
answered beyond the fields checked. A DNS name is not resolved here: restrict names with ZG_INDEXER_JOIN_HOSTS.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from services.common.jsonrpc import RpcError, invalid_params
from services.storage_miner.indexer.directory import valid_config
from services.storage_miner.indexer.store import JoinedNode, JoinedStore, StaleAnnouncement
from zerog.storage.announce import Announcement, AnnouncementError
from zerog.storage.rpc import RpcError as ClientError
from zerog.storage.rpc import StorageNodeClient

log = logging.getLogger(__name__)

#: JSON-RPC error code of an announcement refused for the indexer's own reasons (off, busy, full).
ANNOUNCE_REFUSED = -32000
#: Calling an announced URL back: seconds per call, and the longest reply read.
CHECK_TIMEOUT_SECONDS = 3.0
CHECK_MAX_REPLY_BYTES = 64 * 1024
#: Announcements checked at once (each may wait for a URL that does not answer); more are refused as busy.
MAX_CONCURRENT_CHECKS = 4
#: Most nodes that may have joined.
MAX_JOINED_NODES = 1024
MAX_URL_LENGTH = 512


@dataclass(frozen=True)
class JoinNetwork:
    """What joining nodes are checked against: the indexer's deployment."""

    chain_id: int
    flow: str

    @property
    def key(self) -> str:
        return f"{self.chain_id}:{self.flow.lower()}"


def refused(detail: str) -> RpcError:
    return RpcError(ANNOUNCE_REFUSED, f"Announcement refused: {detail}", detail)


def _bad(detail: str) -> RpcError:
    return invalid_params("announcement", detail)


def _replay(url: str, accepted_at: int) -> RpcError:
    return _bad(f"timestamp: an announcement of {url} at {accepted_at} was accepted already (a replay?)")


def check_url(url: str, host_patterns: list[str]) -> str:
    """`url` without a trailing slash, if it may be announced; else the RpcError saying why not."""
    if len(url) > MAX_URL_LENGTH:
        raise _bad(f"url: longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _bad(f"url: only http and https URLs may be announced, not {parts.scheme or 'no scheme'!r}")
    try:
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise _bad(f"url: {exc}") from exc
    if not host or parts.username is not None or parts.query or parts.fragment:
        raise _bad("url: expected http(s)://host[:port][/path], without user, query or fragment")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_link_local or address.is_multicast or address.is_unspecified):
        raise _bad(f"url: host {host} is a link-local, multicast or unspecified address")
    if not any(fnmatchcase(host.lower(), pattern) for pattern in host_patterns):
        raise _bad(f"url: host {host} is not one this indexer lets join (ZG_INDEXER_JOIN_HOSTS)")
    return url.rstrip("/")


class Joining:
    """Checks announcements and stores the nodes that pass; `on_joined` tells the directory."""

    def __init__(
        self,
        network: JoinNetwork,
        store: Callable[[], JoinedStore],
        host_patterns: list[str],
        window_seconds: int,
        on_joined: Callable[[], None],
    ) -> None:
        self.network = network
        self._store = store
        self.host_patterns = host_patterns
        self.window_seconds = window_seconds
        self.on_joined = on_joined
        self._checks = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)

    def announce(self, raw: Any) -> None:
        try:
            announcement = Announcement.from_json(raw)
        except AnnouncementError as exc:
            raise _bad(str(exc)) from exc
        url = check_url(announcement.url, self.host_patterns)
        shard = valid_config({"shardId": announcement.shard_id, "numShard": announcement.num_shard})
        if shard is None:
            raise _bad("shardConfig: numShard must be a power of two above shardId")
        try:
            signer = announcement.signer(self.network.chain_id, self.network.flow)
        except AnnouncementError as exc:
            raise _bad(str(exc)) from exc
        skew = announcement.timestamp - int(time.time())
        if abs(skew) > self.window_seconds:
            raise _bad(
                f"timestamp: {announcement.timestamp} is {abs(skew)} s in the {'future' if skew > 0 else 'past'} "
                f"of the indexer's clock (at most {self.window_seconds} s): sign a fresh announcement"
            )
        store = self._store()
        last = store.announced_at(url)
        if last is not None and announcement.timestamp <= last:
            raise _replay(url, last)
        if last is None and store.count() >= MAX_JOINED_NODES:
            raise refused(f"this indexer lists {MAX_JOINED_NODES} joined nodes already")
        if not self._checks.acquire(blocking=False):
            raise refused("busy checking other announcements; announce again in a few seconds")
        try:
            self.check_node(url, signer, shard)
        finally:
            self._checks.release()
        node = JoinedNode(url, signer, shard[0], shard[1], announcement.timestamp)
        try:
            previous = store.put(node)
        except StaleAnnouncement as exc:
            raise _replay(url, exc.accepted_at) from exc
        if previous is None or (previous.account, previous.shard_id, previous.num_shard) != (signer, *shard):
            log.info("storage node %s joined (account %s, shard %d/%d)", url, signer, shard[0], shard[1])
        self.on_joined()

    def check_node(self, url: str, signer: str, shard: tuple[int, int]) -> None:
        """The node at `url` serves this network, is `signer`'s, and has the announced shard config."""
        client = StorageNodeClient(url, CHECK_TIMEOUT_SECONDS, CHECK_MAX_REPLY_BYTES)
        try:
            try:
                status = client.status()
                config = client.shard_config()
            except ClientError as exc:
                raise _bad(f"url: {url} does not answer as a storage node: {_short(str(exc))}") from exc
        finally:
            client.close()
        if not isinstance(status, dict) or not isinstance(identity := status.get("networkIdentity"), dict):
            raise _bad(f"url: {url} answers zgs_getStatus without a networkIdentity")
        chain_id, flow = identity.get("chainId"), identity.get("flowAddress")
        if chain_id != self.network.chain_id or not isinstance(flow, str) or flow.lower() != self.network.flow.lower():
            raise _bad(
                f"url: the node at {url} serves chain {_short(repr(chain_id))}, Flow {_short(repr(flow))}; this "
                f"indexer serves chain {self.network.chain_id}, Flow {self.network.flow}"
            )
        account = status.get("nodeAccount")
        if not isinstance(account, str) or account.lower() != signer.lower():
            raise _bad(
                f"account: the node at {url} reports account {_short(repr(account))}, not the signer {signer}: "
                "only a node can announce itself"
            )
        if valid_config(config) != shard:
            raise _bad(
                f"shardConfig: the node at {url} stores shard {_short(repr(config))}, "
                f"not the announced {{'shardId': {shard[0]}, 'numShard': {shard[1]}}}"
            )


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
