"""A storage node's announcement to an indexer (`indexer_announce`): "I serve shard `shardId`/`numShard` of the
Flow at `flow` at `url`", signed by the node's account as EIP-712 typed data.

Domain: ``{name: "0G Storage Indexer", version: "1", chainId}``. It names what the signature is for (joining an
indexer's listing, never a transaction) and binds the chain; there is no verifyingContract because no contract
verifies it. The Flow address is in the message instead, so an announcement for one storage network is worthless
for another on the same chain. The indexer checks that the node at `url` reports the signing account
(`nodeAccount` in its `zgs_getStatus`), which is what stops anyone announcing someone else's node.

Wire format (the one param of `indexer_announce`)::

    {"url": "http://host:port", "shardConfig": {"shardId": 0, "numShard": 1}, "timestamp": <unix seconds>,
     "account": "0x<signer>", "signature": "0x<65 bytes r||s||v>"}
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

DOMAIN_NAME = "0G Storage Indexer"
DOMAIN_VERSION = "1"
TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
    ],
    "NodeAnnouncement": [
        {"name": "url", "type": "string"},
        {"name": "shardId", "type": "uint64"},
        {"name": "numShard", "type": "uint64"},
        {"name": "flow", "type": "address"},
        {"name": "timestamp", "type": "uint64"},
    ],
}


class AnnouncementError(ValueError):
    """An announcement that is malformed or whose signature is not its account's."""


@dataclass(frozen=True)
class Announcement:
    url: str
    shard_id: int
    num_shard: int
    timestamp: int
    account: str
    signature: bytes

    @classmethod
    def sign(
        cls,
        account: LocalAccount,
        url: str,
        shard_id: int,
        num_shard: int,
        chain_id: int,
        flow: str,
        timestamp: int | None = None,
    ) -> Announcement:
        """`account`'s announcement of the node at `url` (timestamp: now)."""
        when = int(time.time()) if timestamp is None else timestamp
        signable = signable_announcement(url, shard_id, num_shard, chain_id, flow, when)
        signature = account.sign_message(signable).signature
        return cls(url, shard_id, num_shard, when, account.address, bytes(signature))

    def signer(self, chain_id: int, flow: str) -> str:
        """The account that signed this announcement for `chain_id` and `flow` (checksummed); AnnouncementError if
        it is not the announced `account`."""
        signable = signable_announcement(self.url, self.shard_id, self.num_shard, chain_id, flow, self.timestamp)
        try:
            signer = Account.recover_message(signable, signature=self.signature)
        except Exception as exc:  # eth-keys raises several types for a malformed signature
            raise AnnouncementError(f"signature: not a valid secp256k1 signature ({type(exc).__name__})") from exc
        if signer.lower() != self.account.lower():
            raise AnnouncementError(
                f"signature: signed by {signer}, not by the announced account {self.account} "
                f"(or not for chain {chain_id} and Flow {flow}, or for other fields)"
            )
        return signer

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "shardConfig": {"shardId": self.shard_id, "numShard": self.num_shard},
            "timestamp": self.timestamp,
            "account": self.account,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, value: Any) -> Announcement:
        """Parse the wire format; AnnouncementError naming the first bad field."""
        if not isinstance(value, dict):
            raise AnnouncementError("expected an object {url, shardConfig, timestamp, account, signature}")
        unknown = set(value) - {"url", "shardConfig", "timestamp", "account", "signature"}
        if unknown:
            raise AnnouncementError(f"unknown field {sorted(unknown)[0]!r}")
        url, config, timestamp = value.get("url"), value.get("shardConfig"), value.get("timestamp")
        account, signature = value.get("account"), value.get("signature")
        if not isinstance(url, str) or not url:
            raise AnnouncementError("url: expected the node's URL (a string)")
        if not isinstance(config, dict) or not all(_is_uint(config.get(k)) for k in ("shardId", "numShard")):
            raise AnnouncementError("shardConfig: expected {shardId, numShard} (non-negative integers)")
        if not _is_uint(timestamp):
            raise AnnouncementError("timestamp: expected unix seconds (a non-negative integer)")
        try:
            account = to_checksum_address(account)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise AnnouncementError("account: expected a 0x-prefixed 20-byte address") from exc
        if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) != 132:
            raise AnnouncementError("signature: expected 0x and 65 bytes of hex (r, s, v)")
        try:
            raw = bytes.fromhex(signature[2:])
        except ValueError as exc:
            raise AnnouncementError("signature: not hex") from exc
        return cls(url, config["shardId"], config["numShard"], timestamp, account, raw)  # type: ignore[arg-type]


def signable_announcement(
    url: str, shard_id: int, num_shard: int, chain_id: int, flow: str, timestamp: int
) -> SignableMessage:
    return encode_typed_data(
        full_message={
            "types": TYPES,
            "primaryType": "NodeAnnouncement",
            "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id},
            "message": {
                "url": url,
                "shardId": shard_id,
                "numShard": num_shard,
                "flow": to_checksum_address(flow),
                "timestamp": timestamp,
            },
        }
    )


def _is_uint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64
