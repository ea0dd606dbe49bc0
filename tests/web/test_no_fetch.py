"""Nothing filmgraph parses makes it fetch anything: JSON-LD contexts, XML entities and redirects stay unfollowed.

Everywhere RDF or results come into filmgraph from outside (data files at
load, the remote store's answers, ``filmgraph link``'s endpoint), a hostile
document points somewhere: a remote JSON-LD ``@context``, an RDF/XML or SPARQL
XML external entity, a redirect. Each points at a loopback listener that must
see no hit. Oxigraph's parsers fetch nothing (a remote context is an error);
rdflib's JSON-LD parser would fetch, so filmgraph must never hand it outside
input (SPARQLWrapper's ``convert()`` does, for a JSON-LD answer). A remote
store that answers with a redirect is not followed: a POSTed query would arrive
as a bare GET elsewhere, and a store that moved is reconfigured, not chased.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmgraph.cli import main
from filmgraph.core.errors import FilmgraphError, InvalidData, Unavailable
from filmgraph.sparql.execute import Job
from filmgraph.reconcile.linking import SparqlClient
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.store.remote import RemoteStore

from ..loopback import Answer, Loopback

SRC = Path(__file__).resolve().parents[2] / "src" / "filmgraph"


@pytest.fixture()
def listener() -> Iterator[Loopback]:
    """Where every hostile document points; it must see no request."""
    lst = Loopback(lambda hit: Answer(200, {"Content-Type": "application/ld+json"}, b'{"@context": {"name": "http://schema.org/name"}}'))
    yield lst
    lst.close()


def jsonld_with_remote_context(listener: Loopback) -> bytes:
    return json.dumps({"@context": f"{listener.url}/context.jsonld", "@id": "https://w3id.org/filmgraph/film/x", "name": "X"}).encode()


def rdfxml_with_external_entity(listener: Loopback) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY ext SYSTEM "{listener.url}/entity.txt">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:schema="https://schema.org/">
  <rdf:Description rdf:about="https://w3id.org/filmgraph/film/x"><schema:name>&ext;</schema:name></rdf:Description>
</rdf:RDF>
""".encode()


def results_xml_with_external_entity(listener: Loopback) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE sparql [<!ENTITY ext SYSTEM "{listener.url}/entity.txt">]>
<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="s"/></head>
<results><result><binding name="s"><literal>&ext;</literal></binding></result></results></sparql>
""".encode()


# -- data files at load ---------------------------------------------------------------------------


@pytest.mark.parametrize("validate", [True, False], ids=["validated", "bulk-loaded"])
def test_a_data_file_with_a_remote_jsonld_context_is_refused_without_fetching(tmp_path: Path, listener: Loopback, validate: bool) -> None:
    data = tmp_path / "remote-context.jsonld"
    data.write_bytes(jsonld_with_remote_context(listener))
    settings = Settings(data=(data,), validate=validate)
    with pytest.raises(InvalidData) as err:
        EmbeddedStore.build(settings, tmp_path / "store")
    assert str(data) in err.value.message and "context" in err.value.message.lower()
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())
    assert listener.hits == []


@pytest.mark.parametrize("validate", [True, False], ids=["validated", "bulk-loaded"])
def test_a_data_file_with_an_external_xml_entity_fetches_nothing(tmp_path: Path, listener: Loopback, validate: bool) -> None:
    data = tmp_path / "external-entity.rdf"
    data.write_bytes(rdfxml_with_external_entity(listener))
    settings = Settings(data=(data,), validate=validate)
    with pytest.raises(InvalidData) as err:
        EmbeddedStore.build(settings)
    assert str(data) in err.value.message
    assert listener.hits == []


def test_validate_command_names_the_file_with_the_remote_context(tmp_path: Path, listener: Loopback, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "remote-context.jsonld"
    data.write_bytes(jsonld_with_remote_context(listener))
    assert main(["validate", "--data", str(data)]) != 0
    assert str(data) in capsys.readouterr().err
    assert listener.hits == []


# -- the remote store's answers -------------------------------------------------------------------


def _remote(script) -> Iterator[Loopback]:  # type: ignore[no-untyped-def]
    store = Loopback(script)
    yield store
    store.close()


@pytest.mark.parametrize("media, body", [
    ("application/ld+json", jsonld_with_remote_context),
    ("application/rdf+xml", rdfxml_with_external_entity),
])
def test_a_remote_stores_graph_answer_never_makes_filmgraph_fetch(listener: Loopback, media: str, body) -> None:  # type: ignore[no-untyped-def]
    for store in _remote(lambda hit: Answer(200, {"Content-Type": media}, body(listener))):
        remote = RemoteStore(store.url + "/sparql", "https://w3id.org/filmgraph/", timeout=10)
        with pytest.raises(FilmgraphError) as err:
            remote.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        assert err.value.status == 503 and store.url in err.value.message
        with pytest.raises(FilmgraphError):
            remote.run_job(Job("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "turtle", 100, "https://w3id.org/filmgraph/"), 10)
        with pytest.raises(FilmgraphError):
            list(remote.triples())
        assert store.hits, "the fake store was asked"
    assert listener.hits == []


def test_a_remote_stores_results_with_an_external_entity_fetch_nothing(listener: Loopback) -> None:
    for store in _remote(lambda hit: Answer(200, {"Content-Type": "application/sparql-results+xml"}, results_xml_with_external_entity(listener))):
        remote = RemoteStore(store.url + "/sparql", "https://w3id.org/filmgraph/", timeout=10)
        try:
            rows = remote.select("SELECT ?s WHERE { ?s ?p ?o }")
        except FilmgraphError as err:
            assert err.status == 503
        else:
            assert all(listener.url not in str(r) for r in rows)
    assert listener.hits == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_remote_store_redirect_is_not_followed(listener: Loopback, status: int) -> None:
    for store in _remote(lambda hit: Answer(status, {"Location": f"{listener.url}/sparql"}, b"moved")):
        remote = RemoteStore(store.url + "/sparql", "https://w3id.org/filmgraph/", timeout=10)
        with pytest.raises(Unavailable) as err:
            remote.ask("ASK { ?s ?p ?o }")
        assert "redirect" in err.value.message and f"{listener.url}/sparql" in err.value.message
        with pytest.raises(Unavailable):
            remote.run_job(Job("SELECT * WHERE { ?s ?p ?o }", "json", 100, "https://w3id.org/filmgraph/"), 10)
    assert listener.hits == []


# -- filmgraph link's endpoint ----------------------------------------------------------------------


@pytest.mark.parametrize("media, body", [
    ("application/ld+json", jsonld_with_remote_context),
    ("application/rdf+xml", rdfxml_with_external_entity),
    ("application/sparql-results+xml", results_xml_with_external_entity),
])
def test_a_link_endpoints_answer_never_makes_filmgraph_fetch(listener: Loopback, media: str, body) -> None:  # type: ignore[no-untyped-def]
    for endpoint in _remote(lambda hit: Answer(200, {"Content-Type": media}, body(listener))):
        with pytest.raises(Unavailable) as err:
            SparqlClient(endpoint.url + "/sparql", timeout=10).select("SELECT ?item WHERE { ?item ?p ?o }")
        assert endpoint.url in err.value.message
    assert listener.hits == []


def test_a_link_endpoint_answering_sparql_json_still_works(listener: Loopback) -> None:
    answer = {"head": {"vars": ["item"]}, "results": {"bindings": [{"item": {"type": "uri", "value": "http://www.wikidata.org/entity/Q1"}}]}}
    for endpoint in _remote(lambda hit: Answer(200, {"Content-Type": "application/sparql-results+json"}, json.dumps(answer).encode())):
        rows = SparqlClient(endpoint.url + "/sparql", timeout=10).select("SELECT ?item WHERE { ?item ?p ?o }")
    assert rows == answer["results"]["bindings"]


def test_filmgraph_never_hands_outside_rdf_to_rdflib_or_sparqlwrappers_converters() -> None:
    # rdflib's JSON-LD parser fetches remote contexts, and SPARQLWrapper's convert() picks a parser
    # (rdflib's, for JSON-LD) by the answer's media type, which the remote chooses.
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"queryAndConvert\(|\.convert\(\)", text), f"{path}: SPARQLWrapper conversion"
        assert not re.search(r"""format\s*=\s*["'](?:json-ld|application/ld\+json|xml|application/rdf\+xml)["']""", text), f"{path}: rdflib parses JSON-LD or RDF/XML"


def test_an_allow_listed_service_that_redirects_is_not_followed(tmp_path: Path, listener: Loopback) -> None:
    from filmgraph.site.services import Services
    from filmgraph.web import create_app

    for redirector in _remote(lambda hit: Answer(302, {"Location": f"{listener.url}/sparql"}, b"")):
        service = f"{redirector.url}/sparql"
        settings = Settings(service_allow=(service,), query_timeout=10, query_workers=0)
        services = Services.build(settings, EmbeddedStore.build(settings))
        client = create_app(settings, services).test_client()
        resp = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{service}> {{ ?s ?p ?o }} }}"})
        assert resp.status_code >= 400
        assert redirector.hits, "the allow-listed service was called"
    assert listener.hits == []
