"""Every page twice: `GET /api<path>` answers the view's data as JSON, `GET <path>` renders it as HTML (server-side,
no script needed). One function per page gives the data; `page()` registers both routes for it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.explorer.api.deps import ViewsDep
from services.explorer.api.templates import render

api_router = APIRouter(prefix="/api", tags=["explorer"])
html_router = APIRouter(include_in_schema=False)

Limit = Annotated[int | None, Query(ge=1, description="rows to return (at most 100)")]
ListingKind = Annotated[Literal["model", "dataset"] | None, Query(description="only listings of this kind")]
View = Callable[..., dict[str, Any]]


def page(path: str, template: str) -> Callable[[View], View]:
    """Register `GET /api{path}` (JSON) and `GET {path}` (the template) for a view function."""

    def register(view: View) -> View:
        signature = inspect.signature(view)

        def as_json(**params: Any) -> dict[str, Any]:
            return view(**params)

        def as_html(request: Request, **params: Any) -> HTMLResponse:
            return render(request, template, view(**params), params["views"])

        as_json.__signature__ = signature  # type: ignore[attr-defined]
        request_param = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
        as_html.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[request_param, *signature.parameters.values()]
        )
        api_router.add_api_route(path, as_json, methods=["GET"], name=f"api_{view.__name__}")
        html_router.add_api_route(path, as_html, methods=["GET"], response_class=HTMLResponse, name=view.__name__)
        return view

    return register


@page("/", "home.html")
def home(views: ViewsDep) -> dict[str, Any]:
    return views.home()


@page("/status", "status.html")
def status(views: ViewsDep) -> dict[str, Any]:
    return views.status()


@page("/blocks", "blocks.html")
def blocks(views: ViewsDep, limit: Limit = None, before: Annotated[int | None, Query(ge=0)] = None) -> dict[str, Any]:
    return views.blocks(limit, before)


@page("/block/{ident}", "block.html")
def block(views: ViewsDep, ident: str) -> dict[str, Any]:
    return views.block(ident)


@page("/txs", "txs.html")
def transactions(views: ViewsDep, limit: Limit = None) -> dict[str, Any]:
    return views.transactions(limit)


@page("/tx/{tx_hash}", "tx.html")
def tx(views: ViewsDep, tx_hash: str) -> dict[str, Any]:
    return views.tx(tx_hash)


@page("/address/{address}", "address.html")
def address(views: ViewsDep, address: str, limit: Limit = None) -> dict[str, Any]:
    return views.address(address, limit)


@page("/storage", "storage_list.html")
def storage_files(views: ViewsDep, limit: Limit = None) -> dict[str, Any]:
    return views.storage_files(limit)


@page("/storage/{root}", "storage.html")
def storage_file(views: ViewsDep, root: str) -> dict[str, Any]:
    return views.storage_file(root)


@page("/da", "da_list.html")
def da_blobs(views: ViewsDep, limit: Limit = None) -> dict[str, Any]:
    return views.da_blobs(limit)


@page("/da/signers", "da_signers.html")
def da_signers(views: ViewsDep) -> dict[str, Any]:
    return views.da_signers()


@page("/da/{root}", "da.html")
def da_blob(views: ViewsDep, root: str) -> dict[str, Any]:
    return views.da_blob(root)


@page("/compute", "compute.html")
def compute(views: ViewsDep) -> dict[str, Any]:
    return views.compute()


@page("/compute/provider/{provider}", "provider.html")
def provider(views: ViewsDep, provider: str) -> dict[str, Any]:
    return views.provider(provider)


@page("/market", "market_list.html")
def market(views: ViewsDep, kind: ListingKind = None, limit: Limit = None) -> dict[str, Any]:
    return views.market(kind, limit)


@page("/market/{listing_id}", "market.html")
def listing(views: ViewsDep, listing_id: str) -> dict[str, Any]:
    return views.listing(listing_id)


@page("/mining", "mining.html")
def mining(views: ViewsDep) -> dict[str, Any]:
    return views.mining()


@page("/faucet", "faucet.html")
def faucet(views: ViewsDep, limit: Limit = None) -> dict[str, Any]:
    return views.faucet(limit)


@html_router.get("/search")
def search(views: ViewsDep, q: str = "") -> RedirectResponse:
    """Redirect to the page of what `q` names; a friendly 404 page when nothing matches."""
    return RedirectResponse(views.search(q), status_code=303)


@api_router.get("/search")
def api_search(views: ViewsDep, q: str = "") -> dict[str, str]:
    return {"query": q, "path": views.search(q)}
