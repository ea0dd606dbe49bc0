"""The site's pages as a person sees them in Chromium: the home page, a film record, the ontology."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect

from filmgraph.core.namespaces import prefixes

RECORDS = """
SELECT ?record ?title WHERE { ?record a fg:FilmRecord ; schema:name ?title }
"""

# True when an element stands out: a background, a border or a text colour of its own.
STANDS_OUT = """
(el) => {
  const own = getComputedStyle(el);
  const parent = getComputedStyle(el.parentElement);
  const transparent = (c) => c === "transparent" || c === "rgba(0, 0, 0, 0)";
  const border = ["Top", "Right", "Bottom", "Left"].some(
    (side) => parseFloat(own["border" + side + "Width"]) > 0 && own["border" + side + "Style"] !== "none");
  return !transparent(own.backgroundColor) || border || own.color !== parent.color;
}
"""


def _records(services) -> dict[str, str]:  # type: ignore[no-untyped-def]
    known = prefixes(services.store.base_iri)
    text = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in known.items()) + RECORDS
    return {row["record"].value: row["title"].value for row in services.store.select(text)}


def _local_only(page_requests: list[str], live_server) -> list[str]:  # type: ignore[no-untyped-def]
    ours = urlsplit(live_server.url).netloc
    return [url for url in page_requests if urlsplit(url).scheme not in ("data", "about") and urlsplit(url).netloc != ours]


def _stands_out(locator: Locator) -> bool:
    return bool(locator.evaluate(STANDS_OUT))


def test_home_page_shows_the_timeline_picture(page: Page) -> None:
    page.goto("/")
    timeline = page.locator("main svg").first
    expect(timeline).to_be_visible()
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50


def test_home_page_lists_the_ten_films_with_links_to_their_pages(page: Page, services) -> None:  # type: ignore[no-untyped-def]
    records = _records(services)
    assert len(records) == 10
    page.goto("/")
    base = services.store.base_iri
    for iri, title in records.items():
        local = "/" + iri.removeprefix(base)
        link = page.locator(f"main a[href^='{local}']", has_text=title).first
        expect(link).to_be_visible()


def test_home_page_requests_nothing_from_other_hosts(page: Page, page_requests: list[str], live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert _local_only(page_requests, live_server) == []


def test_film_page_marks_a_contradicted_claim_visibly(page: Page) -> None:
    page.goto("/film/dream-come-true-1960.html")
    expect(page.locator("h1")).to_contain_text("A Dream Come True")
    # the list says it came out "months after Gagarin's historic flight" (1961)
    claim = page.locator("article.claim.contradicted", has_text="Gagarin").first
    expect(claim).to_be_visible()
    badge = claim.locator(".badge.assessment")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("Contradicted")
    assert _stands_out(badge), "the 'Contradicted' badge looks like plain text"
    # the dates that contradict it are shown: Vostok 1 flew in 1961, after the listed 1960
    expect(claim.locator(".contradicting-dates")).to_contain_text("1961")


def test_film_page_requests_nothing_from_other_hosts(page: Page, page_requests: list[str], live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto("/film/dream-come-true-1960.html")
    page.wait_for_load_state("networkidle")
    assert _local_only(page_requests, live_server) == []


def test_ontology_page_shows_its_term_sections(page: Page) -> None:
    page.goto("/ontology")
    terms = page.locator("section.term")
    expect(terms.first).to_be_visible()
    assert terms.count() >= 20
    film = page.locator("section.term#Film")
    expect(film).to_be_visible()
    expect(film.locator("h3")).to_contain_text("fg:Film")


def test_ontology_term_iri_lands_on_its_section(page: Page) -> None:
    page.goto("/ontology#Claim")
    expect(page.locator("section.term#Claim")).to_be_in_viewport()
