"""The dataset's statistics (VoID counts, partitions, vocabularies, examples), computed from the store.

Every count, class, property and vocabulary is computed with the named queries
``queries/void-*.rq``. :func:`compute_statistics` reads every triple, so the
index build keeps the result (:meth:`filmgraph.store.index.SiteIndex.statistics`)
and a site computes it at most once per process; the dataset description
(:mod:`filmgraph.site.void`) says it in VoID and DCAT.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import pyoxigraph as ox

from ..core.dataset import Bindings, Row, Store, Term
from ..core.namespaces import ontology_ns, prefixes
from ..sparql.query import QueryService, prefixed_query

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
