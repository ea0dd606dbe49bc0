"""The dataset description: its links resolve over a real socket, and its counts match counts made independently."""

from __future__ import annotations

import warnings
from collections import Counter

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, XSD

from filmgraph import formats as F
from filmgraph.sparql.query import QueryService
from filmgraph.truth.rules import list_rules, run_rules
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.site.void import compute_statistics, namespace_of
from filmgraph.web import create_app

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
CC_BY = rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")


def parse(body: bytes, fmt: str) -> rdflib.Graph:
    """Parse a response body with rdflib (its JSON-LD parser warns about its own internals)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(data=body.decode("utf-8"), format=fmt)


@pytest.fixture(scope="module")
def live_void(live_server) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """The description fetched from /.well-known/void over the socket."""
    resp = requests.get(f"{live_server.url}/.well-known/void", timeout=30)
    assert resp.status_code == 200
    return parse(resp.content, "turtle")


@pytest.fixture(scope="module")
def data_graph(client_factory) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """The whole dataset, from the N-Triples dump, read by rdflib."""
    return parse(client_factory().get("/dumps/filmgraph.nt", buffered=True).data, "nt")


@pytest.fixture(scope="module")
def client_factory(app):  # type: ignore[no-untyped-def]
    """Make test clients of the shared app (module-scoped fixtures cannot use ``client``)."""
    return app.test_client


def dataset(settings: Settings) -> rdflib.URIRef:
    """The dataset's IRI."""
    return rdflib.URIRef(f"{settings.base_iri}dataset")


def number(g: rdflib.Graph, s: rdflib.term.Node, p: rdflib.URIRef) -> int:
    """The one integer value of a property."""
    values = list(g.objects(s, p))
    assert len(values) == 1, (s, p, values)
    return int(values[0])


def test_well_known_void_is_turtle_by_default_with_content_location(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/.well-known/void")
    assert resp.status_code == 200
    assert resp.mimetype == F.TURTLE.media_type
    assert resp.headers["Content-Location"] == "/dataset.ttl"
    assert "Accept" in resp.headers["Vary"]


def test_well_known_void_negotiates_json_ld(client) -> None:  # type: ignore[no-untyped-def]
    ttl = parse(client.get("/.well-known/void").data, "turtle")
    resp = client.get("/.well-known/void", headers={"Accept": F.JSONLD.media_type})
    assert resp.mimetype == F.JSONLD.media_type
    assert to_isomorphic(parse(resp.data, "json-ld")) == to_isomorphic(ttl)


@pytest.mark.parametrize("accept,location", [("text/html", "/dataset.html"), ("text/turtle", "/dataset.ttl"), ("application/ld+json", "/dataset.jsonld"), ("application/n-triples", "/dataset.nt"), ("", "/dataset.html")])
def test_dataset_is_a_thing_that_303s_to_its_description(client, accept: str, location: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/dataset", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(location)
    assert "Accept" in resp.headers["Vary"]


def test_dataset_documents_say_the_same_in_every_format(client) -> None:  # type: ignore[no-untyped-def]
    ttl = to_isomorphic(parse(client.get("/dataset.ttl").data, "turtle"))
    assert to_isomorphic(parse(client.get("/dataset.nt").data, "nt")) == ttl
    assert to_isomorphic(parse(client.get("/dataset.jsonld").data, "json-ld")) == ttl


def test_dataset_document_has_etag_and_304(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/dataset.ttl")
    assert client.get("/dataset.ttl", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_dataset_html_shows_counts_licence_endpoint_and_report(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/dataset.html")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert str(CC_BY) in html
    assert 'href="/sparql"' in html and 'href="/dumps/filmgraph.ttl"' in html
    assert 'id="consistency"' in html
    g = parse(client.get("/dataset.ttl").data, "turtle")
    assert f"{number(g, dataset(settings), VOID.triples):,}" in html
    assert 'type="application/ld+json"' in html


def test_void_endpoint_link_answers_a_query_over_the_socket(live_void: rdflib.Graph, live_server, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    endpoint = live_void.value(dataset(settings), VOID.sparqlEndpoint)
    assert str(endpoint) == f"{live_server.url}/sparql"
    answer = requests.get(str(endpoint), params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": F.SPARQL_JSON.media_type}, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["boolean"] is True


def test_void_dump_links_resolve_over_the_socket(live_void: rdflib.Graph, live_server, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    ds = dataset(settings)
    dumps = sorted(str(d) for d in live_void.objects(ds, VOID.dataDump))
    assert len(dumps) == 6
    for url in dumps:
        assert url.startswith(f"{live_server.url}/dumps/")
        resp = requests.get(url, timeout=60)
        assert resp.status_code == 200, url
        assert resp.content


def test_every_distribution_has_download_url_and_media_type(live_void: rdflib.Graph, settings: Settings) -> None:
    ds = dataset(settings)
    dists = list(live_void.objects(ds, DCAT.distribution))
    assert len(dists) == 6
    assert {str(live_void.value(d, DCAT.downloadURL)) for d in dists} == {str(u) for u in live_void.objects(ds, VOID.dataDump)}
    media = {str(live_void.value(d, DCAT.mediaType)).rsplit("media-types/", 1)[1] for d in dists}
    assert media == {F.TURTLE.media_type, F.NTRIPLES.media_type, F.JSONLD.media_type}
    assert len([d for d in dists if live_void.value(d, DCAT.compressFormat) is not None]) == 3


def test_byte_size_is_given_once_a_dump_is_made_and_is_true(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/dumps/filmgraph.nt.gz", buffered=True).data
    g = parse(client.get("/dataset.ttl").data, "turtle")
    dist = next(d for d in g.objects(dataset(settings), DCAT.distribution) if str(g.value(d, DCAT.downloadURL)).endswith("/dumps/filmgraph.nt.gz"))
    size = g.value(dist, DCAT.byteSize)
    assert size is not None and size.datatype == XSD.nonNegativeInteger
    assert int(size) == len(body)


def test_counts_equal_counts_made_independently_from_the_dump(live_void: rdflib.Graph, data_graph: rdflib.Graph, settings: Settings) -> None:
    ds = dataset(settings)
    g = data_graph
    subjects = set(g.subjects())
    classes = {o for o in g.objects(None, RDF.type) if isinstance(o, rdflib.URIRef)}
    assert number(live_void, ds, VOID.triples) == len(g)
    assert number(live_void, ds, VOID.distinctSubjects) == len(subjects)
    assert number(live_void, ds, VOID.distinctObjects) == len(set(g.objects()))
    assert number(live_void, ds, VOID.properties) == len(set(g.predicates()))
    assert number(live_void, ds, VOID.classes) == len(classes)
    assert number(live_void, ds, VOID.entities) == len({s for s in subjects if isinstance(s, rdflib.URIRef) and str(s).startswith(settings.base_iri)})


def test_class_partitions_equal_instance_counts_from_the_dump(live_void: rdflib.Graph, data_graph: rdflib.Graph, settings: Settings) -> None:
    expected = {c: len(set(data_graph.subjects(RDF.type, c))) for c in set(data_graph.objects(None, RDF.type)) if isinstance(c, rdflib.URIRef)}
    got = {live_void.value(p, VOID["class"]): number(live_void, p, VOID.entities) for p in live_void.objects(dataset(settings), VOID.classPartition)}
    assert got == expected
    film_records = rdflib.URIRef(f"{settings.base_iri}ontology#FilmRecord")
    assert got[film_records] == len(set(data_graph.subjects(RDF.type, film_records))) > 0


def test_property_partitions_equal_triple_counts_from_the_dump(live_void: rdflib.Graph, data_graph: rdflib.Graph, settings: Settings) -> None:
    expected = Counter(p for _, p, _ in data_graph)
    got = {live_void.value(p, VOID.property): number(live_void, p, VOID.triples) for p in live_void.objects(dataset(settings), VOID.propertyPartition)}
    assert got == dict(expected)


def test_vocabularies_are_the_namespaces_of_every_property_and_class(live_void: rdflib.Graph, data_graph: rdflib.Graph, settings: Settings) -> None:
    used = {str(p) for p in data_graph.predicates()} | {str(c) for c in data_graph.objects(None, RDF.type) if isinstance(c, rdflib.URIRef)}
    expected = {namespace_of(i) for i in used}
    got = {str(v) for v in live_void.objects(dataset(settings), VOID.vocabulary)}
    assert got == expected
    assert {"https://schema.org/", "http://www.w3.org/ns/prov#", f"{settings.base_iri}ontology#"} <= got


def test_example_resources_and_uri_space_are_in_the_data(live_void: rdflib.Graph, data_graph: rdflib.Graph, settings: Settings) -> None:
    ds = dataset(settings)
    assert str(live_void.value(ds, VOID.uriSpace)) == settings.base_iri
    examples = list(live_void.objects(ds, VOID.exampleResource))
    assert examples
    for e in examples:
        assert str(e).startswith(settings.base_iri)
        assert (e, None, None) in data_graph


def test_description_names_licence_source_title_and_formats(live_void: rdflib.Graph, settings: Settings) -> None:
    ds = dataset(settings)
    assert (ds, RDF.type, VOID.Dataset) in live_void and (ds, RDF.type, DCAT.Dataset) in live_void
    assert live_void.value(ds, DCTERMS.license) == CC_BY
    assert live_void.value(ds, PROV.wasDerivedFrom) == rdflib.URIRef(f"{settings.base_iri}work/curated-list")
    assert live_void.value(ds, DCTERMS.title) is not None
    assert "machine-written" in str(live_void.value(ds, DCTERMS.description))
    publisher = live_void.value(ds, DCTERMS.publisher)
    assert live_void.value(publisher, FOAF.name) is not None
    assert live_void.value(ds, DCTERMS.modified).datatype == XSD.dateTime
    features = {str(f) for f in live_void.objects(ds, VOID.feature)}
    assert {"http://www.w3.org/ns/formats/Turtle", "http://www.w3.org/ns/formats/N-Triples", "http://www.w3.org/ns/formats/JSON-LD"} <= features


def test_description_links_the_consistency_report_of_the_rules(live_void: rdflib.Graph, services: Services, settings: Settings) -> None:
    fg = rdflib.Namespace(f"{settings.base_iri}ontology#")
    report = live_void.value(dataset(settings), fg.consistencyReport)
    assert report == rdflib.URIRef(f"{settings.base_iri}dataset/consistency")
    assert (report, RDF.type, fg.ConsistencyReport) in live_void
    assert number(live_void, report, fg.rulesRun) == len(list_rules())
    expected = run_rules(services.store)
    findings = list(live_void.objects(report, fg.finding))
    assert len(findings) == len(expected.findings)
    assert {str(live_void.value(f, fg.concerns)) for f in findings} == {f.concerns for f in expected.findings if not f.concerns.startswith("_:")}


@pytest.mark.parametrize("path,accept,location", [
    ("/dataset/consistency", "text/html", "/dataset.html#consistency"),
    ("/dataset/consistency", "text/turtle", "/dataset.ttl"),
    ("/rule/released-after-later-event", "text/html", "/dataset.html#rule-released-after-later-event"),
])
def test_report_and_rule_iris_303_to_the_description(client, path: str, accept: str, location: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={"Accept": accept})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(location)


def test_unknown_rule_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/rule/no-such-rule").status_code == 404


def test_public_url_setting_names_the_endpoint_and_dumps(settings: Settings, services: Services) -> None:
    public = settings.replace(public_url="https://films.example.org/")
    app = create_app(public, Services(public, services.store, services.query))
    g = parse(app.test_client().get("/.well-known/void").data, "turtle")
    ds = dataset(settings)
    assert str(g.value(ds, VOID.sparqlEndpoint)) == "https://films.example.org/sparql"
    assert all(str(d).startswith("https://films.example.org/dumps/") for d in g.objects(ds, VOID.dataDump))


def test_statistics_come_from_the_index_built_with_the_store(settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """They read every triple (minutes at 10^6 films): the build keeps them, a site never computes them again."""
    from filmgraph.web import dataset as dataset_view

    kept = services.index.statistics()
    assert kept is not None and kept == compute_statistics(services.query, settings.base_iri)
    calls: list[str] = []
    monkeypatch.setattr(dataset_view, "compute_statistics", lambda query, base_iri: calls.append(base_iri))
    client = create_app(settings, services).test_client()
    for path in ("/dataset.ttl", "/dataset.html", "/.well-known/void"):
        assert client.get(path).status_code == 200
    assert calls == []


def test_statistics_are_computed_once_per_app_when_the_index_has_none(settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index built by an older filmgraph has no statistics: the site computes them on first use, once."""
    from filmgraph.store.index import SiteIndex
    from filmgraph.web import dataset as dataset_view

    calls = []
    original = dataset_view.compute_statistics

    def counting(query, base_iri):  # type: ignore[no-untyped-def]
        calls.append(base_iri)
        return original(query, base_iri)

    monkeypatch.setattr(SiteIndex, "statistics", lambda self: None)
    monkeypatch.setattr(dataset_view, "compute_statistics", counting)
    client = create_app(settings, services).test_client()
    for path in ("/dataset.ttl", "/dataset.html", "/.well-known/void"):
        assert client.get(path).status_code == 200
    assert calls == [settings.base_iri]


def test_statistics_survive_their_json_with_every_kind_of_stated_term() -> None:
    from filmgraph.site.void import Partition, Statistics

    stats = Statistics(
        1, 2, 3, 4, 5, 1, (Partition("http://x/C", "x:C", 7, "class-x-C"),), (Partition("http://x/p", "x:p", 9, "property-x-p"),),
        ("http://x/",), ("http://x/e",),
        ((ox.NamedNode("http://x/title"), ox.Literal("Фильмы \"космос\"", language="ru")),
         (ox.NamedNode("http://x/size"), ox.Literal("12", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
         (ox.NamedNode("http://x/page"), ox.NamedNode("http://x/page?a=1&b=2"))),
    )
    assert Statistics.from_json(stats.to_json()) == stats


def test_statistics_work_on_any_data_of_the_shape() -> None:
    base = "http://example.org/x/"
    fg = f"{base}ontology#"
    a = ox.NamedNode(str(RDF.type))
    name = ox.NamedNode("https://schema.org/name")
    film_a, film_b = ox.NamedNode(f"{base}film/a"), ox.NamedNode(f"{base}film/b")
    outside = ox.NamedNode("http://elsewhere.org/c")
    triples = [
        ox.Triple(film_a, a, ox.NamedNode(fg + "Film")),
        ox.Triple(film_a, name, ox.Literal("A")),
        ox.Triple(film_b, a, ox.NamedNode(fg + "Film")),
        ox.Triple(film_b, a, ox.NamedNode(fg + "FilmRecord")),
        ox.Triple(outside, a, ox.NamedNode(fg + "Film")),
        ox.Triple(ox.BlankNode("n"), name, ox.Literal("B")),
    ]
    store = ox.Store()
    store.extend([ox.Quad(t.subject, t.predicate, t.object) for t in triples])
    embedded = EmbeddedStore(store, base)
    stats = compute_statistics(QueryService(embedded, Settings(base_iri=base, query_workers=0)), base)
    assert (stats.triples, stats.distinct_subjects, stats.properties, stats.classes) == (6, 4, 2, 2)
    assert stats.entities == 2  # the outside IRI and the blank node are not in the URI space
    assert stats.entities_of(fg + "Film") == 3 and stats.entities_of(fg + "FilmRecord") == 1
    assert stats.examples == (f"{base}film/b", f"{base}film/a")  # first FilmRecord, first Film
    assert set(stats.vocabularies) == {fg, "https://schema.org/", str(RDF)}

