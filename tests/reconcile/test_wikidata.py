"""The Wikidata side of linking: the page for Wikidata editors, and reviewed links as QuickStatements."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from filmgraph.cli import main
from filmgraph.core.errors import BadRequest
from filmgraph.reconcile.wikidata import FILM_ID, accepted_edits, csv_text, v1
from filmgraph.site.services import Services

from ..oxigraph_server import OxigraphServer
from .test_linking import wikidata  # noqa: F401  (the loopback fixture endpoint of test_linking)

BASE = "https://w3id.org/filmgraph/"
PROPERTY = "P900100"
"""A property id for the fixture endpoint's world only (the real property does not exist yet)."""


# -- the page ----------------------------------------------------------------------------------------


def _json(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.get("/wikidata", headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()  # type: ignore[no-any-return]


def test_the_page_for_wikidata_editors_is_linked_from_home_and_the_reconciliation_page(client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/wikidata"' in client.get("/", headers={"Accept": "text/html"}).data.decode()
    assert 'href="/wikidata"' in client.get("/reconcile/about").data.decode()
    page = client.get("/wikidata", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Vary"] == "Accept"


def test_the_page_shows_the_values_it_computes(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/wikidata", headers={"Accept": "text/html"}).data.decode()
    data = _json(client)
    assert data["formatter_url"] == {"property": "P1630", "value": BASE + "film/$1"}
    for value in (data["formatter_url"]["value"], data["format_regex"]["value"], data["reconciliation_endpoint"], data["mixnmatch_catalog"], data["license"]):
        assert value.replace("&", "&amp;") in html
    for pattern in data["url_match_patterns"]:
        assert pattern["property"] == "P8966" and pattern["value"] in html


def test_the_formatter_url_and_the_url_pattern_meet_again_on_every_film(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    data = _json(client)
    ids = [row["film"].value[len(BASE + "film/"):] for row in services.query.select("wikidata-films")]  # type: ignore[union-attr]
    rows = services.store.select(f"SELECT ?f WHERE {{ ?f a <{BASE}ontology#FilmRecord> }}")
    ids += [row["f"].value[len(BASE + "film/"):] for row in rows]  # type: ignore[union-attr]
    assert ids
    patterns = [re.compile(p["value"]) for p in data["url_match_patterns"]]
    for id in ids:
        assert re.fullmatch(data["format_regex"]["value"], id), id
        url = data["formatter_url"]["value"].replace("$1", id)
        for address in (url, url + ".ttl", url.replace("https://", "http://") + ".jsonld"):
            found = patterns[0].match(address)
            assert found and found.expand(data["url_match_patterns"][0]["replacement"]) == id, address
        assert client.get(f"/film/{id}").status_code == 303  # the local address the formatter names answers
    assert not patterns[0].match(BASE + "film/nebo-zovyot.pdf") and not patterns[0].match(BASE + "mission/luna-2")


def test_examples_carry_only_the_items_the_data_links(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    linked = {row["film"].value: row["item"].value for row in services.query.select("wikidata-linked-films")}  # type: ignore[union-attr]
    examples = _json(client)["examples"]
    assert examples
    for e in examples:
        assert re.fullmatch(FILM_ID, e["value"]) and e["url"] == BASE + "film/" + e["value"]
        expected = linked.get(e["url"])
        assert e["item"] == (expected.rsplit("/", 1)[1] if expected else None)


# -- QuickStatements ---------------------------------------------------------------------------------


@pytest.fixture()
def reviewed(wikidata: OxigraphServer, tmp_path: Path) -> Path:  # noqa: F811
    """A review from the loopback endpoint, reviewed by a person: two films and a mission accepted, one rejected."""
    path = tmp_path / "review.json"
    assert main(["link", "--endpoint", wikidata.query_url, "--output", str(path)]) == 0
    review = json.loads(path.read_text(encoding="utf-8"))
    assert review["property"] is None
    review["property"] = PROPERTY
    for res in review["resources"]:
        for cand in res["candidates"]:
            if (res["id"], cand["qid"]) in {("film/planeta-bur", "Q900002"), ("film/nebo-zovyot", "Q900001"), ("mission/luna-2", "Q900005")}:
                cand["accept"] = True
            elif (res["id"], cand["qid"]) == ("film/aelita", "Q900004"):
                cand["accept"] = False
                cand["note"] = "rejected: another film"
    path.write_text(json.dumps(review), encoding="utf-8")
    return path


def test_quickstatements_hold_the_accepted_films_only(reviewed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link", "--quickstatements", str(reviewed), "--output", str(tmp_path / "edits")]) == 0
    text = (tmp_path / "edits.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    day = r"\+\d{4}-\d\d-\d\dT00:00:00Z/11"
    assert len(lines) == 2
    assert re.fullmatch(rf'Q900001\t{PROPERTY}\t"nebo-zovyot"\tS854\t"{BASE}film/nebo-zovyot"\tS813\t{day}', lines[0])
    assert re.fullmatch(rf'Q900002\t{PROPERTY}\t"planeta-bur"\tS854\t"{BASE}film/planeta-bur"\tS813\t{day}', lines[1])
    for absent in ("Q900004", "Q900005", "Q900006", "Q900007", "Q900008", "Q900009"):  # rejected, a mission, unreviewed
        assert absent not in text
    rows = list(csv.reader(io.StringIO((tmp_path / "edits.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["qid", PROPERTY, "S854", "S813"]
    assert [r[:3] for r in rows[1:]] == [["Q900001", '"nebo-zovyot"', f'"{BASE}film/nebo-zovyot"'], ["Q900002", '"planeta-bur"', f'"{BASE}film/planeta-bur"']]
    assert all(re.fullmatch(day, r[3]) for r in rows[1:])
    assert "mission/luna-2 -> Q900005" in capsys.readouterr().err  # said, not written


def test_quickstatements_need_the_property_id(reviewed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    review = json.loads(reviewed.read_text(encoding="utf-8"))
    review["property"] = None
    reviewed.write_text(json.dumps(review), encoding="utf-8")
    assert main(["link", "--quickstatements", str(reviewed), "--output", str(tmp_path / "edits")]) == 2
    assert "proposed, not yet created" in capsys.readouterr().err
    assert not (tmp_path / "edits.txt").exists()


def test_an_unreviewed_review_gives_no_statement() -> None:
    review = {"format": "filmgraph-link-review/1", "property": None, "resources": [
        {"id": "film/nebo-zovyot", "iri": BASE + "film/nebo-zovyot", "type": "real-film", "candidates": [{"qid": "Q900001", "accept": False}]},
    ]}
    edits = accepted_edits(review, BASE, date(2026, 1, 2))
    assert edits == [] and v1(edits) == "" and csv_text(edits).splitlines() == ["qid,P,S854,S813"]


def test_a_record_or_a_bad_item_id_is_refused() -> None:
    def review(res_type: str, qid: str) -> dict[str, Any]:
        return {"format": "filmgraph-link-review/1", "property": PROPERTY, "resources": [
            {"id": "film/sky-beckons-1959", "iri": BASE + "film/sky-beckons-1959", "type": res_type, "candidates": [{"qid": qid, "accept": True}]},
        ]}

    with pytest.raises(BadRequest, match="not a real film"):
        accepted_edits(review("film-record", "Q900001"), BASE, date(2026, 1, 2))
    with pytest.raises(BadRequest, match="not a Wikidata item id"):
        accepted_edits(review("real-film", "Q0x"), BASE, date(2026, 1, 2))


def test_a_v1_line_is_the_statement_and_its_reference() -> None:
    review = {"format": "filmgraph-link-review/1", "property": PROPERTY, "resources": [
        {"id": "film/nebo-zovyot", "iri": BASE + "film/nebo-zovyot", "type": "real-film", "candidates": [{"qid": "Q900001", "accept": True}]},
    ]}
    (edit,) = accepted_edits(review, BASE, date(2026, 1, 2))
    assert v1([edit]) == f'Q900001\t{PROPERTY}\t"nebo-zovyot"\tS854\t"{BASE}film/nebo-zovyot"\tS813\t+2026-01-02T00:00:00Z/11\n'


def test_the_values_follow_the_base_iri_and_public_url_settings(settings) -> None:  # type: ignore[no-untyped-def]
    from filmgraph.store.embedded import EmbeddedStore
    from filmgraph.web import create_app

    base = "http://films.example.org/id/"
    s = settings.replace(base_iri=base, public_url="https://films.example.org/site", validate=False, query_workers=0)
    svc = Services.build(s, EmbeddedStore.build(s))
    try:
        client = create_app(s, svc).test_client()
        data = _json(client)
        assert data["formatter_url"]["value"] == base + "film/$1"
        assert [p["value"] for p in data["url_match_patterns"]] == [
            r"^https?://films\.example\.org/id/film/([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?:html|ttl|jsonld|nt))?$",
            r"^https?://films\.example\.org/site/film/([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?:html|ttl|jsonld|nt))?$",
        ]
        assert data["reconciliation_endpoint"] == "https://films.example.org/site/reconcile"
        assert data["mixnmatch_catalog"] == "https://films.example.org/site/dumps/filmgraph-mixnmatch.tsv"
        assert all(e["url"].startswith(base + "film/") for e in data["examples"])
        assert client.get("/context.jsonld").get_json()["@context"]["fg"] == base + "ontology#"
        assert client.get("/film/sky-beckons-1959.jsonld").get_json()["claims"][0]["assessment"] in {"Supported", "Contradicted", "Unverified"}
    finally:
        svc.close()
