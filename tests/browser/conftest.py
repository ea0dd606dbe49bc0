"""Headless Chromium for the browser tests: Debian's own, driven by Playwright.

Playwright's bundled browsers are not used (``playwright install`` needs a
download site); ``scripts/setup --test`` installs Debian's ``chromium`` and the
tests launch it by ``executable_path``. Without it the tests skip on a
developer's machine and fail in CI (``CI`` set), where a missing browser is a
broken setup. Every test leaves a full-page screenshot in
``test-artifacts/screenshots/``, pass or fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# As root Chromium needs --no-sandbox; the rest keep it from calling Google
# hosts (component updates, sync, QUIC probes), which a closed network refuses.
# Playwright adds --headless and a fresh temporary --user-data-dir itself.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_MS = 30_000  # generous: the machine is shared; this is a wait, not a timing assertion


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once per test module and closed after it."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed; `scripts/setup --test` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_FLAGS)
        )
        yield launched
        launched.close()


@pytest.fixture()
def browser_context(browser: Browser, live_server) -> Iterator[BrowserContext]:  # type: ignore[no-untyped-def]
    """A fresh browser profile (no cookies, no local storage) aimed at the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page_requests() -> list[str]:
    """Every URL the page requested, in order (filled by the ``page`` fixture)."""
    return []


@pytest.fixture()
def page_errors() -> list[str]:
    """Uncaught JavaScript errors of the page (filled by the ``page`` fixture)."""
    return []


@pytest.fixture()
def page(
    browser_context: BrowserContext, page_requests: list[str], page_errors: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a fresh profile; its screenshot is saved when the test ends, pass or fail."""
    tab = browser_context.new_page()
    tab.on("request", lambda req: page_requests.append(req.url))
    tab.on("pageerror", lambda exc: page_errors.append(str(exc)))
    yield tab
    _screenshot(tab, request)


@pytest.fixture()
def page_without_js(browser: Browser, live_server, request: pytest.FixtureRequest) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A page with JavaScript switched off, as some readers and crawlers see the site; screenshot saved too."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    try:
        _screenshot(tab, request)
    finally:
        context.close()


def _screenshot(tab: Page, request: pytest.FixtureRequest) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_id = request.node.nodeid.rsplit("/", 1)[-1].replace(".py::", "--")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_id).strip("-")
    try:
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        tab.close()
