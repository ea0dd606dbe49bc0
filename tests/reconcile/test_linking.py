"""Link discovery against a real SPARQL server on loopback: the right candidates, and nothing written without review."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic

from filmgraph import formats as F
from filmgraph.cli import main
from filmgraph.core.errors import BadRequest, Unavailable
from filmgraph.reconcile.index import read_entries
from filmgraph.reconcile.linking import REVIEW_FORMAT, SparqlClient, accept, discover
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore

from ..oxigraph_server import OxigraphServer, oxigraph_command

FIXTURE = Path(__file__).parents[1] / "data" / "wikidata-fixture.ttl"


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """An Oxigraph server on loopback holding the Wikidata-shaped fixture (read-only); stopped at the end."""
    command = oxigraph_command()
    if command is None:
        pytest.skip("the oxigraph command is not installed (the test extra installs it)")
    location = tmp_path_factory.mktemp("wikidata-fixture")
    subprocess.run([command, "load", "--location", str(location), "--file", str(FIXTURE)], check=True, capture_output=True, timeout=120)
    server = OxigraphServer(location, read_only=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def review(wikidata: OxigraphServer, services: Services) -> dict[str, Any]:
    """The review of the shipped dataset against the fixture endpoint."""
    return discover(read_entries(services.store), SparqlClient(wikidata.query_url))


def _resource(review: dict[str, Any], id: str) -> dict[str, Any]:
    return next(r for r in review["resources"] if r["id"] == id)


def _candidates(review: dict[str, Any], id: str) -> dict[str, list[str]]:
    return {c["qid"]: c["methods"] for c in _resource(review, id)["candidates"]}


@pytest.mark.parametrize("id, expected", [
    ("film/nebo-zovyot", {"Q900001": ["label", "wikipedia"]}),
    ("film/planeta-bur", {"Q900002": ["imdb", "label", "wikipedia"]}),
    ("film/mechte-navstrechu", {"Q900008": ["imdb"]}),
    ("film/aelita", {"Q900004": ["label"]}),
    ("mission/luna-2", {"Q900005": ["label", "wikipedia"], "Q900009": ["label"]}),
    ("person/stanislaw-lem", {"Q900006": ["label", "wikipedia"]}),
    ("work/the-war-of-the-worlds", {"Q900007": ["label", "wikipedia"]}),
    ("film/tumannost-andromedy", {}),
    ("mission/vostok-1", {}),
])
def test_discovery_proposes_the_right_candidates(review: dict[str, Any], id: str, expected: dict[str, list[str]]) -> None:
    assert _candidates(review, id) == expected


def test_a_namesake_of_another_year_is_not_proposed(review: dict[str, Any]) -> None:
    assert "Q900003" not in _candidates(review, "film/aelita")  # an "Aelita" of 1980


def test_candidates_found_by_more_methods_come_first(review: dict[str, Any]) -> None:
    assert [c["qid"] for c in _resource(review, "mission/luna-2")["candidates"]] == ["Q900005", "Q900009"]


def test_every_candidate_carries_its_evidence(review: dict[str, Any]) -> None:
    cand = _resource(review, "film/planeta-bur")["candidates"][0]
    assert cand["item"] == "http://www.wikidata.org/entity/Q900002" and cand["label"] == "Planeta Bur"
    evidence = {(e["method"], json.dumps(e["values"], sort_keys=True, ensure_ascii=False)) for e in cand["evidence"]}
    assert ("imdb", json.dumps({"imdb": "tt0056352"})) in evidence
    assert ("wikipedia", json.dumps({"article": "https://en.wikipedia.org/wiki/Planeta_Bur", "title": "Planeta Bur"}, sort_keys=True)) in evidence
    labels = [e["values"] for e in cand["evidence"] if e["method"] == "label"]
    assert {"label": "Планета бурь", "lang": "ru", "year": 1962, "item_years": [1962], "year_agrees": True} in labels
    assert cand["dates"] == ["1962-04-14T00:00:00Z"] and cand["instance_of"] == ["Q900090"]


def test_nothing_is_accepted_and_no_record_is_proposed(review: dict[str, Any]) -> None:
    assert review["format"] == REVIEW_FORMAT
    assert all(c["accept"] is False for r in review["resources"] for c in r["candidates"])
    assert not any(r["id"] in {"film/sky-beckons-1959", "film/silent-star-1960"} for r in review["resources"])
    assert {r["type"] for r in review["resources"]} == {"real-film", "mission", "person", "work"}


def test_existing_verified_links_are_listed(review: dict[str, Any]) -> None:
    assert _resource(review, "mission/vostok-1")["linked"] == ["Q182524"]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_the_link_command_writes_a_review_and_nothing_into_the_data(wikidata: OxigraphServer, tmp_path: Path, services: Services) -> None:
    data = Settings().data[0].parent
    before, triples = _digest(data), len(services.store)
    out = tmp_path / "review.json"
    assert main(["link", "--endpoint", wikidata.query_url, "--output", str(out)]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    assert _candidates(written, "film/planeta-bur") == {"Q900002": ["imdb", "label", "wikipedia"]}
    assert _digest(data) == before and len(services.store) == triples
    assert not any("Q9000" in p.read_text(encoding="utf-8") for p in data.glob("*.ttl"))


def test_the_link_command_refuses_to_write_into_the_data_folder(wikidata: OxigraphServer) -> None:
    target = Settings().data[0].parent / "review.json"
    assert main(["link", "--endpoint", wikidata.query_url, "--output", str(target)]) == 2
    assert not target.exists()


def _accepting(review: dict[str, Any], picks: dict[str, str]) -> dict[str, Any]:
    chosen = copy.deepcopy(review)
    for r in chosen["resources"]:
        for c in r["candidates"]:
            c["accept"] = picks.get(r["id"]) == c["qid"]
    return chosen


def test_accepted_candidates_become_links_with_provenance(review: dict[str, Any], services: Services) -> None:
    from datetime import datetime, timezone

    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    chosen = _accepting(review, {"film/planeta-bur": "Q900002"})
    chosen["created"] = "2025-01-01T00:00:00+00:00"
    triples = accept(chosen, read_entries(services.store), services.store.base_iri, now=when)
    got = rdflib.Graph().parse(data=F.serialize_graph(triples, F.TURTLE, services.store.base_iri).decode(), format="turtle")
    expected = rdflib.Graph().parse(format="turtle", data=f"""
        @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix schema: <https://schema.org/> .
        @prefix prov: <http://www.w3.org/ns/prov#> . @prefix dcterms: <http://purl.org/dc/terms/> .
        @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix wd: <http://www.wikidata.org/entity/> .
        <https://w3id.org/filmgraph/film/planeta-bur> owl:sameAs wd:Q900002 ; schema:sameAs wd:Q900002 .
        <https://w3id.org/filmgraph/film/planeta-bur#wikidata-Q900002> a rdf:Statement , prov:Entity ;
            rdf:subject <https://w3id.org/filmgraph/film/planeta-bur> ; rdf:predicate owl:sameAs ; rdf:object wd:Q900002 ;
            prov:wasDerivedFrom <https://w3id.org/filmgraph/dataset#link-review-20250101000000> ;
            prov:generatedAtTime "2025-01-02T03:04:05+00:00"^^xsd:dateTime ;
            dcterms:description "Proposed by filmgraph link (methods: imdb, label, wikipedia) and accepted by a person in review."@en .
        <https://w3id.org/filmgraph/dataset#link-review-20250101000000> a prov:Entity ;
            rdfs:label "Link review of 2025-01-01T00:00:00+00:00, candidates from {review['endpoint']}"@en ;
            dcterms:created "2025-01-01T00:00:00+00:00"^^xsd:dateTime ;
            dcterms:source <{review['endpoint']}> .
    """)
    assert isomorphic(got, expected)


def test_an_unreviewed_file_gives_no_links(review: dict[str, Any], services: Services) -> None:
    assert accept(review, read_entries(services.store), services.store.base_iri) == []


def test_accepted_links_added_to_the_data_conform_to_the_shapes(review: dict[str, Any], tmp_path: Path, services: Services, settings: Settings) -> None:
    chosen = _accepting(review, {"film/planeta-bur": "Q900002", "mission/luna-2": "Q900005", "person/stanislaw-lem": "Q900006"})
    links = tmp_path / "links.ttl"
    links.write_bytes(F.serialize_graph(accept(chosen, read_entries(services.store), services.store.base_iri), F.TURTLE, services.store.base_iri))
    store = EmbeddedStore.build(settings.replace(data=(*settings.data, links), validate=True))
    assert store.ask("ASK { ?film ?same ?item }", {"film": _iri("film/planeta-bur"), "same": _iri_abs("http://www.w3.org/2002/07/owl#sameAs"), "item": _iri_abs("http://www.wikidata.org/entity/Q900002")})


def _iri(local: str):  # type: ignore[no-untyped-def]
    from pyoxigraph import NamedNode

    return NamedNode("https://w3id.org/filmgraph/" + local)


def _iri_abs(iri: str):  # type: ignore[no-untyped-def]
    from pyoxigraph import NamedNode

    return NamedNode(iri)


def test_a_record_is_never_given_an_identity_link(review: dict[str, Any], services: Services) -> None:
    tampered = copy.deepcopy(review)
    tampered["resources"].append({"id": "film/sky-beckons-1959", "candidates": [{"qid": "Q900001", "accept": True}]})
    with pytest.raises(BadRequest, match="record of the list"):
        accept(tampered, read_entries(services.store), services.store.base_iri)


def test_the_accept_command_writes_turtle_outside_the_data(review: dict[str, Any], tmp_path: Path) -> None:
    reviewed = tmp_path / "reviewed.json"
    reviewed.write_text(json.dumps(_accepting(review, {"film/nebo-zovyot": "Q900001"})), encoding="utf-8")
    out = tmp_path / "links.ttl"
    assert main(["link", "--accept", str(reviewed), "--output", str(out)]) == 0
    graph = rdflib.Graph().parse(out, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/filmgraph/film/nebo-zovyot"), rdflib.OWL.sameAs, rdflib.URIRef("http://www.wikidata.org/entity/Q900001")) in graph
    assert main(["link", "--accept", str(reviewed), "--output", str(Settings().data[0].parent / "links.ttl")]) == 2


def test_an_endpoint_that_does_not_answer_is_reported(services: Services) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port}"):
        discover(read_entries(services.store), SparqlClient(f"http://127.0.0.1:{port}/query", timeout=5))
