"""What each page shows, as JSON-ready dicts: the JSON API answers them as they are and the pages render them
(one function per page, so a page never shows what its API does not give)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from eth_utils import is_hex_address, to_checksum_address

from services.common.errors import ApiError
from services.explorer.decode import AbiDecoder
from services.explorer.live import LiveChain
from services.explorer.store import SQLITE_MAX_INT, ExplorerStore
from zerog.compute.contracts import LEDGER, SERVING
from zerog.da.contracts import ENTRANCE_CONTRACT, SIGNERS_CONTRACT
from zerog.faucet.contracts import FAUCET
from zerog.market.contracts import MARKETPLACE
from zerog.market.records import Kind
from zerog.storage.contracts import MINE, REWARD

#: Most rows a list returns, whatever `limit` asks.
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
SIGNER_EVENTS = ("SignerRegistered", "StakeAdded", "SocketUpdated", "LeaveRequested", "SignerEvicted", "StakeWithdrawn")
SERVICE_EVENTS = ("ServiceRegistered", "ServiceUpdated", "ServiceRemoved")
#: A listing's events a page folds into its purchases, grants and providers: at most this many, the latest.
LISTING_EVENTS = 1000
#: Bytes of a sealed key a page shows (enough to tell two grants apart).
SEALED_KEY_SHOWN = 8
#: `listing 12` or `#12` in the search box.
LISTING_QUERY = re.compile(r"^(?:#|listing\s+)(\d+)$", re.IGNORECASE)
#: A listing's own events, its history.
LISTING_HISTORY = ("ItemListed", "ItemUpdated", "ItemDelisted")
#: What getListing gives that the events do not.
LISTING_DETAILS = ("roots", "size", "contentHash", "description", "license", "format", "listedAt", "updatedAt")


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, "not_found", message)


def capped(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


def hash_of(value: str, what: str) -> str:
    if not HASH.match(value):
        raise NotFound(f"{value!r} is not a {what} (0x and 64 hex digits)")
    return value.lower()


def address_of(value: str) -> str:
    if not is_hex_address(value):
        raise NotFound(f"{value!r} is not an address (0x and 40 hex digits)")
    return to_checksum_address(value)


class Views:
    def __init__(
        self,
        store: ExplorerStore,
        live: LiveChain,
        decoder: AbiDecoder,
        chain_id: int,
        follower: Callable[[], dict[str, Any]],
        source: Callable[[str], dict[str, Any] | None],
    ) -> None:
        self.store = store
        self.live = live
        self.decoder = decoder
        self.chain_id = chain_id
        # The follower's state: whether the node answered its last poll, why it stopped if it did.
        self._follower = follower
        # Our contract's verified source at an address, if any.
        self.source = source

    def follower_state(self) -> dict[str, Any]:
        return self._follower()

    def status(self) -> dict[str, Any]:
        """Where indexing stands and whether the chain node answers (the pages' banner)."""
        counts = self.store.counts()
        follower = self._follower()
        # The head the indexer saw at its last poll (a fraction of a second ago): no chain call per page.
        head = None if follower["unreachable"] else follower["head"]
        return {
            "chainId": self.chain_id,
            "head": head,
            "rpcReachable": head is not None,
            "behind": None if head is None else max(head - counts["indexedBlock"], 0),
            "stopped": follower["failed"],
            **counts,
        }

    def home(self) -> dict[str, Any]:
        return {
            "status": self.status(),
            "blocks": self.store.blocks(10),
            "transactions": self.store.txs(10),
            "files": self.store.storage_files(5),
            "blobs": self.store.da_blobs(5),
        }

    def blocks(self, limit: int | None, before: int | None = None) -> dict[str, Any]:
        return {"blocks": self.store.blocks(capped(limit), None if before is None else min(before, SQLITE_MAX_INT))}

    def transactions(self, limit: int | None) -> dict[str, Any]:
        return {"transactions": self.store.txs(capped(limit))}

    def block(self, ident: str) -> dict[str, Any]:
        if ident.isdigit():
            block = self.store.block(number=int(ident)) if int(ident) <= SQLITE_MAX_INT else None
        elif HASH.match(ident):
            block = self.store.block(block_hash=ident.lower())
        else:
            raise NotFound(f"{ident!r} is not a block number or block hash")
        if block is None:
            raise NotFound(f"block {ident} is not indexed (yet)")
        return {"block": block, "transactions": self.store.block_txs(block["number"])}

    def tx(self, tx_hash: str) -> dict[str, Any]:
        tx = self.store.tx(hash_of(tx_hash, "transaction hash"))
        if tx is None:
            raise NotFound(f"transaction {tx_hash} is not indexed (yet)")
        logs = self.store.tx_logs(tx["hash"])
        tx["fee"] = str(int(tx["gas_price"]) * tx["gas_used"])
        refs = [
            {"kind": "da" if log["contract"] == ENTRANCE_CONTRACT else "storage", "root": log["ref"]}
            for log in logs
            if log["ref"]
        ]
        listings = {log["args"]["id"] for log in logs if log["contract"] == MARKETPLACE and "id" in log["args"]}
        return {
            "transaction": tx,
            "logs": logs,
            "refs": list({r["root"]: r for r in refs}.values()),
            "listings": sorted(listings),
        }

    def address(self, value: str, limit: int | None) -> dict[str, Any]:
        address = address_of(value)
        created_by = self.store.created_by(address)
        name = self.decoder.contract_name(address)
        # A contract created in the indexed blocks, or ours, needs no look at its code.
        code = b"known" if created_by or name else self.live.code(address)
        balance = self.live.balance(address)
        return {
            "address": address,
            "balance": None if balance is None else str(balance),
            "isContract": None if code is None else len(code) > 0,
            "contract": name,
            "source": self.source(address),
            "createdBy": created_by,
            "transactionCount": self.store.address_tx_count(address),
            "transactions": self.store.address_txs(address, capped(limit)),
            "listings": [_listing(row) for row in self.store.market_listings(MAX_LIMIT, lister=address)],
            "purchases": self.store.market_purchases(address, MAX_LIMIT),
        }

    def storage_files(self, limit: int | None) -> dict[str, Any]:
        return {"files": self.store.storage_files(capped(limit))}

    def storage_file(self, root: str) -> dict[str, Any]:
        submissions = self.store.storage_files(MAX_LIMIT, root=hash_of(root, "storage root"))
        if not submissions:
            raise NotFound(f"no file with root {root} was submitted to the Flow")
        holders = self.live.file_holders(submissions[0]["root"])
        return {
            "root": submissions[0]["root"],
            "submissions": submissions,
            "holders": holders,
            "finalized": None if holders is None else any(h["finalized"] for h in holders),
        }

    def da_blobs(self, limit: int | None) -> dict[str, Any]:
        return {"blobs": self.store.da_blobs(capped(limit))}

    def da_blob(self, root: str) -> dict[str, Any]:
        blobs = self.store.da_blobs(MAX_LIMIT, root=hash_of(root, "DA data root"))
        if not blobs:
            raise NotFound(f"no DA blob with data root {root} was submitted")
        for blob in blobs:
            bitmap = int(blob["signer_bitmap"]) if blob["signer_bitmap"] is not None else 0
            blob["signer_slots"] = [slot for slot in range(bitmap.bit_length()) if bitmap >> slot & 1]
            signed, total = blob["signed_stake"], blob["total_stake"]
            blob["stake_share"] = int(signed) / int(total) if signed is not None and total else None
        return {"dataRoot": blobs[0]["data_root"], "blobs": blobs}

    def da_signers(self) -> dict[str, Any]:
        current = self.live.signers()
        return {
            "epoch": None if current is None else current["epochNumber"],
            "members": None if current is None else current["members"],
            "events": self.store.events(SIGNERS_CONTRACT, SIGNER_EVENTS, MAX_LIMIT),
        }

    def compute(self) -> dict[str, Any]:
        latest: dict[str, dict[str, Any]] = {}
        for event in reversed(self.store.events(SERVING, SERVICE_EVENTS, 1000)):
            latest[event["args"]["provider"]] = event
        services = [
            {"provider": p, "removed": e["event"] == "ServiceRemoved", **e["args"], "block_number": e["block_number"]}
            for p, e in latest.items()
        ]
        return {
            "services": services,
            "settlements": self.store.events(SERVING, ("VoucherSettled",), DEFAULT_LIMIT),
            "deposits": self.store.events(LEDGER, ("Deposited",), DEFAULT_LIMIT),
        }

    def provider(self, value: str) -> dict[str, Any]:
        provider = address_of(value)
        by = ("provider", provider)
        history = self.store.events(SERVING, SERVICE_EVENTS, MAX_LIMIT, arg=by)
        if not history:
            raise NotFound(f"{provider} never registered a compute service")
        settlements = self.store.events(SERVING, ("VoucherSettled",), MAX_LIMIT, arg=by)
        return {
            "provider": provider,
            "service": self.live.service(provider),
            "history": history,
            "settlements": settlements,
            "settled": str(sum(int(s["args"]["paid"]) for s in settlements)),
            "funding": self.store.events(SERVING, ("SubAccountFunded",), MAX_LIMIT, arg=by),
            "refunds": self.store.events(SERVING, ("RefundRequested", "RefundProcessed"), MAX_LIMIT, arg=by),
        }

    def market(self, kind: str | None, limit: int | None) -> dict[str, Any]:
        value = None if kind is None else int(Kind.parse(kind))
        rows = self.store.market_listings(capped(limit), kind=value)
        return {"kind": kind, "listings": [_listing(row) for row in rows]}

    def _indexed_listing(self, listing_id: int) -> dict[str, Any] | None:
        rows = self.store.market_listings(1, listing_id=listing_id) if listing_id <= SQLITE_MAX_INT else []
        return _listing(rows[0]) if rows else None

    def listing(self, ident: str) -> dict[str, Any]:
        if not ident.isdigit():
            raise NotFound(f"{ident!r} is not a listing id (a number)")
        listing_id = int(ident)
        listing = self._indexed_listing(listing_id)
        if listing is None:
            raise NotFound(f"listing {listing_id} is not indexed (yet)")
        live = self.live.listing(listing_id)
        events = self.store.listing_events(listing_id, LISTING_EVENTS)
        purchases, grants, linked = _fold_listing(events)
        return {
            "listing": listing,
            # None when the chain node does not answer: what only the contract's state holds.
            "details": None if live is None else _details(live),
            "purchases": purchases[::-1],
            "grants": grants[::-1],
            "providers": [
                {"provider": provider, "service": self.live.service(provider), **event}
                for provider, event in linked.items()
            ],
            "history": [event for event in events[::-1] if event["event"] in LISTING_HISTORY],
        }

    def mining(self) -> dict[str, Any]:
        answers = self.store.events(MINE, ("AnswerAccepted",), 1000)
        epochs: dict[int, dict[str, Any]] = defaultdict(lambda: {"answers": 0, "miners": set()})
        for answer in answers:
            epoch = epochs[int(answer["args"]["epoch"])]
            epoch["answers"] += 1
            epoch["miners"].add(answer["args"]["minerId"])
        return {
            "current": self.live.mining(),
            "epochs": [
                {"epoch": e, "answers": v["answers"], "miners": sorted(v["miners"])}
                for e, v in sorted(epochs.items(), reverse=True)
            ],
            "answers": answers[:DEFAULT_LIMIT],
            "rewards": self.store.events(REWARD, ("RewardDistributed",), DEFAULT_LIMIT),
            "difficulty": self.store.events(MINE, ("DifficultyAdjusted",), DEFAULT_LIMIT),
        }

    def faucet(self, limit: int | None) -> dict[str, Any]:
        return {"drips": self.store.events(FAUCET, ("Dripped",), capped(limit))}

    def search(self, query: str) -> str:
        """The path of the page `query` names (a block number, a tx or block hash, an address, a storage or DA
        root, a listing as `#12` or `listing 12`); NotFound when nothing matches."""
        q = query.strip()
        if (listing := LISTING_QUERY.match(q)) and self._indexed_listing(int(listing[1])) is not None:
            return f"/market/{int(listing[1])}"
        if q.isdigit() and int(q) <= SQLITE_MAX_INT and self.store.block(number=int(q)) is not None:
            return f"/block/{int(q)}"
        if HASH.match(q):
            q = q.lower()
            if self.store.tx(q) is not None:
                return f"/tx/{q}"
            if self.store.block(block_hash=q) is not None:
                return f"/block/{q}"
            if (kind := self.store.ref_kind(q)) is not None:
                return f"/{kind}/{q}"
        if is_hex_address(q):
            return f"/address/{to_checksum_address(q)}"
        raise NotFound(
            f"nothing found for {query!r}: search a block number, a transaction or block hash, an address, "
            "a storage root, a DA data root or a listing (#12 or listing 12)"
        )


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "kind": Kind(row["kind"]).label}


def _details(live: dict[str, Any]) -> dict[str, Any]:
    details = {key: live[key] for key in LISTING_DETAILS}
    if int(details["contentHash"], 16) == 0:  # none given
        details["contentHash"] = None
    return details


def _fold_listing(
    events: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """A listing's purchases (each escrowed, granted, reclaimed or paid), grants and linked providers (each with
    the block and tx of its link), from its events oldest first."""
    purchases: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    linked: dict[str, dict[str, Any]] = {}
    standing: dict[str, dict[str, Any]] = {}  # each buyer's purchase not reclaimed
    for event in events:
        args, at = event["args"], {"block_number": event["block_number"], "tx_hash": event["tx_hash"]}
        if event["event"] == "ItemBought":
            state = "escrowed" if args["escrowed"] else "paid"
            purchase = {
                "buyer": args["buyer"], "price": str(args["price"]), "fee": str(args["fee"]),
                "escrowed": args["escrowed"], "state": state, **at, "granted_block": None, "granted_tx": None,
                "reclaimed_tx": None,
            }  # fmt: skip
            purchases.append(purchase)
            standing[args["buyer"]] = purchase
        elif event["event"] == "AccessGranted":
            sealed = args["sealedKey"]
            shown = sealed[: 2 + 2 * SEALED_KEY_SHOWN]
            grants.append(
                {
                    "grantee": args["grantee"],
                    "sealed_key": shown + ("…" if len(shown) < len(sealed) else ""),
                    "sealed_key_bytes": (len(sealed) - 2) // 2,
                    **at,
                }
            )
            # The latest grant counts (the contract records its block); a grant without purchase stands alone.
            if (purchase := standing.get(args["grantee"])) is not None and purchase["escrowed"]:
                purchase.update(state="granted", granted_block=at["block_number"], granted_tx=at["tx_hash"])
        elif event["event"] == "PurchaseReclaimed":
            if (purchase := standing.pop(args["buyer"], None)) is not None:
                purchase.update(state="reclaimed", reclaimed_tx=at["tx_hash"])
        elif event["event"] == "ServiceLinked":
            linked[args["provider"]] = at
        elif event["event"] == "ServiceUnlinked":
            linked.pop(args["provider"], None)
    return purchases, grants, linked
