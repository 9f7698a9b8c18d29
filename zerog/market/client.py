"""The marketplace from the SDK: list what is on Storage, buy, deliver and use content keys, find who serves a
model. One account — one key — lists, buys, decrypts, serves and is paid.

A private item is stored encrypted. Uploaded by `publish`, it is v2 (ECIES) to the lister's own key, so the
lister can always re-derive its AES key from the file's header; an item uploaded elsewhere with a v1 key needs
that key at grant time. A grant is the 32-byte AES key sealed (zerog.sealing) to the grantee's public key,
recovered from a transaction the grantee signed (its purchase, else its compute service registration), and bound
to (chain, marketplace, listing, grantee).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from Crypto.Hash import keccak
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from zerog.chain import ContractClient
from zerog.compute.client import Compute
from zerog.compute.contracts import SERVING
from zerog.compute.records import ServiceInfo
from zerog.errors import ConfigError, ZeroGError
from zerog.market.contracts import MARKETPLACE
from zerog.market.records import Kind, Listing, ListingParams, Purchase
from zerog.sealing import SealError, public_key_of, public_key_of_transaction, seal, unseal
from zerog.storage.client import Node, download, file_info, head, upload
from zerog.storage.encryption import (
    ECIES_HEADER_SIZE,
    ECIES_VERSION,
    Decryptor,
    EncryptionError,
    Encryptor,
    Header,
    check_key,
    ecies_key,
)
from zerog.storage.journal import SubmitJournal

#: Listings read per getListings call.
LISTING_PAGE = 100
#: Bytes hashed per read when computing a content hash.
HASH_CHUNK = 1 << 20
GRANT_CONTEXT = b"zerog/market/grant/v1"

Progress = Callable[[int], None]


class MarketError(ZeroGError):
    """A marketplace operation cannot be done (unknown listing, no grant, wrong content, ...)."""


def content_hash(path: Path) -> bytes:
    """keccak256 of a file's bytes, read in chunks."""
    digest = keccak.new(digest_bits=256)
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.digest()


class Market(ContractClient):
    """The Marketplace contract for one account (lister, buyer or provider)."""

    error = MarketError
    component = "marketplace"
    contracts = (MARKETPLACE,)

    def bind(self) -> None:
        self.contract: Contract = self.deployment.contract(self.w3, MARKETPLACE)
        self.from_block = int(self.deployment.record(MARKETPLACE).get("deployBlock", 0))

    @staticmethod
    def _checked(address: str) -> str:
        if not Web3.is_address(address):
            raise ConfigError(f"{address!r} is not an address (0x followed by 40 hex digits)")
        return to_checksum_address(address)

    # ------------------------------------------------------------ reading

    def count(self) -> int:
        return int(self.contract.functions.listingCount().call())

    def listing(self, listing_id: int) -> Listing:
        if not 0 < listing_id <= self.count():
            raise MarketError(f"no listing {listing_id} (see `zg market ls`)")
        return Listing.from_tuple(self.contract.functions.getListing(listing_id).call())

    def listings(self, kind: Kind | None = None, search: str | None = None, active_only: bool = True) -> list[Listing]:
        """Listings, newest first; `search` matches name, description, format or licence (case-insensitive)."""
        found: list[Listing] = []
        for offset in range(0, self.count(), LISTING_PAGE):
            found += [
                Listing.from_tuple(raw) for raw in self.contract.functions.getListings(offset, LISTING_PAGE).call()
            ]
        needle = (search or "").lower()

        def wanted(item: Listing) -> bool:
            text = " ".join((item.name, item.description, item.format, item.license)).lower()
            return (kind is None or item.kind == kind) and (item.active or not active_only) and needle in text

        return sorted(filter(wanted, found), key=lambda item: -item.id)

    def purchase(self, listing_id: int, buyer: str | None = None) -> Purchase:
        who = self._checked(buyer) if buyer else self.address
        return Purchase.from_tuple(self.contract.functions.purchaseOf(listing_id, who).call())

    def has_access(self, listing_id: int, account: str | None = None) -> bool:
        who = self._checked(account) if account else self.address
        return bool(self.contract.functions.hasAccess(listing_id, who).call())

    def services(self, listing_id: int) -> list[ServiceInfo]:
        """The compute services serving model `listing_id` (linked, still registered, serving its name)."""
        providers = self.contract.functions.servicesOf(listing_id).call()
        compute = Compute(self.settings, w3=self.w3, deployment=self.deployment)
        return [compute.service(provider) for provider in providers]

    def proceeds(self, account: str | None = None) -> int:
        return int(self.contract.functions.proceeds(self._checked(account) if account else self.address).call())

    def grant_timeout(self) -> int:
        return int(self.contract.functions.grantTimeout().call())

    # ------------------------------------------------------------ listing

    def check_stored(self, roots: list[str], nodes: list[Node], private: bool) -> tuple[int, Header | None]:
        """The stored size of the file `roots` names and, if private, its encryption header; MarketError unless
        every root is finalized on Storage and a private item's first bytes are an encryption header."""
        try:
            stored = sum(int(file_info(nodes, root)["tx"]["size"]) for root in roots)
            header = Header.parse(head(roots[0], nodes, ECIES_HEADER_SIZE)) if private else None
        except EncryptionError as exc:
            raise MarketError(f"a private item must be stored encrypted: {exc}") from exc
        except ZeroGError as exc:
            raise MarketError(f"cannot list it: {exc.message}") from exc
        return stored, header

    def list_item(self, params: ListingParams, nodes: list[Node]) -> tuple[int, TxReceipt]:
        """Checks the roots on Storage, then lists; returns the new listing's id."""
        self.check_stored(params.roots, nodes, params.private)
        receipt = self._send(self.contract.functions.list(params.to_tuple()))
        (event,) = self.contract.events.ItemListed().process_receipt(receipt)
        return int(event["args"]["id"]), receipt

    def publish(
        self,
        path: Path,
        params: ListingParams,
        nodes: list[Node],
        *,
        journal: SubmitJournal | None = None,
        progress: Progress | None = None,
    ) -> tuple[int, TxReceipt]:
        """Uploads `path` (a private item v2-encrypted to the lister's own key), then lists it with its plaintext
        size and content hash."""
        encryption = Encryptor.ecies(public_key_of(bytes(self.account.key))) if params.private else None
        uploaded = upload(
            path, nodes, self.w3, self.account, self.deployment, journal=journal, progress=progress,
            encryption=encryption,
        )  # fmt: skip
        size = path.stat().st_size
        listed = replace(params, roots=uploaded.roots, size=size, content_hash=content_hash(path))
        return self.list_item(listed, nodes)

    def update(self, listing_id: int, price: int, description: str, license_: str) -> TxReceipt:
        return self._send(self.contract.functions.update(listing_id, price, description, license_))

    def delist(self, listing_id: int) -> TxReceipt:
        return self._send(self.contract.functions.delist(listing_id))

    # ------------------------------------------------------------ buying

    def buy(self, listing_id: int) -> TxReceipt:
        """Pays the listing's current price (exactly; the contract refuses any other amount)."""
        item = self.listing(listing_id)
        return self._send(self.contract.functions.buy(listing_id), value=item.price)

    def reclaim(self, listing_id: int) -> TxReceipt:
        return self._send(self.contract.functions.reclaim(listing_id))

    def withdraw(self) -> tuple[int, TxReceipt]:
        receipt = self._send(self.contract.functions.withdraw())
        (event,) = self.contract.events.ProceedsWithdrawn().process_receipt(receipt)
        return int(event["args"]["amount"]), receipt

    # ------------------------------------------------------------ grants

    def grant_context(self, listing_id: int, grantee: str) -> bytes:
        return (
            GRANT_CONTEXT
            + self.deployment.chain_id.to_bytes(32)
            + bytes.fromhex(self.contract.address[2:])
            + listing_id.to_bytes(32)
            + bytes.fromhex(self._checked(grantee)[2:])
        )

    def _header(self, item: Listing, nodes: list[Node]) -> Header:
        try:
            return Header.parse(head(item.roots[0], nodes, ECIES_HEADER_SIZE))
        except EncryptionError as exc:
            raise MarketError(f"listing {item.id}'s file is not encrypted as a private item must be: {exc}") from exc

    def own_key(self, item: Listing, nodes: list[Node], symmetric_key: bytes | None = None) -> bytes:
        """The AES key of the lister's own private item: derived from a v2 header, else the v1 key given."""
        header = self._header(item, nodes)
        if header.version == ECIES_VERSION:
            assert header.ephemeral_key is not None
            return ecies_key(bytes(self.account.key), header.ephemeral_key)
        if symmetric_key is None:
            raise MarketError(f"listing {item.id} is v1 (symmetric) encrypted: give its 32-byte content key")
        return check_key(symmetric_key)

    def pending(self, listing_id: int) -> list[tuple[str, str]]:
        """(buyer, purchase tx hash) of the escrowed purchases of `listing_id` that still wait for a key."""
        logs = self.contract.events.ItemBought().get_logs(
            from_block=self.from_block, argument_filters={"id": listing_id}
        )
        latest = {log["args"]["buyer"]: log["transactionHash"].to_0x_hex() for log in logs}
        return [
            (buyer, tx)
            for buyer, tx in latest.items()
            if (held := self.purchase(listing_id, buyer)).escrowed and held.granted_block == 0
        ]

    def public_key(self, listing_id: int, grantee: str) -> bytes:
        """`grantee`'s public key, from the signature of its purchase of `listing_id`, else of its compute service
        registration."""
        grantee = self._checked(grantee)
        bought = self.contract.events.ItemBought().get_logs(
            from_block=self.from_block, argument_filters={"id": listing_id, "buyer": grantee}
        )
        compute = Compute(self.settings, w3=self.w3, deployment=self.deployment)
        registered = compute.serving.events.ServiceRegistered().get_logs(
            from_block=int(self.deployment.record(SERVING).get("deployBlock", 0)),
            argument_filters={"provider": grantee},
        )
        for log in [*bought, *registered][::-1]:
            tx = self.w3.eth.get_transaction(log["transactionHash"])
            if to_checksum_address(tx["from"]) == grantee:
                return public_key_of_transaction(tx)
        raise MarketError(
            f"no transaction signed by {grantee} shows its public key: it must buy listing {listing_id} "
            "(or register a compute service) first"
        )

    def grant(self, listing_id: int, grantee: str, nodes: list[Node], symmetric_key: bytes | None = None) -> TxReceipt:
        """Delivers the content key of private listing `listing_id` to `grantee`, sealed to its public key."""
        item = self.listing(listing_id)
        if to_checksum_address(item.lister) != self.address:
            raise MarketError(f"only listing {listing_id}'s lister {item.lister} can grant its key")
        if not item.private:
            raise MarketError(f"listing {listing_id} is public: there is no key to grant")
        key = self.own_key(item, nodes, symmetric_key)
        sealed = seal(self.public_key(listing_id, grantee), key, self.grant_context(listing_id, grantee))
        return self._send(self.contract.functions.grant(listing_id, self._checked(grantee), sealed))

    def key(self, item: Listing, nodes: list[Node]) -> bytes:
        """The AES key of private `item` for this account: its own (lister), else the one granted to it."""
        if to_checksum_address(item.lister) == self.address:
            return self.own_key(item, nodes)
        held = self.purchase(item.id)
        if held.granted_block == 0:
            if held.escrowed:
                raise MarketError(
                    f"listing {item.id}: bought, but the lister has not delivered the key yet (it may: "
                    f"`zg market reclaim {item.id}` gives the payment back {self.grant_timeout()} s after the purchase)"
                )
            raise MarketError(f"no access to private listing {item.id}: buy it first (`zg market buy {item.id}`)")
        logs = self.contract.events.AccessGranted().get_logs(
            from_block=held.granted_block,
            to_block=held.granted_block,
            argument_filters={"id": item.id, "grantee": self.address},
        )
        if not logs:
            raise MarketError(f"the grant of listing {item.id} (block {held.granted_block}) is not on this node")
        try:
            return unseal(
                bytes(self.account.key), bytes(logs[-1]["args"]["sealedKey"]), self.grant_context(item.id, self.address)
            )
        except SealError as exc:
            raise MarketError(f"the key granted for listing {item.id} does not open: {exc.message}") from exc

    # ------------------------------------------------------------ getting the content

    def get(
        self,
        listing_id: int,
        out: Path,
        nodes: list[Node],
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> Listing:
        """Downloads listing `listing_id` to `out`, every segment proof-checked, decrypted if private, and checked
        against its content hash; nothing is written unless all of it holds."""
        item = self.listing(listing_id)
        if out.exists() and not overwrite:
            raise MarketError(f"{out} exists (pass overwrite to replace it)")
        if item.price and not self.has_access(listing_id) and not item.private:
            raise MarketError(
                f"listing {listing_id} is sold ({item.price} wei): buy it first (`zg market buy {listing_id}`)"
            )
        decryptor = Decryptor(self._header(item, nodes), self.key(item, nodes)) if item.private else None
        with _staging(out) as staged:
            download(item.roots, staged, nodes, overwrite=True, progress=progress, decryptor=decryptor)
            if item.has_content_hash and content_hash(staged) != item.content_hash:
                raise MarketError(
                    f"listing {listing_id}: the content does not match its content hash"
                    + (" (a wrong key?)" if item.private else "")
                )
            os.replace(staged, out)
        return item

    # ------------------------------------------------------------ providers

    def link(self, listing_id: int) -> TxReceipt:
        return self._send(self.contract.functions.linkService(listing_id))

    def unlink(self, listing_id: int) -> TxReceipt:
        return self._send(self.contract.functions.unlinkService(listing_id))


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temp path beside `out`, removed afterwards unless it was moved into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        if os.path.exists(name):
            os.unlink(name)
