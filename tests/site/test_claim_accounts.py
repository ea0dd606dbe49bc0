"""Claims that account for themselves: a cut-off source says so, no evidence says why, weak evidence is marked,
foresight is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filmgraph.site.claimview import home_page
from filmgraph.core.namespaces import prefixes
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings, _default_data
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..htmltree import Element, parse

BASE = "https://w3id.org/filmgraph/"
FG = prefixes(BASE)["fg"]
HERE = Path(__file__).parents[1]


def html_of(client, path: str) -> Element:  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 200, path
    return parse(resp.get_data(as_text=True))


def test_home_pages_are_told_from_pages_about_something() -> None:
    assert home_page("https://dhm.de/") and home_page("https://seti.org") and home_page("http://space-fest.ru/")
    assert not home_page("https://dovzhenkocentre.org/eng/news/263")
    assert not home_page("https://en.wikipedia.org/wiki/Luna_1")


def test_every_shipped_claim_has_evidence_or_says_why_none(services: Services) -> None:
    rows = services.store.select(
        f"PREFIX fg: <{FG}>\nSELECT ?c WHERE {{ ?c a fg:Claim . "
        "FILTER NOT EXISTS { ?c fg:evidence [] } FILTER NOT EXISTS { ?c fg:noEvidenceNote [] } }"
    )
    assert rows == []


def test_a_truncated_source_text_says_so(client) -> None:  # type: ignore[no-untyped-def]
    claim = html_of(client, "/claim/sky-beckons-1959-same-year-as-luna.html").find(id="claim-sky-beckons-1959-same-year-as-luna")
    assert "truncated" in {c for b in claim.find_all(cls="badge") for c in b.classes}
    assert "cut off" in claim.find(cls="truncated-note").text()
    assert "cut off" in claim.find(cls="assessment-note").text() and "Luna 1" in claim.find(cls="assessment-note").text()


def test_a_claim_without_evidence_says_why(client) -> None:  # type: ignore[no-untyped-def]
    claim = html_of(client, "/claim/first-flight-1961-challenges.html").find(id="claim-first-flight-1961-challenges")
    assert "No film matching this entry was found" in claim.find(cls="no-evidence").text()


def test_a_claim_whose_only_source_is_a_home_page_is_marked_weak(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/space-adventure-1967.html")
    weak = page.find(id="claim-space-adventure-1967-station-rescue")  # only https://wikizero.org/
    assert "weak" in {c for b in weak.find_all(cls="badge") for c in b.classes}
    assert "home page" in weak.find(cls="weak-evidence").text()
    specific = page.find(id="claim-space-adventure-1967-soviet-space-agency")  # a home page and specific pages
    assert not specific.find_all(cls="weak-evidence")


def test_a_named_event_is_shown_with_the_relation(client) -> None:  # type: ignore[no-untyped-def]
    claim = html_of(client, "/claim/star-1962-inspired-by-salyut.html").find(id="claim-star-1962-inspired-by-salyut")
    assert "(its planning)" in claim.find(cls="relation").text()


@pytest.fixture(scope="module")
def foresight_client() -> Iterator[object]:
    """The site over the shipped data plus one claim that anticipates a later event."""
    settings = Settings(data=(*_default_data(), HERE / "data" / "claims" / "foresight.ttl"),
                        query_timeout=3.0, max_rows=1000, query_workers=1, result_cache_mb=0)
    services = Services.build(settings, EmbeddedStore.temporary_copy(settings))
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield app.test_client()
    services.close()


def test_anticipating_a_later_event_is_shown_as_foresight_not_an_error(foresight_client) -> None:  # type: ignore[no-untyped-def]
    claim = html_of(foresight_client, "/claim/star-1962-anticipates-a-station.html").find(id="claim-star-1962-anticipates-a-station")
    assert "foresight" in {c for b in claim.find_all(cls="badge") for c in b.classes}
    assert "impossible" not in claim.classes
    text = claim.find(cls="foresight-note").text()
    assert "(1962)" in text and "9 years before it happened (1971-04-19)" in text


def test_a_list_of_todays_shape_with_a_claim_without_evidence_still_loads(tmp_path: Path) -> None:
    """No evidence and no note is a warning of the shapes, not a refusal: lists written before the note still load."""
    from filmgraph.core.settings import DEFAULT_BASE
    from filmgraph.store.loader import read_all, validate

    example = (HERE.parent / "docs" / "examples" / "space-films.ttl").read_text(encoding="utf-8")
    assert example.count("fg:noEvidenceNote") == 1
    older = tmp_path / "older.ttl"
    older.write_text("\n".join(line for line in example.splitlines() if "fg:noEvidenceNote" not in line), encoding="utf-8")
    validate(read_all([older], DEFAULT_BASE), HERE.parent / "ontology" / "shapes.ttl")
