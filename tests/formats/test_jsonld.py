"""JSON-LD for JSON users: the published context, framed documents, profiles, the dump, language tags.

Every document is expanded with pyld against the context the app itself serves
(a document loader that answers from the app under test and refuses anything
else), and its graph is compared with the Turtle document's by isomorphism.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import given
from hypothesis import strategies as st
from pyld import jsonld as pyld
from rdflib.compare import to_isomorphic

from filmgraph import formats as F
from filmgraph.formats import jsonld
from filmgraph.site import context as site_context_module
from filmgraph.site.context import sampled_survey, site_context
from filmgraph.formats.langtag import canonical, recase_serialized
from filmgraph.core.namespaces import RDF
from filmgraph.site.services import Services

BASE = "https://w3id.org/filmgraph/"

# One resource of every kind the site publishes (a record and a real film are both /film/).
RESOURCES = [
    "/film/sky-beckons-1959",
    "/film/nebo-zovyot",
    "/mission/luna-2",
    "/theme/moon",
    "/year/1959",
    "/person/stanislaw-lem",
    "/work/astronauci",
    "/claim/sky-beckons-1959-year",
    "/organization/dovzhenko-film-studio",
    "/country/ussr",
]


def app_loader(client) -> Callable[[str, dict[str, Any]], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A pyld document loader that fetches only the site's context, from the app under test."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url not in (BASE + "context.jsonld", "http://localhost/context.jsonld"):
            raise AssertionError(f"a document loader was asked for {url}: nothing but the site's own context is fetched")
        resp = client.get("/context.jsonld")
        assert resp.status_code == 200
        return {"contextUrl": None, "documentUrl": url, "document": json.loads(resp.data)}

    return load


def graph_from_pyld(doc: object, client) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    nquads = pyld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": app_loader(client)})
    return _lower_tags(rdflib.Graph().parse(data=nquads, format="nt"))


def _lower_tags(g: rdflib.Graph) -> rdflib.Graph:
    # JSON-LD processors may lower-case language tags (pyld does); RDF compares them without case.
    out = rdflib.Graph()
    for s, p, o in g:
        if isinstance(o, rdflib.Literal) and o.language:
            o = rdflib.Literal(str(o), lang=o.language.lower())
        out.add((s, p, o))
    return out


def turtle_graph(client, path: str) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    resp = client.get(path + ".ttl")
    assert resp.status_code == 200
    return _lower_tags(rdflib.Graph().parse(data=resp.data.decode(), format="turtle"))


def same_graph(a: rdflib.Graph, b: rdflib.Graph) -> bool:
    return to_isomorphic(a) == to_isomorphic(b)


# -- the JSON users' contract ------------------------------------------------------------------


def test_a_film_reads_as_plain_json(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/film/sky-beckons-1959.jsonld").get_json()
    assert doc["id"] == BASE + "film/sky-beckons-1959"
    assert doc["type"] == ["FilmRecord"]
    assert doc["name"] == "The Sky Beckons"
    assert doc["datePublished"] == "1959"
    assert doc["listPosition"] == 2
    assert doc["identificationStatus"] == "Identified"
    assert doc["identifiedAs"]["id"] == BASE + "film/nebo-zovyot" and isinstance(doc["identifiedAs"]["name"], str)
    claims = {c["id"].rsplit("/", 1)[1]: c for c in doc["claims"]}
    moon = claims["sky-beckons-1959-race-to-the-moon"]
    assert moon["assessment"] == "Contradicted"
    assert moon["claimText"] == "the race to the Moon between the USSR and the USA"
    assert moon["assessmentNote"].startswith("The race in the film is to Mars")
    assert {e["id"] for e in moon["evidence"]} >= {"https://sf-encyclopedia.com/entry/nebo_zovyot"}
    flight = claims["sky-beckons-1959-first-crewed-flight"]
    assert flight["claimPredicate"] == "depicts"
    vostok = next(e for e in flight["evidence"] if e["id"] == BASE + "mission/vostok-1")
    assert vostok["name"] == "Vostok 1"  # linked resources come with their name
    assert all(c["assessment"] in {"Supported", "Contradicted", "Unverified"} for c in doc["claims"])


def test_a_resource_document_is_one_object(client) -> None:  # type: ignore[no-untyped-def]
    for path in RESOURCES:
        doc = client.get(path + ".jsonld").get_json()
        assert "@graph" not in doc, path
        assert doc["id"] == BASE + path[1:], path


def test_several_languages_come_as_a_language_map_with_tags_as_written(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/film/nebo-zovyot.jsonld").get_json()
    assert "Nebo zovyot" in doc["altLabel"]["ru-Latn"]
    assert doc["originalTitle"]["ru"] == "Небо зовёт"


@pytest.mark.parametrize("path", RESOURCES)
def test_a_document_expands_to_the_graph_of_its_turtle(client, path: str) -> None:  # type: ignore[no-untyped-def]
    doc = client.get(path + ".jsonld").get_json()
    assert same_graph(graph_from_pyld(doc, client), turtle_graph(client, path))


def test_the_dataset_description_leads_with_the_dataset_and_is_the_graph_of_its_turtle(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/dataset.jsonld").get_json()
    # The rules that found nothing are linked to nothing in the description: they stand beside it in an @graph.
    first = doc["@graph"][0] if "@graph" in doc else doc
    assert first["id"] == BASE + "dataset"
    assert same_graph(graph_from_pyld(doc, client), turtle_graph(client, "/dataset"))


@pytest.mark.parametrize("path", ["/film/sky-beckons-1959", "/mission/luna-2"])
def test_a_document_read_with_the_served_context_by_url_is_the_same_graph(client, path: str) -> None:  # type: ignore[no-untyped-def]
    doc = client.get(path + ".jsonld").get_json()
    doc["@context"] = BASE + "context.jsonld"
    assert same_graph(graph_from_pyld(doc, client), turtle_graph(client, path))


@pytest.mark.parametrize("profile", [jsonld.EXPANDED, jsonld.FLATTENED, jsonld.COMPACTED, jsonld.FRAMED])
def test_every_profile_is_the_same_graph(client, profile: str) -> None:  # type: ignore[no-untyped-def]
    path = "/film/sky-beckons-1959"
    resp = client.get(path + ".jsonld", headers={"Accept": f'application/ld+json; profile="{profile}"'})
    assert resp.status_code == 200
    assert f'profile="{profile}"' in resp.headers["Content-Type"]
    assert resp.headers["Vary"] == "Accept"
    assert same_graph(graph_from_pyld(resp.get_json(), client), turtle_graph(client, path))


def test_the_expanded_profile_is_expanded_json_ld(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/mission/luna-2.jsonld", headers={"Accept": f'application/ld+json;profile="{jsonld.EXPANDED}"'})
    data = resp.get_json()
    assert isinstance(data, list) and all("@id" in node for node in data)
    assert data == pyld.expand(data, {"documentLoader": app_loader(client)}) or _same_expansion(data, client)


def _same_expansion(data: list[dict[str, Any]], client) -> bool:  # type: ignore[no-untyped-def]
    # pyld lower-cases language tags when it expands; the rest must be unchanged.
    again = pyld.expand(data, {"documentLoader": app_loader(client)})
    lowered = json.loads(json.dumps(data).replace("ru-Latn", "ru-latn"))
    key = lambda n: n["@id"]  # noqa: E731
    return sorted(again, key=key) == sorted(lowered, key=key)


def test_a_profile_parameter_of_the_query_string_chooses_too(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/nebo-zovyot.jsonld?profile=flattened")
    assert "@graph" in resp.get_json()


@pytest.mark.parametrize(
    ("accept", "profile"),
    [
        (None, jsonld.FRAMED),
        ("application/ld+json", jsonld.FRAMED),
        (f'application/ld+json; profile="{jsonld.EXPANDED}"', jsonld.EXPANDED),
        (f'application/ld+json; profile="{jsonld.FLATTENED} {jsonld.COMPACTED}"', jsonld.FLATTENED),
        (f'application/ld+json; profile="{jsonld.EXPANDED}"; q=0.5, application/ld+json; profile="{jsonld.COMPACTED}"', jsonld.COMPACTED),
        ('application/ld+json; profile="http://example.org/unknown"', jsonld.FRAMED),
        ("text/turtle, application/ld+json; profile=", jsonld.FRAMED),
    ],
)
def test_requested_profile_reads_the_accept_parameter(accept: str | None, profile: str) -> None:
    assert jsonld.requested_profile(accept) == profile


def test_a_collection_page_in_json_ld_uses_the_same_context(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/film/?format=jsonld").get_json()
    assert doc["@context"] == client.get("/context.jsonld").get_json()["@context"]
    names = {n.get("name") for n in doc["@graph"]}
    assert "The Sky Beckons" in names
    nt = client.get("/film/?format=nt").data.decode()
    assert same_graph(graph_from_pyld(doc, client), _lower_tags(rdflib.Graph().parse(data=nt, format="nt")))


@given(accept=st.text(max_size=200), override=st.one_of(st.none(), st.text(max_size=50)))
def test_any_accept_header_gives_a_known_profile(accept: str, override: str | None) -> None:
    assert jsonld.requested_profile("application/ld+json; profile=" + accept, override) in jsonld.PROFILES
    assert jsonld.requested_profile(accept, override) in jsonld.PROFILES


# -- the context ---------------------------------------------------------------------------------


def test_the_context_has_a_term_for_every_property_and_class_of_the_data(services: Services) -> None:
    ctx = site_context(services.store)
    predicates = {t.predicate.value for t in services.store.triples()} - {RDF + "type"}
    classes = {t.object.value for t in services.store.triples() if t.predicate.value == RDF + "type"}
    assert predicates - set(ctx.terms) == set()
    assert classes - set(ctx.values) == set()
    defined = ctx.inline()
    for name in ("name", "datePublished", "identificationStatus", "claims", "assessment", "claimText", "evidence"):
        assert name in defined, name
    assert defined["id"] == "@id" and defined["type"] == "@type"


def test_a_large_store_is_surveyed_by_a_sample_that_gives_every_property_a_term(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    from filmgraph.site.void import compute_statistics

    stats = compute_statistics(services.query, services.store.base_iri)
    whole = site_context(services.store)
    sampled = jsonld.Context(services.store.base_iri, sampled_survey(services.store, stats))
    assert set(sampled.terms) == set(whole.terms) and set(sampled.values) >= set(whole.values) - set(whole.terms)
    # Every class here has fewer members than a sample holds: the sample sees what the whole pass sees, except
    # the properties only blank nodes use (a blank node cannot be bound in a query), which get plain terms.
    named = {t.predicate.value for t in services.store.triples() if isinstance(t.subject, ox.NamedNode)}
    differ = {iri for iri in whole.terms if whole.terms[iri] != sampled.terms[iri]}
    assert differ and not differ & named
    from filmgraph.web.pages import rdf_document

    for path in ("/film/silent-star-1960", "/dataset"):  # the dataset document's blank-node publisher included
        triples = rdf_document(services.query, BASE + path[1:]) if path != "/dataset" else F.parse_graph(client.get("/dataset.nt").data, F.NTRIPLES)
        doc = jsonld.framed(sampled, BASE + path[1:], triples)
        assert same_graph(graph_from_pyld(doc, client), turtle_graph(client, path))


def test_a_built_store_above_the_limit_serves_the_sampled_context(settings, monkeypatch: pytest.MonkeyPatch, client) -> None:  # type: ignore[no-untyped-def]
    from filmgraph.store.embedded import EmbeddedStore
    from filmgraph.web import create_app

    monkeypatch.setattr(site_context_module, "SURVEY_WHOLE_UP_TO", 0)  # the shipped data, read as if it were large
    s = settings.replace(query_workers=0)
    svc = Services.build(s, EmbeddedStore.temporary_copy(s))
    try:
        big = create_app(s, svc).test_client()
        context = big.get("/context.jsonld").get_json()["@context"]
        whole = client.get("/context.jsonld").get_json()["@context"]
        assert set(context) == set(whole)
        assert context != whole  # read by the sample: a property only blank nodes use gets a plain term
        doc = big.get("/film/sky-beckons-1959.jsonld").get_json()
        assert doc["name"] == "The Sky Beckons" and doc["claims"][0]["assessment"] in {"Supported", "Contradicted", "Unverified"}
        assert same_graph(graph_from_pyld(doc, big), turtle_graph(big, "/film/sky-beckons-1959"))
    finally:
        svc.close()


def test_the_context_is_served_with_an_etag_long_caching_and_a_versioned_iri(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/context.jsonld")
    assert resp.status_code == 200 and resp.mimetype == F.JSONLD.media_type
    assert "max-age=86400" in resp.headers["Cache-Control"]
    etag = resp.headers["ETag"]
    assert client.get("/context.jsonld", headers={"If-None-Match": etag}).status_code == 304
    versioned = resp.headers["Link"].split(">", 1)[0].lstrip("<")
    again = client.get(versioned)
    assert again.status_code == 200 and again.data == resp.data
    assert "immutable" in again.headers["Cache-Control"]
    assert client.get("/context-0000000000000000.jsonld").status_code == 404
    assert resp.get_json()["@context"] == client.get("/film/aelita.jsonld").get_json()["@context"]


def test_documents_point_at_the_context(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/aelita.jsonld")
    assert '</context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"' in resp.headers["Link"]


def test_a_new_property_gets_a_term_from_the_data() -> None:
    triples = [
        ox.Triple(ox.NamedNode(BASE + "film/x"), ox.NamedNode(BASE + "ontology#newThing"), ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))),
        ox.Triple(ox.NamedNode(BASE + "film/x"), ox.NamedNode("http://example.org/v/name"), ox.Literal("clash")),
        ox.Triple(ox.NamedNode(BASE + "film/x"), ox.NamedNode("https://schema.org/name"), ox.Literal("X", language="en")),
    ]
    ctx = jsonld.build_context(BASE, triples)
    assert ctx.terms[BASE + "ontology#newThing"].name == "newThing"
    assert ctx.terms["https://schema.org/name"].name == "name"
    assert ctx.terms["http://example.org/v/name"].name != "name"  # a clash never takes a term another vocabulary has
    doc = jsonld.framed(ctx, BASE + "film/x", triples)
    assert doc["newThing"] == "1" and doc["name"] == "X"


def test_values_that_do_not_fit_their_term_keep_their_meaning(client) -> None:  # type: ignore[no-untyped-def]
    x = ox.NamedNode(BASE + "film/x")
    survey = [
        ox.Triple(x, ox.NamedNode(BASE + "ontology#title"), ox.Literal("Небо", language="ru")),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#count"), ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#when"), ox.Literal("1959", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#link"), ox.NamedNode("https://example.org/a")),
    ]
    ctx = jsonld.build_context(BASE, survey)
    odd = [
        ox.Triple(x, ox.NamedNode(BASE + "ontology#title"), ox.Literal("plain")),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#title"), ox.Literal("Nebo", language="ru-latn")),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#count"), ox.Literal("03", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#when"), ox.Literal("1959-09-12", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        ox.Triple(x, ox.NamedNode(BASE + "ontology#link"), ox.Literal("not an IRI")),
        ox.Triple(x, ox.NamedNode("http://example.org/unknown"), ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))),
    ]
    doc = jsonld.framed(ctx, BASE + "film/x", odd)
    assert doc["title"] == {"ru-Latn": "Nebo"}
    expected = rdflib.Graph().parse(data="".join(f"{t} .\n" for t in odd), format="nt")
    assert same_graph(graph_from_pyld(doc, client), _lower_tags(expected))


# -- the dump --------------------------------------------------------------------------------------


def test_the_dump_is_compacted_against_the_same_context_and_is_the_dataset(client) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(client.get("/dumps/filmgraph.jsonld", buffered=True).data)
    assert doc["@context"] == client.get("/context.jsonld").get_json()["@context"]
    film = next(n for n in doc["@graph"] if n["id"] == BASE + "film/sky-beckons-1959")
    assert film["name"] == "The Sky Beckons" and film["datePublished"] == "1959"
    nt = client.get("/dumps/filmgraph.nt", buffered=True).data.decode()
    assert same_graph(graph_from_pyld(doc, client), _lower_tags(rdflib.Graph().parse(data=nt, format="nt")))


# -- language tags as written ----------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "written"), [("ru-latn", "ru-Latn"), ("en-gb", "en-GB"), ("EN", "en"), ("zh-hant-tw", "zh-Hant-TW"), ("de-ch-1901", "de-CH-1901"), ("en-x-abcd", "en-x-abcd"), ("es-419", "es-419")])
def test_language_tags_get_their_bcp47_case(tag: str, written: str) -> None:
    assert canonical(tag) == written


def test_recasing_leaves_the_text_of_literals_alone() -> None:
    data = b'<a> <b> "say \\"@ru-latn" .\n<a> <b> "x"@ru-latn .\n<a> <b> "y\\\\"@en-gb .\n'
    assert recase_serialized(data) == b'<a> <b> "say \\"@ru-latn" .\n<a> <b> "x"@ru-Latn .\n<a> <b> "y\\\\"@en-GB .\n'


@pytest.mark.parametrize("ext", ["ttl", "nt", "jsonld"])
def test_documents_write_language_tags_as_the_data_does(client, ext: str) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/film/nebo-zovyot.{ext}").data.decode()
    assert "ru-Latn" in body and "ru-latn" not in body


@pytest.mark.parametrize("name", ["filmgraph.ttl", "filmgraph.nt", "filmgraph.jsonld"])
def test_dumps_write_language_tags_as_the_data_does(client, name: str) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/dumps/{name}", buffered=True).data.decode()
    assert "ru-Latn" in body and "ru-latn" not in body
