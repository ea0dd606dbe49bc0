"""/ontology: the configured ontology (not the dataset) in every format, and HTML docs with an anchor per term."""

from __future__ import annotations

import warnings
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import to_isomorphic
from rdflib.namespace import RDF

from filmgraph import formats as F
from filmgraph.site.ontology_docs import build_doc, load_ontology
from filmgraph.core.settings import Settings

RDF_DOCUMENTS = [(F.TURTLE, "turtle"), (F.JSONLD, "json-ld"), (F.NTRIPLES, "nt"), (F.RDFXML, "xml")]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.fragments: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name == "href" and value and value.startswith("#"):
                self.fragments.add(value[1:])


def page_ids(html: str) -> _Ids:
    """The element ids and the in-page links of an HTML page."""
    parser = _Ids()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def ontology_graph(settings: Settings) -> rdflib.Graph:
    """The ontology files as configured, read by rdflib on their own."""
    g = rdflib.Graph()
    for path in settings.ontology:
        g.parse(str(path), format="turtle")
    return g


def parse(body: bytes, fmt: str) -> rdflib.Graph:
    """Parse a response body with rdflib (its JSON-LD parser warns about its own internals)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(data=body.decode("utf-8"), format=fmt)


def own_terms(g: rdflib.Graph, base: str) -> set[str]:
    """Local names of every term the ontology declares (a typed subject) in its own namespace."""
    ns = f"{base}ontology#"
    return {str(s)[len(ns):] for s in g.subjects(RDF.type, None) if str(s).startswith(ns)}


def test_ontology_defaults_to_html_with_vary_and_content_location(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ontology")
    assert resp.status_code == 200
    assert resp.mimetype == F.HTML.media_type
    assert "Accept" in resp.headers["Vary"]
    assert resp.headers["Content-Location"] == "/ontology.html"


@pytest.mark.parametrize("fmt,parser", RDF_DOCUMENTS, ids=lambda x: getattr(x, "name", x))
def test_ontology_negotiates_each_rdf_format_isomorphic_to_the_files(client, ontology_graph: rdflib.Graph, fmt: F.Format, parser: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ontology", headers={"Accept": fmt.media_type})
    assert resp.status_code == 200
    assert resp.mimetype == fmt.media_type
    assert resp.headers["Content-Location"] == f"/ontology.{fmt.extension}"
    assert "Accept" in resp.headers["Vary"]
    assert to_isomorphic(parse(resp.data, parser)) == to_isomorphic(ontology_graph)


@pytest.mark.parametrize("fmt,parser", RDF_DOCUMENTS, ids=lambda x: getattr(x, "name", x))
def test_ontology_document_by_extension(client, ontology_graph: rdflib.Graph, fmt: F.Format, parser: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/ontology.{fmt.extension}")
    assert resp.status_code == 200
    assert resp.mimetype == fmt.media_type
    assert to_isomorphic(parse(resp.data, parser)) == to_isomorphic(ontology_graph)


def test_ontology_format_parameter_overrides_accept(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ontology?format=ttl", headers={"Accept": "text/html"})
    assert resp.mimetype == F.TURTLE.media_type


def test_ontology_unknown_extension_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/ontology.csv").status_code == 404


def test_ontology_unacceptable_format_is_406_listing_the_offered(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ontology", headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 406
    assert b"text/turtle" in resp.data


def test_ontology_is_not_the_whole_dataset(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    g = parse(client.get("/ontology.nt").data, "nt")
    assert not [s for s in g.subjects() if str(s).startswith(f"{settings.base_iri}film/")]


def test_ontology_etag_gives_304(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/ontology.ttl")
    again = client.get("/ontology.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_declared_term_has_its_anchor_in_the_html(client, ontology_graph: rdflib.Graph, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    found = page_ids(client.get("/ontology").data.decode())
    terms = own_terms(ontology_graph, settings.base_iri)
    assert {"Film", "FilmRecord", "Claim", "releaseYear", "assessment"} <= terms
    assert terms <= set(found.ids), sorted(terms - set(found.ids))


def test_html_ids_are_unique_and_every_in_page_link_lands(client) -> None:  # type: ignore[no-untyped-def]
    found = page_ids(client.get("/ontology.html").data.decode())
    assert len(found.ids) == len(set(found.ids))
    assert found.fragments <= set(found.ids), sorted(found.fragments - set(found.ids))


def test_html_shows_labels_comments_and_the_ontology_header(client, ontology_graph: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/ontology.html").data.decode()
    film = rdflib.URIRef("https://w3id.org/filmgraph/ontology#Film")
    comment = str(ontology_graph.value(film, rdflib.RDFS.comment))
    assert comment.replace("'", "&#39;") in html or comment in html
    assert "https://w3id.org/filmgraph/ontology/0.1.0" in html  # the version IRI
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    for fmt in (F.TURTLE, F.JSONLD):
        assert f'href="/ontology.{fmt.extension}"' in html


def test_ontology_is_served_with_the_configured_base(settings: Settings) -> None:
    base = "http://films.example.org/id/"
    triples = load_ontology(settings.ontology, base)
    assert any(t.subject.value == f"{base}ontology#Film" for t in triples)
    iris = [term.value for t in triples for term in (t.subject, t.predicate, t.object) if isinstance(term, ox.NamedNode)]
    assert not [i for i in iris if i.startswith(settings.base_iri)]
    # The namespace the ontology declares for itself is a literal; it follows the base too.
    namespace = [t.object for t in triples if t.predicate.value == "http://purl.org/vocab/vann/preferredNamespaceUri"]
    assert [n.value for n in namespace] == [f"{base}ontology#"]
    assert not [t.object.value for t in triples if isinstance(t.object, ox.Literal) and t.object.value.startswith(settings.base_iri)]
    doc = build_doc(triples, base)
    assert doc.iri == f"{base}ontology"
    assert "Film" in doc.anchors
    film = next(t for s in doc.sections for t in s.terms if t.anchor == "Film")
    assert film.iri == f"{base}ontology#Film"
    assert all(v.href is None or not v.href.startswith(settings.base_iri) for _, values in film.rows for v in values)


def test_docs_sections_group_terms_by_kind(settings: Settings) -> None:
    doc = build_doc(load_ontology(settings.ontology, settings.base_iri), settings.base_iri)
    by_section = {s.title: {t.anchor for t in s.terms} for s in doc.sections}
    assert "Film" in by_section["Classes"]
    assert "releaseYear" in by_section["Object properties"]
    assert "factText" in by_section["Datatype properties"]
    assert "Supported" in by_section["Named individuals"]


def test_the_version_iri_redirects_to_the_ontology_and_others_are_404(client) -> None:
    """owl:versionIRI {base}ontology/0.1.0 dereferences; an unknown version is a 404 naming the served one."""
    resp = client.get("/ontology/0.1.0")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ontology")
    missing = client.get("/ontology/9.9.9")
    assert missing.status_code == 404 and b"0.1.0" in missing.data
