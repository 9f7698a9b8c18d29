"""Rendering pages: Jinja2 templates (services/explorer/templates) with filters for wei, hashes and times, and
the banner every page carries when the chain node does not answer or indexing stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.explorer.views import Views

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
#: Wei below this read better as wei than as a fraction of 0G.
WEI_DISPLAY_THRESHOLD = 10**12
ETHER = Decimal(10**18)


def wei(value: Any) -> str:
    if value is None:
        return "unavailable"
    amount = int(value)
    if 0 < amount < WEI_DISPLAY_THRESHOLD:
        return f"{amount:,} wei"
    text = f"{Decimal(amount) / ETHER:,.6f}".rstrip("0").rstrip(".")
    return f"{text} 0G"


def short(value: Any, keep: int = 6) -> str:
    text = str(value or "")
    return text if len(text) <= 2 * keep + 3 else f"{text[: keep + 2]}…{text[-keep:]}"


def utc(timestamp: Any) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if timestamp else ""


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2)


def percent(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}%"


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(wei=wei, short=short, utc=utc, pretty=pretty, percent=percent)


def banner(views: Views | None) -> str | None:
    """What is wrong with the data the page shows, if anything (the page still renders what is indexed)."""
    if views is None:
        return None
    state = views.follower_state()
    if state["failed"]:
        return f"Indexing stopped: {state['failed']}"
    if state["unreachable"]:
        return f"The chain node does not answer: showing what was indexed, up to block {state['height']}."
    return None


def render(
    request: Request, template: str, data: dict[str, Any], views: Views | None, status: int = 200
) -> HTMLResponse:
    context = {"data": data, "banner": banner(views), "chain_id": views.chain_id if views else None}
    return templates.TemplateResponse(request, template, context, status_code=status)
