"""`zg market`: models and datasets on Storage, listed, bought and licensed on chain, and served by Compute."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zerog.cli.context import CliContext, pass_cli, with_client
from zerog.cli.storage import check_root, hex_bytes, node_option, progress_bar, storage_nodes
from zerog.cli.units import AMOUNT, og

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from zerog.market.client import Market
    from zerog.market.records import Listing

KINDS = click.Choice(["model", "dataset"], case_sensitive=False)
#: Seconds between rounds of `zg market grant --watch`.
WATCH_SECONDS = 2.0


with_market = with_client("zerog.market.client:Market")


def _tx(receipt: TxReceipt) -> str:
    return receipt["transactionHash"].to_0x_hex()


def _link(ctx: CliContext, data: dict[str, Any], text: str, listing_id: int) -> tuple[dict[str, Any], str]:
    if ctx.links is None:
        return data, text
    url = ctx.links.listing(listing_id)
    return {**data, "explorer": url}, f"{text}\nview {url}"


def _summary(item: Listing) -> str:
    price = "free" if item.price == 0 else og(item.price)
    flags = ", ".join(f for f in ("private" if item.private else "public", "" if item.active else "delisted") if f)
    return f"[bold]#{item.id}[/bold] {item.kind.label} [bold]{item.name}[/bold]  {price}  ({flags}, {item.sales} sold)"


@click.group()
def market() -> None:
    """The marketplace: models and datasets on Storage, licensed on chain, served by Compute."""


@market.command("list")
@click.argument("kind", type=KINDS)
@click.option("--name", required=True, help="Name (for a model: the name providers serve it under).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Upload this.")
@click.option("--root", "roots", help="Already stored: its root (or fragment roots, comma-separated).")
@click.option("--price", type=AMOUNT, default="0", show_default=True, help="Price (e.g. 0.5, 100 gwei).")
@click.option("--private", is_flag=True, help="Encrypted: buyers get its key from you (`zg market grant`).")
@click.option("--description", default="", help="What it is.")
@click.option("--license", "license_", default="", help="Licence (e.g. MIT, CC-BY-4.0).")
@click.option("--format", "format_", default="", help="Model family or dataset format (zg-bytelm, jsonl-chat).")
@click.option("--size", type=click.IntRange(min=1), help="With --root: its size as buyers get it (default: stored).")
@click.option("--content-hash", metavar="HEX32", help="With --root: keccak256 of its content (buyers check it).")
@node_option
@pass_cli
def list_item(
    ctx: CliContext,
    kind: str,
    name: str,
    file: Path | None,
    roots: str | None,
    price: int,
    private: bool,
    description: str,
    license_: str,
    format_: str,
    size: int | None,
    content_hash: str | None,
    node_urls: tuple[str, ...],
) -> None:
    """List a model or dataset: upload FILE (a private one encrypted to your key) or name one already stored
    (--root; a private one must be stored encrypted). The roots are checked on Storage before any transaction."""
    from zerog.market.client import Market
    from zerog.market.records import Kind, ListingParams
    from zerog.storage.journal import SubmitJournal

    if (file is None) == (roots is None):
        raise click.UsageError("give either --file (to upload) or --root (already stored)")
    m = Market(ctx.settings)
    nodes = storage_nodes(ctx, node_urls)
    params = ListingParams(
        kind=Kind.parse(kind), name=name, roots=[], size=0, price=price, private=private,
        description=description, license=license_, format=format_,
    )  # fmt: skip
    if file is not None:
        journal = SubmitJournal.in_data_dir(ctx.settings.data_dir, m.deployment)
        with progress_bar(ctx, f"uploading {file.name}", file.stat().st_size) as advance:
            listing_id, receipt = m.publish(file, params, nodes, journal=journal, progress=advance)
    else:
        assert roots is not None
        root_list = [check_root(r.strip()) for r in roots.split(",") if r.strip()]
        stored, header = m.check_stored(root_list, nodes, private)
        default_size = stored - header.size if header is not None else stored  # the content follows the header
        hashed = hex_bytes(content_hash, "--content-hash") if content_hash else bytes(32)
        params = replace(params, roots=root_list, size=size or default_size, content_hash=hashed)
        listing_id, receipt = m.list_item(params, nodes)
    item = m.listing(listing_id)
    data, text = _link(ctx, {**item.to_json(), "txHash": _tx(receipt)}, f"listed {_summary(item)}", listing_id)
    ctx.emit(data, text)


@market.command("ls")
@click.option("--kind", type=KINDS, help="Only models or only datasets.")
@click.option("--search", help="Text in the name, description, format or licence.")
@click.option("--all", "show_all", is_flag=True, help="Delisted items too.")
@with_market
def list_items(ctx: CliContext, m: Market, kind: str | None, search: str | None, show_all: bool) -> None:
    """List the marketplace's items, newest first, with who serves each model and at what price."""
    from zerog.market.records import Kind

    items = m.listings(Kind.parse(kind) if kind else None, search, active_only=not show_all)
    rows, lines = [], []
    for item in items:
        services = m.services(item.id) if item.kind == Kind.MODEL else []
        rows.append({**item.to_json(), "services": [s.to_json() for s in services]})
        lines.append(_summary(item))
        lines += [
            f"    served by {s.provider} at {s.url} ({og(s.input_price)}/in, {og(s.output_price)}/out token)"
            for s in services
        ]
    ctx.emit(rows, "\n".join(lines) or "nothing listed yet (`zg market list model|dataset ...`)")


@market.command("show")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@with_market
def show(ctx: CliContext, m: Market, listing_id: int) -> None:
    """One item: what it is, where it is stored, who serves it, and what you hold of it."""
    from zerog.market.records import Kind

    item = m.listing(listing_id)
    services = m.services(item.id) if item.kind == Kind.MODEL else []
    held = m.purchase(listing_id)
    data = {
        **item.to_json(),
        "services": [s.to_json() for s in services],
        "yours": {**held.to_json(), "access": m.has_access(listing_id)},
    }
    lines = [_summary(item), f"  lister   {item.lister}", f"  size     {item.size} bytes"]
    lines += [f"  {label:<8} {value}" for label, value in (
        ("format", item.format), ("licence", item.license), ("about", item.description)) if value]  # fmt: skip
    lines += [f"  root     {root}" for root in item.roots]
    lines += [f"  served   by {s.provider} at {s.url} as {s.model}" for s in services]
    if item.lister.lower() == m.address.lower():
        lines.append("  yours: you listed it")
    elif held.exists:
        state = "key delivered" if held.granted_block else "waiting for the key" if held.escrowed else "bought"
        lines.append(f"  yours: paid {og(held.paid)}, {state}")
    data, text = _link(ctx, data, "\n".join(lines), listing_id)
    ctx.emit(data, text)


@market.command("buy")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@with_market
def buy(ctx: CliContext, m: Market, listing_id: int) -> None:
    """Buy an item at its price. A private item's payment waits in escrow until the lister delivers the key."""
    item = m.listing(listing_id)
    receipt = m.buy(listing_id)
    text = f"bought #{item.id} {item.name} for {og(item.price)}"
    if item.private:
        text += (
            f"; the payment is held until the lister delivers the key (then `zg market get {item.id} OUT`), "
            f"or comes back with `zg market reclaim {item.id}` if none arrives within {m.grant_timeout()} s"
        )
    data, text = _link(ctx, {"id": item.id, "priceWei": item.price, "txHash": _tx(receipt)}, text, listing_id)
    ctx.emit(data, text)


@market.command("grant")
@click.argument("listing_id", metavar="[ID]", type=click.IntRange(min=1), required=False)
@click.option("--to", "grantee", help="Grant this address (no purchase needed), e.g. a provider serving it.")
@click.option("--key", "key_hex", metavar="HEX32", help="The content key of a v1-encrypted item.")
@click.option("--watch", is_flag=True, help="Keep granting new purchases as they come (Ctrl-C stops).")
@node_option
@with_market
def grant(
    ctx: CliContext,
    m: Market,
    listing_id: int | None,
    grantee: str | None,
    key_hex: str | None,
    watch: bool,
    node_urls: tuple[str, ...],
) -> None:
    """Deliver the key of your private item ID to its buyers who are still waiting (all your private items
    without ID), sealed to each buyer's public key, which comes from its purchase's signature."""
    key = hex_bytes(key_hex, "--key") if key_hex else None
    nodes = storage_nodes(ctx, node_urls)
    if grantee is not None:
        if listing_id is None:
            raise click.UsageError("--to needs the listing ID")
        receipt = m.grant(listing_id, grantee, nodes, key)
        ctx.emit({"id": listing_id, "grantee": grantee, "txHash": _tx(receipt)}, f"granted #{listing_id} to {grantee}")
        return
    from zerog.market.client import MarketError

    granted: list[dict[str, Any]] = []
    failed: dict[tuple[int, str], str] = {}  # one buyer's problem (e.g. it bought through a contract) stops no other
    while True:
        for item_id in [listing_id] if listing_id else _my_private(m):
            for buyer, _ in m.pending(item_id):
                try:
                    receipt = m.grant(item_id, buyer, nodes, key)
                except MarketError as exc:
                    if (item_id, buyer) not in failed:
                        click.echo(f"cannot grant #{item_id} to {buyer}: {exc.message}", err=True)
                    failed[item_id, buyer] = exc.message
                    continue
                granted.append({"id": item_id, "grantee": buyer, "txHash": _tx(receipt)})
                if watch:
                    click.echo(f"granted #{item_id} to {buyer}", err=ctx.as_json)
        if not watch:
            break
        time.sleep(WATCH_SECONDS)
    lines = [f"granted #{g['id']} to {g['grantee']}" for g in granted]
    ctx.emit(granted, "\n".join(lines) or "no purchase is waiting for a key")
    if failed:
        raise MarketError(f"{len(failed)} purchase(s) could not be granted (see above)")


def _my_private(m: Market) -> list[int]:
    return [i.id for i in m.listings(active_only=False) if i.private and i.lister.lower() == m.address.lower()]


@market.command("get")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@node_option
@pass_cli
def get(ctx: CliContext, listing_id: int, out: Path, overwrite: bool, node_urls: tuple[str, ...]) -> None:
    """Download item ID to OUT: every segment proof-checked, decrypted with your key if it is private, and
    checked against its content hash. Nothing is written unless it all holds."""
    from zerog.market.client import Market

    m = Market(ctx.settings)
    item = m.listing(listing_id)
    nodes = storage_nodes(ctx, node_urls)
    with progress_bar(ctx, f"downloading {item.name}", item.size) as advance:
        m.get(listing_id, out, nodes, overwrite=overwrite, progress=advance)
    checked = ", content hash checked" if item.has_content_hash else ""
    text = (
        f"wrote {item.size} bytes of #{item.id} {item.name} to {out}{' (decrypted)' if item.private else ''}{checked}"
    )
    ctx.emit({"id": item.id, "path": str(out), "size": item.size, "decrypted": item.private}, text)


@market.command("update")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--price", type=AMOUNT, help="New price.")
@click.option("--description", help="New description.")
@click.option("--license", "license_", help="New licence.")
@with_market
def update(
    ctx: CliContext, m: Market, listing_id: int, price: int | None, description: str | None, license_: str | None
) -> None:
    """Change the price, description or licence of your item (its content is fixed: list new content anew)."""
    item = m.listing(listing_id)
    receipt = m.update(
        listing_id,
        item.price if price is None else price,
        item.description if description is None else description,
        item.license if license_ is None else license_,
    )
    updated = m.listing(listing_id)
    ctx.emit({**updated.to_json(), "txHash": _tx(receipt)}, f"updated {_summary(updated)}")


@market.command("delist")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@with_market
def delist(ctx: CliContext, m: Market, listing_id: int) -> None:
    """Stop selling your item. Buyers keep what they bought; waiting buyers can still be granted."""
    receipt = m.delist(listing_id)
    ctx.emit({"id": listing_id, "txHash": _tx(receipt)}, f"delisted #{listing_id}")


@market.command("reclaim")
@click.argument("listing_id", metavar="ID", type=click.IntRange(min=1))
@with_market
def reclaim(ctx: CliContext, m: Market, listing_id: int) -> None:
    """Take back the payment for a private item whose key never came (after the grant timeout)."""
    held = m.purchase(listing_id)
    receipt = m.reclaim(listing_id)
    ctx.emit(
        {"id": listing_id, "amountWei": held.paid, "txHash": _tx(receipt)},
        f"took back {og(held.paid)} paid for #{listing_id}",
    )


@market.command("withdraw")
@with_market
def withdraw(ctx: CliContext, m: Market) -> None:
    """Withdraw your proceeds (sales released to you) to your wallet."""
    from zerog.market.client import MarketError

    if not m.proceeds():
        raise MarketError(f"{m.address} has no proceeds to withdraw")
    amount, receipt = m.withdraw()
    ctx.emit({"amountWei": amount, "txHash": _tx(receipt)}, f"withdrew {og(amount)} to {m.address}")
