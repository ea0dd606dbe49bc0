"""Namespaces, the prefix map, and the compact JSON-LD context."""

from __future__ import annotations

from .settings import DEFAULT_BASE

SCHEMA = "https://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SH = "http://www.w3.org/ns/shacl#"
SD = "http://www.w3.org/ns/sparql-service-description#"
WD = "http://www.wikidata.org/entity/"


def ontology_ns(base: str = DEFAULT_BASE) -> str:
    """Return the ontology's hash namespace for a base IRI."""
    return f"{base}ontology#"


def prefixes(base: str = DEFAULT_BASE) -> dict[str, str]:
    """Return the prefix map used in serializations and queries."""
    return {
        "fg": ontology_ns(base),
        "film": f"{base}film/",
        "mission": f"{base}mission/",
        "theme": f"{base}theme/",
        "year": f"{base}year/",
        "person": f"{base}person/",
        "work": f"{base}work/",
        "claim": f"{base}claim/",
        "org": f"{base}organization/",
        "country": f"{base}country/",
        "schema": SCHEMA,
        "skos": SKOS,
        "prov": PROV,
        "dcterms": DCTERMS,
        "rdf": RDF,
        "rdfs": RDFS,
        "owl": OWL,
        "xsd": XSD,
        "foaf": FOAF,
        "void": VOID,
        "dcat": DCAT,
        "wd": WD,
    }


def jsonld_context(base: str = DEFAULT_BASE) -> dict[str, object]:
    """Return the compact JSON-LD ``@context``: the prefixes, nothing fetched remotely."""
    ctx: dict[str, object] = {"@base": base}
    ctx.update(prefixes(base))
    return ctx
