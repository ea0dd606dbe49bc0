"""The site's own security headers, as Chromium enforces them: the query UI works under the policy it is served
with, the reconciliation preview shows inside another origin's iframe, and other pages refuse to be framed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from ..loopback import Answer, Hit, Loopback


def test_query_ui_works_under_the_policy_the_site_sends(page: Page) -> None:
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    response = page.goto("/sparql")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#query-ui")).to_have_attribute("data-state", "ready")
    page.locator(".yasqe_queryButton").filter(visible=True).click()
    results = page.locator(".yasr_results").filter(visible=True)
    expect(results).to_contain_text("The Silent Star")
    assert refused == []


@pytest.fixture()
def other_origin(live_server) -> Iterator[Loopback]:  # type: ignore[no-untyped-def]
    """A page on another origin (another loopback port) that frames two of the site's pages, as OpenRefine does."""

    def page(hit: Hit) -> Answer:
        html = (
            "<!doctype html><title>other origin</title>"
            f'<iframe id="preview" src="{live_server.url}/reconcile/preview?id=film/aelita"></iframe>'
            f'<iframe id="page" src="{live_server.url}/film/aelita.html"></iframe>'
        )
        return Answer(200, {"Content-Type": "text/html; charset=utf-8"}, html.encode())

    server = Loopback(page)
    yield server
    server.close()


def test_only_the_reconciliation_preview_shows_in_another_sites_frame(page: Page, other_origin: Loopback) -> None:
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text))
    page.goto(other_origin.url + "/")
    expect(page.frame_locator("#preview").locator("h1")).to_contain_text("Aelita")
    page.wait_for_load_state("load")
    blocked = page.locator("#page").element_handle().content_frame()
    assert blocked is not None
    assert blocked.url.startswith("chrome-error:")  # Chromium shows its own error page instead of the film's
    assert any("frame-ancestors" in text for text in refused), refused


PAGES = ["/", "/film/", "/film/silent-star-1960.html", "/mission/luna-2.html", "/ontology", "/dataset.html", "/dumps/", "/reconcile/about", "/film/no-such-film"]


def test_pages_break_no_rule_of_their_own_policy(page: Page) -> None:
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None)
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("load")
    assert refused == []
