"""A real browser for the web pages' tests: the system's headless chromium driven by Playwright's sync API (never a
downloaded browser; `make browser` installs Debian's).

The `page` fixture (tests/conftest.py) is a page in a fresh context whose console errors and warnings, uncaught
page errors, failed requests and HTTP error responses fail the test at teardown, but for those the test declares
on `page_errors`: `page_errors.expect_status(400, "/api/claim")`, `page_errors.expect(r"regex")`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    WebError,
    sync_playwright,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# The machine has no internet: without the background-networking switches chromium keeps dialing Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# What chromium logs to the console for every HTTP error response, on top of the response itself.
RESOURCE_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")


@dataclass(frozen=True)
class Problem:
    """One thing that went wrong in the browser; `status` is an HTTP error response's (or its console line's)."""

    kind: str
    text: str
    url: str = ""
    status: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}" + (f" ({self.url})" if self.url else "")


@dataclass
class Expected:
    description: str
    matches: Callable[[Problem], bool]
    seen: bool = False


class PageErrors:
    """What went wrong in a test's browser contexts. A declared expectation makes its problems no failure, and
    must be met: expecting what never happens fails too."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.expected: list[Expected] = []

    def expect_status(self, status: int, url: str = "") -> None:
        """Responses with `status` from a URL containing `url`, and chromium's console error for each, are expected."""
        self.expected.append(
            Expected(f"HTTP {status} from *{url}*", lambda p: p.status == status and url in p.url),
        )

    def expect(self, pattern: str) -> None:
        """Problems whose description (`str(Problem)`, e.g. "console error: ...") matches the regex are expected."""
        self.expected.append(Expected(f"/{pattern}/", lambda p: re.search(pattern, str(p)) is not None))

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", self._on_page_error)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)

    def unexpected(self) -> list[str]:
        """The problems no expectation covers, then the expectations nothing met."""
        left = []
        for problem in self.problems:
            matching = [e for e in self.expected if e.matches(problem)]
            for expected in matching:
                expected.seen = True
            if not matching:
                left.append(str(problem))
        return left + [f"expected but never seen: {e.description}" for e in self.expected if not e.seen]

    def check(self) -> None:
        left = self.unexpected()
        assert not left, "the browser saw:\n" + "\n".join(left)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            status = RESOURCE_STATUS.match(message.text)
            url = message.location.get("url", "")
            self.problems.append(Problem(f"console {message.type}", message.text, url, status and int(status[1])))

    def _on_page_error(self, error: WebError) -> None:
        self.problems.append(Problem("page error", f"{error.error.name}: {error.error.message}"))

    def _on_request_failed(self, request: Request) -> None:
        # Navigating or closing aborts the requests in flight: the page's business, not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(Problem("request failed", f"{request.method} {request.failure}", request.url))

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            text = f"{response.request.method} {response.status} {response.status_text}"
            self.problems.append(Problem("HTTP error", text, response.url, response.status))


def chromium_path() -> Path:
    return Path(os.environ.get("ZG_CHROMIUM") or DEFAULT_CHROMIUM)


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """The headless chromium; skipped when it is missing, but in CI (env CI set), where that is a failure."""
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        reason = f"no chromium at {executable}: `make browser` installs it (or set ZG_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Browser, errors: PageErrors) -> Iterator[Page]:
    """A desktop-sized page in light mode in a fresh context (own cookies, storage, cache), watched by `errors`,
    which are checked on the way out."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    errors.watch(context)
    try:
        yield context.new_page()
        errors.check()
    finally:
        context.close()


def artifacts_dir() -> Path:
    return Path(os.environ.get("ZG_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of `page` for a human (and CI's artifacts): `<artifacts>/screenshots/<name>.png`."""
    path = artifacts_dir() / "screenshots" / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def color_scheme(page: Page, scheme: Literal["light", "dark"]) -> None:
    """Emulate `prefers-color-scheme: <scheme>` from now on, and make sure the page's media queries see it."""
    page.emulate_media(color_scheme=scheme)
    assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")


def phone(page: Page) -> None:
    """A phone's viewport (390x844 CSS pixels)."""
    page.set_viewport_size(PHONE)


def assert_no_horizontal_scroll(page: Page) -> None:
    """The page is no wider than the viewport; else names the elements that stick out."""
    width = page.evaluate(
        """() => {
          const inner = window.innerWidth;
          const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
            (e.classList.length ? "." + [...e.classList].join(".") : "");
          const wide = [...document.body.querySelectorAll("*")]
            .filter((e) => e.getBoundingClientRect().right > inner)
            .map((e) => name(e) + " " + Math.round(e.getBoundingClientRect().right) + "px");
          return { scroll: document.documentElement.scrollWidth, inner, wide: wide.slice(0, 10) };
        }"""
    )
    assert width["scroll"] <= width["inner"], f"{width['scroll']}px wide in {width['inner']}px: {width['wide']}"
