"""The dataset description (VoID + DCAT) as triples, computed from the data (no Flask).

Every count, class, property and vocabulary is computed from the store with the
named queries ``queries/void-*.rq`` (:mod:`filmgraph.store.statistics`); nothing is typed in but the title, the
description, the licence and the publisher. :func:`compute_statistics` is the
expensive part (callers cache it once per process); :func:`describe` is cheap
and takes the public URLs of the request, since the endpoint and dump URLs
depend on the host the site is served under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pyoxigraph as ox

from .. import formats as F
from ..core.namespaces import DCAT, DCTERMS, FOAF, PROV, RDF, VOID, XSD, ontology_ns
from ..store.statistics import Partition, Statistics, compute_statistics, dataset_iri, namespace_of, statistics_of  # noqa: F401 (the description's statistics, computed by the store)
from ..truth.rules import Report

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Soviet space films (filmgraph)"
PUBLISHER_NAME = "The filmgraph project"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class Distribution:
    """One downloadable file of the dataset, with its public URL."""

    anchor: str
    title: str
    url: str
    media_type: str
    format: F.Format
    gzip: bool
    byte_size: int | None


FINDINGS_LISTED = 100
"""Most findings of one rule listed in the description (each rule states how many it made): on generated
data at 10^4 films the rules make thousands, and the page grew to 12 MB."""


def report_iri(base_iri: str) -> str:
    """The IRI of the consistency report."""
    return f"{base_iri}dataset/consistency"


@dataclass(frozen=True)
class Description:
    """Everything the dataset description says; :meth:`triples` is its RDF, the HTML page shows the same."""

    base_iri: str
    public_url: str
    stats: Statistics
    distributions: tuple[Distribution, ...]
    report: Report
    modified: datetime

    @property
    def iri(self) -> str:
        """The dataset's IRI."""
        return dataset_iri(self.base_iri)

    @property
    def title(self) -> str:
        """The dataset's title."""
        return TITLE

    @property
    def sparql_endpoint(self) -> str:
        """The public URL of the SPARQL endpoint."""
        return f"{self.public_url}sparql"

    @property
    def source(self) -> str:
        """The curated list the data is derived from."""
        return f"{self.base_iri}work/curated-list"

    @property
    def description(self) -> str:
        """The dataset's description text (its counts computed, not typed)."""
        records = self.stats.entities_of(ontology_ns(self.base_iri) + "FilmRecord")
        claims = self.stats.entities_of(ontology_ns(self.base_iri) + "Claim")
        return (
            f"The {records} film records of a machine-written list of 'Soviet space films', published as records "
            "of the list, never silently corrected or trusted: each of its "
            f"{claims} checkable statements is a claim with an assessment (supported, contradicted or unverified), "
            "a note and evidence. Alongside: the real films the records match or may be confused with, and the real "
            "space missions with their dates. The list is machine-written: most of its entries match no real film and "
            "several of its facts are wrong or impossible; a consistency report, computed by rules over the data, "
            "lists every claim whose timing is impossible."
        )

    def triples(self) -> list[ox.Triple]:
        """The description as RDF: VoID, DCAT, DCTERMS, PROV, and the consistency report."""
        ds = ox.NamedNode(self.iri)
        out: list[ox.Triple] = []

        def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
            out.append(ox.Triple(s, ox.NamedNode(p), o))

        def iri(value: str) -> ox.NamedNode:
            return ox.NamedNode(value)

        def integer(n: int, datatype: str = XSD + "integer") -> ox.Literal:
            return ox.Literal(str(n), datatype=iri(datatype))

        def text(value: str) -> ox.Literal:
            return ox.Literal(value, language="en")

        add(ds, RDF + "type", iri(VOID + "Dataset"))
        add(ds, RDF + "type", iri(DCAT + "Dataset"))
        add(ds, DCTERMS + "title", text(self.title))
        add(ds, DCTERMS + "description", text(self.description))
        add(ds, DCTERMS + "license", iri(LICENSE))
        publisher = iri(f"{self.iri}#publisher")
        add(ds, DCTERMS + "publisher", publisher)
        add(ds, DCTERMS + "creator", publisher)
        add(publisher, RDF + "type", iri(FOAF + "Organization"))
        add(publisher, FOAF + "name", ox.Literal(PUBLISHER_NAME))
        modified = ox.Literal(self.modified.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=iri(XSD + "dateTime"))
        stated = {p.value for p, _ in self.stats.stated}
        if DCTERMS + "created" not in stated:
            add(ds, DCTERMS + "created", modified)  # this build of the data; the data may state an earlier date
        add(ds, DCTERMS + "modified", modified)
        add(ds, PROV + "wasDerivedFrom", iri(self.source))
        add(ds, DCTERMS + "source", iri(self.source))
        add(ds, FOAF + "homepage", iri(self.public_url))
        add(ds, DCAT + "landingPage", iri(self.public_url))
        for p, o in self.stats.stated:
            out.append(ox.Triple(ds, p, o))

        add(ds, VOID + "sparqlEndpoint", iri(self.sparql_endpoint))
        add(ds, VOID + "uriSpace", ox.Literal(self.base_iri))
        for fmt in F.GRAPHS:
            add(ds, VOID + "feature", iri(format_iri(fmt)))
        service = iri(self.sparql_endpoint)
        add(service, RDF + "type", iri(DCAT + "DataService"))
        add(service, DCAT + "endpointURL", service)
        add(service, DCAT + "servesDataset", ds)
        add(service, DCTERMS + "conformsTo", iri("https://www.w3.org/TR/sparql11-protocol/"))
        for d in self.distributions:
            node = iri(f"{self.iri}#{d.anchor}")
            add(ds, VOID + "dataDump", iri(d.url))
            add(ds, DCAT + "distribution", node)
            add(node, RDF + "type", iri(DCAT + "Distribution"))
            add(node, DCTERMS + "title", text(d.title))
            add(node, DCAT + "downloadURL", iri(d.url))
            add(node, DCAT + "accessURL", iri(d.url))
            add(node, DCAT + "mediaType", iri(IANA_MEDIA_TYPES + d.format.media_type))
            add(node, DCTERMS + "license", iri(LICENSE))
            if d.gzip:
                add(node, DCAT + "compressFormat", iri(IANA_MEDIA_TYPES + d.media_type))
            if d.byte_size is not None:
                add(node, DCAT + "byteSize", integer(d.byte_size, XSD + "nonNegativeInteger"))

        s = self.stats
        for prop, n in (("triples", s.triples), ("entities", s.entities), ("distinctSubjects", s.distinct_subjects),
                        ("distinctObjects", s.distinct_objects), ("properties", s.properties), ("classes", s.classes)):
            add(ds, VOID + prop, integer(n))
        for v in s.vocabularies:
            add(ds, VOID + "vocabulary", iri(v))
        for e in s.examples:
            add(ds, VOID + "exampleResource", iri(e))
        for part in s.class_partitions:
            node = iri(f"{self.iri}#{part.anchor}")
            add(ds, VOID + "classPartition", node)
            add(node, VOID + "class", iri(part.iri))
            add(node, VOID + "entities", integer(part.count))
        for part in s.property_partitions:
            node = iri(f"{self.iri}#{part.anchor}")
            add(ds, VOID + "propertyPartition", node)
            add(node, VOID + "property", iri(part.iri))
            add(node, VOID + "triples", integer(part.count))

        report = iri(report_iri(self.base_iri))
        add(ds, ontology_ns(self.base_iri) + "consistencyReport", report)
        add(report, PROV + "wasDerivedFrom", ds)
        out.extend(self.report.to_triples(self.base_iri, FINDINGS_LISTED))
        return out


def format_iri(fmt: F.Format) -> str:
    """The W3C format IRI (``http://www.w3.org/ns/formats/...``) of an RDF format."""
    assert isinstance(fmt.oxigraph, ox.RdfFormat), fmt
    value: str = fmt.oxigraph.iri
    # Oxigraph 0.5 names JSON-LD https://www.w3.org/ns/formats/data/JSON-LD; the registry's IRI is http://www.w3.org/ns/formats/JSON-LD.
    if value.startswith(_OXIGRAPH_DATA_FORMATS):
        value = W3C_FORMATS + value[len(_OXIGRAPH_DATA_FORMATS):]
    return value


W3C_FORMATS = "http://www.w3.org/ns/formats/"
_OXIGRAPH_DATA_FORMATS = "https://www.w3.org/ns/formats/data/"


def distribution_anchor(filename: str) -> str:
    """The fragment naming a download's distribution node (``filmgraph.ttl.gz`` -> ``dump-filmgraph-ttl-gz``)."""
    return "dump-" + re.sub(r"[^A-Za-z0-9]+", "-", filename).strip("-")

