"""The schema.org data embedded in pages, read as a structured-data extractor reads it.

The ``<script type="application/ld+json">`` blocks are expanded with pyld. The
schema.org context is never fetched: the loader serves a stand-in that maps
every term into the schema.org vocabulary (what the real context does for the
terms used here), and refuses any other URL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyld import jsonld as pyld

from filmgraph.site.services import Services

from ..htmltree import parse

S = "https://schema.org/"
BASE = "https://w3id.org/filmgraph/"


def _loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise AssertionError(f"the extractor was asked to fetch {url}")
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": S}}}


def extract(client, path: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every node of the page's embedded JSON-LD, flattened (one object per node, links by @id)."""
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 200
    scripts = [e for e in parse(resp.get_data(as_text=True)).iter() if e.tag == "script" and e.attrs.get("type") == "application/ld+json"]
    assert scripts, path
    nodes: list[dict[str, Any]] = []
    for script in scripts:
        flat = pyld.flatten(json.loads(script.text()), None, {"documentLoader": _loader})
        nodes += flat if isinstance(flat, list) else flat.get("@graph", [])
    return nodes


def _by_id(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["@id"]: n for n in nodes}


def _one(node: dict[str, Any], prop: str) -> Any:
    values = node.get(S + prop, [])
    assert len(values) == 1, (prop, values)
    return values[0].get("@value", values[0].get("@id"))


def _assessment(services: Services, claim: str) -> str:
    rows = services.store.select(f"SELECT ?a WHERE {{ <{claim}> <{BASE}ontology#assessment> ?a }}")
    return rows[0]["a"].value.rsplit("#", 1)[1]  # type: ignore[union-attr]


def _check_review(nodes: dict[str, dict[str, Any]], review: dict[str, Any], assessment: str) -> None:
    author = nodes[_one(review, "author")]
    assert S + "Organization" in author["@type"] and _one(author, "name")
    rating = nodes[_one(review, "reviewRating")]
    assert _one(rating, "alternateName") == assessment
    worst, best, value = (int(_one(rating, p)) for p in ("worstRating", "bestRating", "ratingValue"))
    assert worst <= value <= best and worst < best
    item = nodes[_one(review, "itemReviewed")]
    assert S + "Claim" in item["@type"]
    appearance = nodes[_one(item, "appearance")]
    assert appearance["@id"] == BASE + "work/curated-list" and S + "CreativeWork" in appearance["@type"]
    assert _one(review, "claimReviewed") and _one(review, "url")


@pytest.mark.parametrize("claim", ["dream-come-true-1960-months-after-gagarin", "sky-beckons-1959-year", "sky-beckons-1959-zero-gravity"])
def test_a_claim_page_has_a_claim_review_that_fact_check_consumers_accept(client, services: Services, claim: str) -> None:  # type: ignore[no-untyped-def]
    nodes = _by_id(extract(client, f"/claim/{claim}.html"))
    review = nodes[BASE + "claim/" + claim]
    assert S + "ClaimReview" in review["@type"]
    _check_review(nodes, review, _assessment(services, BASE + "claim/" + claim))


def test_a_contradicted_claim_rates_worst_and_a_supported_one_best(client) -> None:  # type: ignore[no-untyped-def]
    def rating(claim: str) -> tuple[int, int, int]:
        nodes = _by_id(extract(client, f"/claim/{claim}.html"))
        r = nodes[_one(nodes[BASE + "claim/" + claim], "reviewRating")]
        return int(_one(r, "ratingValue")), int(_one(r, "worstRating")), int(_one(r, "bestRating"))

    value, worst, _ = rating("dream-come-true-1960-months-after-gagarin")
    assert value == worst
    value, _, best = rating("sky-beckons-1959-year")
    assert value == best


def test_a_record_page_reviews_every_claim_about_it(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    record = BASE + "film/sky-beckons-1959"
    rows = services.store.select(f"SELECT ?c WHERE {{ ?c <{BASE}ontology#about> <{record}> }}")
    claims = {r["c"].value for r in rows}  # type: ignore[union-attr]
    nodes = _by_id(extract(client, "/film/sky-beckons-1959.html"))
    assert S + "CreativeWork" in nodes[record]["@type"]
    reviews = {i for i, n in nodes.items() if S + "ClaimReview" in n.get("@type", [])}
    assert reviews == claims
    for claim in claims:
        _check_review(nodes, nodes[claim], _assessment(services, claim))


def test_a_mission_is_an_event_in_the_page_the_json_ld_and_sparql(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    nodes = _by_id(extract(client, "/mission/vostok-1.html"))
    assert S + "Event" in nodes[BASE + "mission/vostok-1"]["@type"]
    assert "Event" in client.get("/mission/vostok-1.jsonld").get_json()["type"]
    missions = services.store.select(f"SELECT ?m WHERE {{ ?m a <{BASE}ontology#SpaceMission> }}")
    events = services.store.select(f"SELECT ?m WHERE {{ ?m a <{S}Event> }}")
    assert missions and {r["m"] for r in missions} <= {r["m"] for r in events}


def test_imdb_ids_are_mapped_to_the_wikidata_property_they_mirror(services: Services) -> None:
    rows = services.store.select(
        f"SELECT ?p WHERE {{ <{BASE}ontology#imdbId> <http://www.w3.org/2002/07/owl#equivalentProperty> ?p }}"
    )
    assert [r["p"].value for r in rows] == ["http://www.wikidata.org/prop/direct/P345"]  # type: ignore[union-attr]
