"""/sparql over a real socket: results formats, errors, limits, CORS, service description."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import rdflib
import rdflib.compare
import requests

FILMS = "SELECT ?f ?t WHERE { ?f a <https://w3id.org/filmgraph/ontology#FilmRecord> ; <https://schema.org/name> ?t } ORDER BY ?t"


def get(server, **params):  # type: ignore[no-untyped-def]
    headers = params.pop("headers", {})
    return requests.get(server.url + "/sparql", params=params, headers=headers, timeout=30)


def test_select_defaults_to_sparql_json(live_server) -> None:
    r = get(live_server, query=FILMS)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")
    assert "Accept" in r.headers["Vary"]
    rows = r.json()["results"]["bindings"]
    assert len(rows) == 10
    assert {row["t"]["value"] for row in rows} >= {"The Silent Star", "The Space Adventure"}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/sparql-results+json", "application/sparql-results+json"),
    ],
)
def test_select_in_every_result_format_has_the_same_rows(live_server, accept: str, media_type: str) -> None:
    r = get(live_server, query=FILMS, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == media_type
    if media_type.endswith("json"):
        titles = [b["t"]["value"] for b in r.json()["results"]["bindings"]]
    elif media_type.endswith("xml"):
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        root = ET.fromstring(r.content)
        titles = [b.find("r:literal", ns).text for b in root.iterfind(".//r:binding[@name='t']", ns)]  # type: ignore[union-attr]
    elif media_type == "text/csv":
        titles = [row["t"] for row in csv.DictReader(io.StringIO(r.text))]
    else:
        lines = r.text.strip().split("\n")
        assert lines[0] == "?f\t?t"
        titles = [rdflib.util.from_n3(line.split("\t")[1]).value for line in lines[1:]]  # type: ignore[union-attr]
    assert len(titles) == 10 and titles == sorted(titles)


def test_ask_answers_boolean(live_server) -> None:
    r = get(live_server, query="ASK { ?s a <https://w3id.org/filmgraph/ontology#Claim> }")
    assert r.json() == {"head": {}, "boolean": True}
    r = get(live_server, query="ASK { ?s a <http://example.org/Nothing> }", headers={"Accept": "application/sparql-results+xml"})
    assert "<boolean>false</boolean>" in r.text


@pytest.mark.parametrize("fmt", ["turtle", "nt", "json-ld", "xml"])
def test_construct_in_every_graph_format_parses_to_the_same_graph(live_server, fmt: str) -> None:
    query = "CONSTRUCT WHERE { ?f a <https://w3id.org/filmgraph/ontology#FilmRecord> ; <https://schema.org/name> ?t }"
    r = get(live_server, query=query, format=fmt)
    assert r.status_code == 200, r.text
    parser = {"turtle": "turtle", "nt": "nt", "json-ld": "json-ld", "xml": "xml"}[fmt]
    g = rdflib.Graph().parse(data=r.content, format=parser)
    assert len(g) == 20
    reference = rdflib.Graph().parse(data=get(live_server, query=query).content, format="turtle")
    assert rdflib.compare.isomorphic(g, reference)


def test_describe_returns_the_resource(live_server) -> None:
    r = get(live_server, query="DESCRIBE <https://w3id.org/filmgraph/film/silent-star-1960>", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.content, format="nt")
    assert (rdflib.URIRef("https://w3id.org/filmgraph/film/silent-star-1960"), rdflib.URIRef("https://schema.org/name"), rdflib.Literal("The Silent Star", lang="en")) in g


def test_post_form_and_post_direct_give_the_same_answer(live_server) -> None:
    url = live_server.url + "/sparql"
    form = requests.post(url, data={"query": FILMS}, timeout=30)
    form_charset = requests.post(url, data=f"query={requests.utils.quote(FILMS)}".encode(), headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}, timeout=30)
    direct = requests.post(url, data=FILMS.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert form.status_code == form_charset.status_code == direct.status_code == 200
    assert form.json() == direct.json() == form_charset.json()


def test_syntax_error_is_400_with_the_parser_position(live_server) -> None:
    r = get(live_server, query="SELECT * WHERE { ?s ?p }")
    assert r.status_code == 400
    assert "1:" in r.text and "expected" in r.text


def test_unknown_format_is_406_listing_what_is_offered(live_server) -> None:
    r = get(live_server, query=FILMS, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text and "text/csv" in r.text
    r = get(live_server, query=FILMS, format="pdf")
    assert r.status_code == 406


@pytest.mark.parametrize(
    "update",
    ["INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }", "DELETE WHERE { ?s ?p ?o }", "LOAD <http://127.0.0.1:9/x.ttl>", "CLEAR ALL"],
)
def test_updates_are_refused_in_every_form_and_change_nothing(live_server, update: str) -> None:
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    before = get(live_server, query=count).json()
    url = live_server.url + "/sparql"
    attempts = [
        requests.get(url, params={"update": update}, timeout=30),
        requests.post(url, data={"update": update}, timeout=30),
        requests.post(url, data=update.encode(), headers={"Content-Type": "application/sparql-update"}, timeout=30),
        requests.get(url, params={"query": update}, timeout=30),
        requests.post(url, data=update.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30),
    ]
    for r in attempts:
        assert 400 <= r.status_code < 500, r.text
        assert "read-only" in r.text
    assert get(live_server, query=count).json() == before


def test_body_over_the_limit_is_413(live_server, settings) -> None:
    big = "SELECT * { ?s ?p ?o } #" + "x" * (settings.max_body + 10)
    r = requests.post(live_server.url + "/sparql", data=big.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert r.status_code == 413
    assert "max_body" in r.text


def test_query_over_the_length_limit_is_414_by_get_and_413_by_post(serve_app, tmp_path) -> None:
    from filmgraph.site.services import Services
    from filmgraph.core.settings import Settings
    from filmgraph.store.embedded import EmbeddedStore
    from filmgraph.web import create_app

    settings = Settings(max_query_length=200)
    services = Services.build(settings, EmbeddedStore.build(settings.replace(validate=False), tmp_path / "s"))
    server = serve_app(create_app(settings, services))
    long_query = "SELECT * { ?s ?p ?o } #" + "x" * 300
    assert requests.get(server.url + "/sparql", params={"query": long_query}, timeout=30).status_code == 414
    r = requests.post(server.url + "/sparql", data={"query": long_query}, timeout=30)
    assert r.status_code == 413 and "max_query_length" in r.text
    services.close()


def test_row_cap_is_never_silent(live_server, settings) -> None:
    r = get(live_server, query="SELECT * { ?s ?p ?o }")
    body = r.json()
    assert len(body["results"]["bindings"]) == settings.max_rows
    assert r.headers["X-Result-Truncated"].startswith("true")
    assert body["filmgraph"]["truncated"] is True
    r = get(live_server, query="CONSTRUCT WHERE { ?s ?p ?o }")
    assert r.headers["X-Result-Truncated"].startswith("true")
    assert r.text.startswith("# result truncated")
    assert "X-Result-Truncated" not in get(live_server, query=FILMS).headers


def test_cors_allows_reads_and_answers_preflight(live_server) -> None:
    r = get(live_server, query="ASK {}", headers={"Origin": "https://ui.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = requests.options(
        live_server.url + "/sparql",
        headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=30,
    )
    assert pre.status_code == 204
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()


def test_other_methods_are_405_with_allow(live_server) -> None:
    r = requests.put(live_server.url + "/sparql", data="x", timeout=30)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]


def test_multiple_queries_are_400(live_server) -> None:
    r = requests.get(live_server.url + "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", timeout=30)
    assert r.status_code == 400 and "exactly one" in r.text


@pytest.mark.parametrize("accept", ["text/turtle", "application/rdf+xml", "application/ld+json", ""])
def test_plain_get_is_the_service_description(live_server, accept: str) -> None:
    r = requests.get(live_server.url + "/sparql", headers={"Accept": accept} if accept else {}, timeout=30)
    assert r.status_code == 200
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld", "": "turtle"}[accept]
    g = rdflib.Graph().parse(data=r.content, format=fmt)
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = rdflib.URIRef(live_server.url + "/sparql")
    assert (endpoint, sd.endpoint, endpoint) in g
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Query) in g
    formats = set(g.objects(endpoint, sd.resultFormat))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert rdflib.URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    assert any("dataset" in str(o) for o in g.objects(None, rdflib.RDFS.seeAlso))


def test_browser_get_is_the_query_ui(live_server) -> None:
    r = requests.get(live_server.url + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<form" in r.text or "yasgui" in r.text.lower()


def test_json_error_for_json_clients(live_server) -> None:
    r = get(live_server, query="SELECT", headers={"Accept": "application/json"})
    assert r.status_code == 400
    body = json.loads(r.content)
    assert body["status"] == 400 and "parse" in body["message"]
