"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download), and a watch
on every page that fails the test on console errors, uncaught exceptions, dialogs (an
injected `alert`) or any request that leaves the service's origin."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT_MS = 5_000  # every wait in these tests is bounded by this
_USERINFO = re.compile(r"://[^/@]*@")

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - reported below
    sync_playwright = None


def _unavailable() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    reason = _unavailable()
    if reason:  # a missing browser is a broken test machine, never a skip: .ci/run installs it
        pytest.fail(f"browser tests cannot run: {reason}")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        yield browser
        browser.close()


@dataclass
class PageWatch:
    """What a page did that a test must not let pass unnoticed."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed_console: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", self._request)

        def dialog(d) -> None:
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)

    def allow_console(self, pattern: str) -> None:
        """An expected console error, such as Chromium's line for a deliberate 409."""
        self.allowed_console.append(re.compile(pattern))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if any(p.search(message.text) for p in self.allowed_console):
            return
        self.console_errors.append(message.text)

    def _request(self, request) -> None:
        url = request.url
        self.requests.append(url)
        if url.startswith("data:"):
            return
        # http://user:pw@host/ is the same origin as http://host/ (a page opened that way).
        url = _USERINFO.sub("://", url, count=1)
        if not (url == self.origin or url.startswith(self.origin + "/")):
            self.foreign_requests.append(url)

    def check(self) -> None:
        problems = {
            "console errors": self.console_errors,
            "uncaught exceptions": self.page_errors,
            "requests outside the service's origin": self.foreign_requests,
            "dialogs": self.dialogs,
        }
        found = {name: items for name, items in problems.items() if items}
        assert not found, f"the page misbehaved: {found}"


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[Callable[..., tuple[Page, PageWatch]]]:
    """open_page(origin, credentials=..., **context options) -> (page, watch).

    Each page gets its own context (fresh storage); the watch is checked at teardown, so a
    console error or a foreign request fails the test even if its assertions passed."""
    contexts: list[tuple[BrowserContext, PageWatch]] = []

    def open_(
        origin: str, credentials: tuple[str, str] | None = None, **options
    ) -> tuple[Page, PageWatch]:
        if credentials:
            options["http_credentials"] = {"username": credentials[0], "password": credentials[1]}
        context = chromium.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        watch = PageWatch(origin)
        page = context.new_page()
        watch.attach(page)
        contexts.append((context, watch))
        return page, watch

    yield open_
    for context, _ in contexts:
        context.close()
    for _, watch in contexts:
        watch.check()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
