"""The Marketplace contract's records as Python values (IMarketplace's Listing and Purchase)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Kind(IntEnum):
    MODEL = 0
    DATASET = 1

    @classmethod
    def parse(cls, name: str) -> Kind:
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ListingParams:
    """What `Market.list_item` puts on chain (IMarketplace.ListingParams)."""

    kind: Kind
    name: str
    roots: list[str]
    size: int
    price: int
    private: bool = False
    description: str = ""
    license: str = ""
    format: str = ""
    content_hash: bytes = bytes(32)

    def to_tuple(self) -> tuple[Any, ...]:
        roots = [bytes.fromhex(root.removeprefix("0x")) for root in self.roots]
        return (
            int(self.kind), self.private, self.price, self.size, self.content_hash, roots,
            self.name, self.description, self.license, self.format,
        )  # fmt: skip


@dataclass(frozen=True)
class Listing:
    id: int
    lister: str
    kind: Kind
    private: bool
    active: bool
    listed_at: int
    updated_at: int
    price: int
    size: int
    sales: int
    content_hash: bytes
    roots: list[str]
    name: str
    description: str
    license: str
    format: str

    @classmethod
    def from_tuple(cls, raw: Any) -> Listing:
        (id_, lister, kind, private, active, listed_at, updated_at, price, size, sales, content_hash, roots,
         name, description, license_, format_) = raw  # fmt: skip
        return cls(
            int(id_), lister, Kind(kind), bool(private), bool(active), int(listed_at), int(updated_at), int(price),
            int(size), int(sales), bytes(content_hash), ["0x" + bytes(r).hex() for r in roots], name, description,
            license_, format_,
        )  # fmt: skip

    @property
    def has_content_hash(self) -> bool:
        return self.content_hash != bytes(32)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lister": self.lister,
            "kind": self.kind.label,
            "private": self.private,
            "active": self.active,
            "listedAt": self.listed_at,
            "updatedAt": self.updated_at,
            "priceWei": self.price,
            "size": self.size,
            "sales": self.sales,
            "contentHash": "0x" + self.content_hash.hex() if self.has_content_hash else None,
            "roots": self.roots,
            "name": self.name,
            "description": self.description,
            "license": self.license,
            "format": self.format,
        }


@dataclass(frozen=True)
class Purchase:
    paid: int
    fee: int
    escrowed: bool
    bought_at: int
    granted_block: int

    @classmethod
    def from_tuple(cls, raw: Any) -> Purchase:
        paid, fee, escrowed, bought_at, granted_block = raw
        return cls(int(paid), int(fee), bool(escrowed), int(bought_at), int(granted_block))

    @property
    def exists(self) -> bool:
        return self.bought_at != 0 or self.granted_block != 0

    def to_json(self) -> dict[str, Any]:
        return {
            "paidWei": self.paid,
            "feeWei": self.fee,
            "escrowed": self.escrowed,
            "boughtAt": self.bought_at,
            "grantedBlock": self.granted_block,
        }
