"""The one format table: media types, file extensions, parameter names and serializers.

Nothing else in filmgraph names a media type. ``RESULTS`` are the SPARQL result
formats (SELECT, ASK), ``GRAPHS`` the RDF formats (CONSTRUCT, DESCRIBE, pages,
dumps), ``HTML`` the page format.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..core.namespaces import prefixes


@dataclass(frozen=True)
class Format:
    """One serialization: what it is called everywhere it is named."""

    name: str
    label: str
    media_type: str
    extension: str
    aliases: tuple[str, ...] = ()
    also_accepts: tuple[str, ...] = field(default=(), compare=False)
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat | None = field(default=None, compare=False)
    text: bool = True

    def __reduce__(self) -> tuple[object, ...]:
        # Formats cross process boundaries (query workers) by name; pyoxigraph's format objects do not pickle.
        return (by_name, (self.name,))

    @property
    def content_type(self) -> str:
        """The Content-Type header value (with charset for text formats)."""
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type


SPARQL_JSON = Format("json", "SPARQL JSON", "application/sparql-results+json", "srj", ("json", "srj", "sparql-results+json"), ("application/json", "text/javascript", "application/javascript"), ox.QueryResultsFormat.JSON)
SPARQL_XML = Format("xml", "SPARQL XML", "application/sparql-results+xml", "srx", ("xml", "srx", "sparql-results+xml"), ("application/xml", "text/xml"), ox.QueryResultsFormat.XML)
CSV = Format("csv", "CSV", "text/csv", "csv", ("csv",), (), ox.QueryResultsFormat.CSV)
TSV = Format("tsv", "TSV", "text/tab-separated-values", "tsv", ("tsv",), (), ox.QueryResultsFormat.TSV)

TURTLE = Format("turtle", "Turtle", "text/turtle", "ttl", ("turtle", "ttl", "n3", "text/turtle"), ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3"), ox.RdfFormat.TURTLE)
NTRIPLES = Format("ntriples", "N-Triples", "application/n-triples", "nt", ("ntriples", "nt", "n-triples"), ("text/plain",), ox.RdfFormat.N_TRIPLES)
JSONLD = Format("jsonld", "JSON-LD", "application/ld+json", "jsonld", ("jsonld", "json-ld", "json"), ("application/x-json+ld", "application/json"), ox.RdfFormat.JSON_LD)
RDFXML = Format("rdfxml", "RDF/XML", "application/rdf+xml", "rdf", ("rdfxml", "rdf", "xml", "rdf+xml"), ("application/xml", "text/xml"), ox.RdfFormat.RDF_XML)

HTML = Format("html", "HTML", "text/html", "html", ("html", "htm"), ("application/xhtml+xml",))
JSON = Format("json-api", "JSON", "application/json", "json", ("json",))

RESULTS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
GRAPHS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
DOCUMENTS: tuple[Format, ...] = (HTML, TURTLE, JSONLD, NTRIPLES)
"""The documents every resource has (``/film/{id}.html`` ...), in the order pages list them."""

SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
GZIP = "application/gzip"
JAVASCRIPT = "application/javascript"
"""JSONP responses (the reconciliation service's ``callback=``)."""


def by_name(name: str) -> Format:
    """Return a format of the table by its name."""
    for f in (*RESULTS, *GRAPHS, HTML, JSON):
        if f.name == name:
            return f
    raise KeyError(name)


def by_extension(extension: str, offered: Iterable[Format] = DOCUMENTS) -> Format | None:
    """Return the offered format whose file extension this is."""
    for f in offered:
        if f.extension == extension:
            return f
    return None


def serialize_graph(triples: Iterable[ox.Triple], fmt: Format, base_iri: str) -> bytes:
    """Serialize triples with Oxigraph in an RDF format, with the prefix map where it applies."""
    if fmt is JSONLD:
        from . import jsonld

        return jsonld.dumps(triples, base_iri)
    out = io.BytesIO()
    assert isinstance(fmt.oxigraph, ox.RdfFormat), fmt
    kwargs: dict[str, object] = {}
    if fmt in (TURTLE, RDFXML):
        kwargs["prefixes"] = prefixes(base_iri)
    ox.serialize(triples, out, fmt.oxigraph, **kwargs)  # type: ignore[arg-type]
    from .langtag import recase_serialized

    return recase_serialized(out.getvalue())  # Oxigraph lower-cases tags: ru-Latn, as written


def parse_graph(data: bytes | str, fmt: Format, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse RDF in one of the graph formats into triples (no remote fetching)."""
    assert isinstance(fmt.oxigraph, ox.RdfFormat), fmt
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, fmt.oxigraph, base_iri=base_iri)]
