"""formats: the one format table and what speaks it (no store, no query service, no Flask).

- ``table``: every media type, file extension and serializer name (``Format``, ``TURTLE``, ``RESULTS``,
  ``by_name``, ``serialize_graph``, ...); the only place media types are named. Its names are this
  package's own, so callers write ``from filmgraph import formats as F`` and ``F.TURTLE``.
- ``negotiate``: content negotiation, a pure function (``choose``).
- ``jsonld`` (documents: framing, profiles, compaction, the streamed dump) and ``jsonld_context``
  (the context, surveyed from the ontology and the data).
- ``langtag``: language tags as written (``ru-Latn``), whatever the serializer made of them.
"""

from .table import (
    CSV,
    DOCUMENTS,
    FORM,
    GRAPHS,
    GZIP,
    HTML,
    JAVASCRIPT,
    JSON,
    JSONLD,
    NTRIPLES,
    RDFXML,
    RESULTS,
    SPARQL_JSON,
    SPARQL_QUERY,
    SPARQL_UPDATE,
    SPARQL_XML,
    TSV,
    TURTLE,
    Format,
    by_extension,
    by_name,
    parse_graph,
    serialize_graph,
)

__all__ = [
    "CSV", "DOCUMENTS", "FORM", "GRAPHS", "GZIP", "HTML", "JAVASCRIPT", "JSON", "JSONLD", "NTRIPLES", "RDFXML",
    "RESULTS", "SPARQL_JSON", "SPARQL_QUERY", "SPARQL_UPDATE", "SPARQL_XML", "TSV", "TURTLE", "Format",
    "by_extension", "by_name", "parse_graph", "serialize_graph",
]
