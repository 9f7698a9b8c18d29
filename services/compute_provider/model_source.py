"""Where the served checkpoint comes from when it is on Storage: a marketplace listing (`compute_listing`) or a
storage root (`compute_model_root`, matched to the listing of that root if there is one).

The file is downloaded with every segment proof-checked against its root, decrypted when it is private (the
provider's own v2 upload, or a listing whose key was granted to the provider), checked against the listing's
content hash, and cached in `<compute_model_dir>/storage/<first root>.pt`; a cached copy is used again only if it
still matches (content hash, or the root itself for a public file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from services.compute_provider.config import ProviderSettings
from zerog.errors import ConfigError, ZeroGError
from zerog.market.client import Market, content_hash
from zerog.market.records import Kind, Listing
from zerog.storage.client import Node, download, head, nodes_from_indexer
from zerog.storage.encryption import ECIES_HEADER_SIZE, ECIES_VERSION, Decryptor, EncryptionError, Header, ecies_key
from zerog.storage.merkle import FileTree

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredModel:
    path: Path
    name: str
    listing: Listing | None


def _listing_of_root(market: Market, root: str) -> Listing | None:
    """The newest active model listing whose content is exactly `root`."""
    wanted = [root.lower()]
    return next((i for i in market.listings(Kind.MODEL) if [r.lower() for r in i.roots] == wanted), None)


def _cached(path: Path, roots: list[str], listing: Listing | None) -> bool:
    if not path.is_file():
        return False
    if listing is not None and listing.has_content_hash:
        return content_hash(path) == listing.content_hash
    private = listing.private if listing is not None else False
    return not private and len(roots) == 1 and FileTree.from_path(path).root_hex.lower() == roots[0].lower()


def _own_decryptor(nodes: list[Node], root: str, account: LocalAccount) -> Decryptor | None:
    """For a root without listing: None if the file is plain, its decryptor if it is v2 to the provider's key."""
    first = head(root, nodes, ECIES_HEADER_SIZE)
    try:
        header = Header.parse(first)
    except EncryptionError:
        return None  # not an encryption header: a plain file (a torch checkpoint starts with "PK")
    if header.version != ECIES_VERSION or header.ephemeral_key is None:
        raise ConfigError(f"model root {root} is v1 (symmetric) encrypted: list it and serve it with --listing")
    return Decryptor(header, ecies_key(bytes(account.key), header.ephemeral_key))


def fetch_model(settings: ProviderSettings, account: LocalAccount) -> StoredModel:
    """The checkpoint named by `compute_listing` / `compute_model_root`, on local disk and checked; ConfigError
    (the provider refuses to start) when it cannot be had."""
    market = Market(settings, account)
    try:
        if settings.compute_listing is not None:
            listing: Listing | None = market.listing(settings.compute_listing)
            assert listing is not None
            if listing.kind != Kind.MODEL:
                raise ConfigError(f"listing {listing.id} is a dataset, not a model")
        else:
            assert settings.compute_model_root is not None
            listing = _listing_of_root(market, settings.compute_model_root)
        roots = listing.roots if listing is not None else [settings.compute_model_root or ""]
        name = listing.name if listing is not None else settings.compute_model_name
        path = settings.compute_model_dir / "storage" / f"{roots[0].lower()}.pt"
        if _cached(path, roots, listing):
            log.info("model %s from storage root %s: cached at %s", name, roots[0], path)
            return StoredModel(path, name, listing)
        nodes = nodes_from_indexer(settings.indexer_url)
        log.info("downloading model %s from storage root %s", name, roots[0])
        if listing is not None:  # decrypted with the provider's own or granted key, content hash checked
            market.get(listing.id, path, nodes, overwrite=True)
        else:
            download(roots, path, nodes, overwrite=True, decryptor=_own_decryptor(nodes, roots[0], account))
    except ZeroGError as exc:
        raise ConfigError(f"cannot get the model from Storage: {exc.message}") from exc
    return StoredModel(path, name, listing)


def fetch_adapter(settings: ProviderSettings, account: LocalAccount, root: str) -> Path:
    """The adapter stored under `root` on local disk (proof-checked; decrypted if it is v2 to the provider)."""
    path = settings.compute_model_dir / "storage" / f"{root.lower()}.adapter.pt"
    if _cached(path, [root], None):
        return path
    try:
        nodes = nodes_from_indexer(settings.indexer_url)
        download([root], path, nodes, overwrite=True, decryptor=_own_decryptor(nodes, root, account))
    except ZeroGError as exc:
        raise ConfigError(f"cannot get the adapter from Storage: {exc.message}") from exc
    return path


def link_listing(settings: ProviderSettings, account: LocalAccount, listing: Listing) -> None:
    """Links the provider's (registered) service to `listing`, unless it is linked already."""
    market = Market(settings, account)
    if account.address in market.contract.functions.servicesOf(listing.id).call():
        log.info("service already linked to listing %d", listing.id)
        return
    market.link(listing.id)
    log.info("linked the service to listing %d (%s)", listing.id, listing.name)
