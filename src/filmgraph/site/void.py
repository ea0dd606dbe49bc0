"""The dataset description (VoID + DCAT) as triples, computed from the data (no Flask).

Every count, class, property and vocabulary is computed from the store with the
named queries ``queries/void-*.rq``; nothing is typed in but the title, the
description, the licence and the publisher. :func:`compute_statistics` is the
expensive part (callers cache it once per process); :func:`describe` is cheap
and takes the public URLs of the request, since the endpoint and dump URLs
depend on the host the site is served under.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pyoxigraph as ox

from .. import formats as F
from ..core.namespaces import DCAT, DCTERMS, FOAF, PROV, RDF, VOID, XSD, ontology_ns, prefixes
from ..sparql.query import QueryService, prefixed_query
from ..truth.rules import Report
from ..store import Bindings, Row, Store, Term

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Soviet space films (filmgraph)"
PUBLISHER_NAME = "The filmgraph project"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
EXAMPLE_CLASSES = ("FilmRecord", "Film", "SpaceMission", "Claim")
"""Classes of the ontology whose first instance is given as a ``void:exampleResource``."""


@dataclass(frozen=True)
class Partition:
    """A class partition (entities of a class) or property partition (triples using a property)."""

    iri: str
    curie: str
    count: int
    anchor: str


@dataclass(frozen=True)
class Statistics:
    """What the data says about its own size and shape."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    properties: int
    classes: int
    class_partitions: tuple[Partition, ...]
    property_partitions: tuple[Partition, ...]
    vocabularies: tuple[str, ...]
    examples: tuple[str, ...]
    stated: tuple[tuple[ox.NamedNode, Term], ...]
    """What the data itself says about the dataset node, if anything."""

    def entities_of(self, class_iri: str) -> int:
        """The number of instances of a class (0 when it has none)."""
        return next((p.count for p in self.class_partitions if p.iri == class_iri), 0)

    def to_json(self) -> str:
        """The statistics as JSON (kept in the site index by the build); terms in N-Triples syntax."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["class_partitions"] = [list(vars(p).values()) for p in self.class_partitions]
        data["property_partitions"] = [list(vars(p).values()) for p in self.property_partitions]
        data["stated"] = [[p.value, str(o)] for p, o in self.stated]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Statistics:
        """The statistics :meth:`to_json` wrote."""
        data = json.loads(text)
        data["class_partitions"] = tuple(Partition(*p) for p in data["class_partitions"])
        data["property_partitions"] = tuple(Partition(*p) for p in data["property_partitions"])
        data["vocabularies"], data["examples"] = tuple(data["vocabularies"]), tuple(data["examples"])
        data["stated"] = tuple((ox.NamedNode(p), _term(o)) for p, o in data["stated"])
        return cls(**data)


def _term(text: str) -> Term:
    """A term from its N-Triples syntax (an IRI, a blank node or a literal)."""
    [quad] = ox.parse(f"<urn:filmgraph:s> <urn:filmgraph:p> {text} .", ox.RdfFormat.N_TRIPLES)
    return quad.object  # type: ignore[return-value]


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


def _int(row: dict[str, Term], name: str) -> int:
    value = row.get(name)
    return int(value.value) if isinstance(value, ox.Literal) else 0


def namespace_of(iri: str) -> str:
    """The namespace of a term: the IRI up to its last ``#`` or ``/``."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut >= 0 else iri


def _curie(iri: str, base_iri: str) -> str:
    for prefix, ns in sorted(prefixes(base_iri).items(), key=lambda x: -len(x[1])):
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_.-]+", iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _anchor(kind: str, iri: str, curie: str) -> str:
    key = curie.replace(":", "-") if curie != iri else hashlib.sha1(iri.encode()).hexdigest()[:12]
    return f"{kind}-{key}"


class _Named:
    """The named queries of a bare store (what :meth:`QueryService.select` does), for the index build."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def select(self, name: str, bindings: Bindings | None = None) -> list[Row]:
        return self.store.select(prefixed_query(name, self.store.base_iri), bindings)


def statistics_of(store: Store) -> Statistics:
    """:func:`compute_statistics` straight over a store (the index build keeps them: they read every triple)."""
    return compute_statistics(_Named(store), store.base_iri)  # type: ignore[arg-type]


def compute_statistics(query: QueryService, base_iri: str) -> Statistics:
    """Run the VoID queries over the store: counts, partitions, vocabularies, examples."""
    space = {"space": ox.Literal(base_iri)}
    counts = query.select("void-counts")[0]
    entity_rows = query.select("void-entities", space)
    entities = _int(entity_rows[0], "entities") if entity_rows else 0
    classes = tuple(
        Partition(r["class"].value, c := _curie(r["class"].value, base_iri), _int(r, "entities"), _anchor("class", r["class"].value, c))
        for r in query.select("void-classes")
    )
    props = tuple(
        Partition(r["property"].value, c := _curie(r["property"].value, base_iri), _int(r, "triples"), _anchor("property", r["property"].value, c))
        for r in query.select("void-properties")
    )
    vocabularies = tuple(sorted({namespace_of(p.iri) for p in (*classes, *props)}))
    fg = ontology_ns(base_iri)
    examples = []
    for name in EXAMPLE_CLASSES:
        rows = query.select("void-example", {**space, "class": ox.NamedNode(fg + name)})
        if rows and "example" in rows[0]:
            examples.append(rows[0]["example"].value)
    stated = tuple(
        (r["p"], r["o"]) for r in query.select("void-dataset-statements", {"dataset": ox.NamedNode(dataset_iri(base_iri))})
    )
    return Statistics(
        triples=_int(counts, "triples"),
        entities=entities,
        distinct_subjects=_int(counts, "subjects"),
        distinct_objects=_int(counts, "objects"),
        properties=_int(counts, "properties"),
        classes=len(classes),
        class_partitions=classes,
        property_partitions=props,
        vocabularies=vocabularies,
        examples=tuple(examples),
        stated=stated,  # type: ignore[arg-type]
    )


def dataset_iri(base_iri: str) -> str:
    """The IRI of the dataset itself."""
    return f"{base_iri}dataset"


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

