"""The query UI at /sparql, as a person uses it in Chromium: YASGUI, the examples, the plain form."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect

from filmgraph.site.examples import list_examples
from filmgraph.core.namespaces import prefixes

RECORD_TITLES = """
SELECT ?title WHERE { ?record a fg:FilmRecord ; schema:name ?title }
"""


def _sparql(services, text: str) -> str:  # type: ignore[no-untyped-def]
    known = prefixes(services.store.base_iri)
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in known.items()) + text


def _open_ui(page: Page) -> None:
    page.goto("/sparql")
    expect(page.locator("#query-ui")).to_have_attribute("data-state", "ready")


def _results(page: Page) -> Locator:
    """The results area of the active tab (every tab has its own)."""
    return page.locator(".yasr_results").filter(visible=True)


def _run_active_tab(page: Page) -> None:
    page.locator(".yasqe_queryButton").filter(visible=True).click()
    expect(_results(page).locator("table tbody tr").first).to_be_visible()


def _result_column(page: Page, header: str) -> list[str]:
    table = _results(page).locator("table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(header) + 1
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_query_ui_opens_with_a_tab_per_example_query_first_one_active(page: Page) -> None:
    _open_ui(page)
    labels = [ex.label for ex in list_examples()]
    expect(page.locator(".tabsList [role=tab] > span")).to_have_text(labels)
    expect(page.locator(".tabsList [role=tab][aria-selected=true] > span")).to_have_text(labels[0])
    editor = page.locator(".yasqe .CodeMirror").filter(visible=True)
    expect(editor).to_contain_text("fg:FilmRecord")
    # YASGUI replaced the plain form on screen
    expect(page.locator("#plain-query")).to_be_hidden()


def test_running_the_first_example_shows_the_ten_films_of_the_list(page: Page, services) -> None:  # type: ignore[no-untyped-def]
    expected = sorted(str(row["title"].value) for row in services.store.select(_sparql(services, RECORD_TITLES)))
    assert len(expected) == 10
    _open_ui(page)
    _run_active_tab(page)
    results = _results(page)
    expect(results).to_contain_text("The Silent Star")
    expect(results).to_contain_text("The Space Adventure")
    titles = _result_column(page, "title")
    assert sorted(t.removesuffix("@en").strip('"') for t in titles) == expected
    # the records link to this site's own pages, not to the canonical base IRI
    first = _results(page).locator("a.iri[href^='/film/']").first
    expect(first).to_be_visible()


def test_query_ui_requests_nothing_from_other_hosts(page: Page, page_requests: list[str], live_server) -> None:  # type: ignore[no-untyped-def]
    _open_ui(page)
    _run_active_tab(page)
    ours = urlsplit(live_server.url).netloc
    assert page_requests, "the page made no request at all"
    foreign = [url for url in page_requests if urlsplit(url).scheme != "data" and urlsplit(url).netloc != ours]
    assert foreign == []
    # the query itself went to this server's endpoint
    assert any(urlsplit(url).path == "/sparql" for url in page_requests[1:])


def test_query_ui_shows_the_claims_found_impossible(page: Page) -> None:
    _open_ui(page)
    label = list_examples()[1].label
    page.locator(".tabsList [role=tab]", has_text=label).click()
    _run_active_tab(page)
    results = _results(page)
    expect(results).to_contain_text("A Dream Come True")
    expect(results).to_contain_text("fg:Contradicted")


def test_query_ui_has_no_script_errors(page: Page, page_errors: list[str]) -> None:
    _open_ui(page)
    _run_active_tab(page)
    assert page_errors == []


def test_plain_form_runs_a_query_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    page.goto("/sparql")
    expect(page.locator("#plain-query form")).to_be_visible()
    expect(page.locator("#plain-query textarea")).to_contain_text("fg:FilmRecord")
    page.select_option("#format", "json")
    with page.expect_response(lambda r: urlsplit(r.url).path == "/sparql" and "query=" in r.url) as answer:
        page.locator("#plain-query button[type=submit]").click()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    titles = {b["title"]["value"] for b in response.json()["results"]["bindings"]}
    assert {"The Silent Star", "The Space Adventure"} <= titles


def test_examples_button_brings_back_a_closed_example_tab(page: Page) -> None:
    _open_ui(page)
    first = list_examples()[0].label
    tab = page.locator(".tabsList [role=tab]", has_text=first)
    tab.locator(".closeTab").click()
    expect(tab).to_have_count(0)
    page.locator("#query-ui-examples").click()
    expect(page.locator(".tabsList [role=tab][aria-selected=true] > span")).to_have_text(first)


# What a site would send once it locks scripts down: only its own files run,
# only its own server is contacted. YASGUI must work under it.
STRICT_CSP = (
    "script-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)


def test_query_ui_works_under_a_strict_content_security_policy(page: Page) -> None:
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)

    def with_csp(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route(lambda url: urlsplit(url).path == "/sparql", with_csp)
    _open_ui(page)
    _run_active_tab(page)
    expect(_results(page)).to_contain_text("The Silent Star")
    assert refused == []
    # and the policy was in force: an inline script does not run
    blocked = page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true';"
        " document.head.appendChild(s); return window.inlineRan !== true; }"
    )
    assert blocked
