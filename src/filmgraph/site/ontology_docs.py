"""The ontology as configured, and a documentation model of it for the HTML page (no Flask).

pyLODE was the first choice for the HTML; its only release on the registry
here (3.4.1) fails on import (it reads a ``pyproject.toml`` that its wheel does
not ship), so the page is rendered from this model by a Jinja template instead.
Every term of the ontology's own namespace gets a section whose anchor is its
local name, so a term IRI ``{base}ontology#Film`` lands on ``id="Film"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from ..core.namespaces import DCTERMS, FOAF, ontology_ns, prefixes
from ..store.loader import read_triples, rebase

VANN = "http://purl.org/vocab/vann/"
_EXTRA_PREFIXES = {"vann": VANN, "sh": "http://www.w3.org/ns/shacl#"}

SECTIONS: tuple[tuple[str, str, tuple[rdflib.URIRef, ...]], ...] = (
    ("sec-classes", "Classes", (OWL.Class, RDFS.Class)),
    ("sec-object-properties", "Object properties", (OWL.ObjectProperty,)),
    ("sec-datatype-properties", "Datatype properties", (OWL.DatatypeProperty,)),
    ("sec-annotation-properties", "Annotation properties", (OWL.AnnotationProperty,)),
    ("sec-properties", "Other properties", (RDF.Property,)),
    ("sec-individuals", "Named individuals", (OWL.NamedIndividual,)),
)

# Predicates shown in their own rows (or not at all); every other statement about a term is listed too.
_SHOWN = {RDF.type, RDFS.label, RDFS.comment, RDFS.isDefinedBy, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
          OWL.equivalentClass, OWL.disjointWith, OWL.inverseOf, OWL.oneOf, OWL.equivalentProperty}


def load_ontology(paths: Sequence[Path], base_iri: str) -> list[ox.Triple]:
    """Read the ontology files as configured (the default base rewritten to ``base_iri``)."""
    return [t for p in paths for t in rebase(list(read_triples(Path(p))), base_iri)]


@dataclass(frozen=True)
class Value:
    """One value shown on the page: a link (local anchor or outside IRI) or a literal."""

    text: str
    href: str | None = None
    lang: str | None = None
    title: str | None = None


@dataclass
class Term:
    """One term of the ontology's namespace, with the rows of its section."""

    iri: str
    anchor: str
    label: str
    comment: str
    curie: str
    rows: list[tuple[str, list[Value]]] = field(default_factory=list)


@dataclass
class Section:
    """A group of terms (classes, object properties, ...)."""

    id: str
    title: str
    terms: list[Term]


@dataclass
class OntologyDoc:
    """What the documentation page shows."""

    iri: str
    namespace: str
    title: str
    description: str
    metadata: list[tuple[str, list[Value]]]
    sections: list[Section]
    namespaces: list[tuple[str, str]]

    @property
    def anchors(self) -> list[str]:
        """Every term anchor on the page."""
        return [t.anchor for s in self.sections for t in s.terms]


def to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """Copy Oxigraph triples into an rdflib graph (small graphs: the ontology, descriptions)."""
    g = rdflib.Graph()
    g.parse(data="".join(f"{t} .\n" for t in triples), format="nt")
    return g


class _Builder:
    def __init__(self, graph: rdflib.Graph, base_iri: str) -> None:
        self.g = graph
        self.ns = ontology_ns(base_iri)
        self.prefixes = {**prefixes(base_iri), **_EXTRA_PREFIXES}
        self._by_ns = sorted(((ns, p) for p, ns in self.prefixes.items()), key=lambda x: -len(x[0]))

    def curie(self, iri: str) -> str:
        for ns, p in self._by_ns:
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{p}:{iri[len(ns):]}"
        return iri

    def text(self, subject: rdflib.term.Node, predicate: rdflib.URIRef) -> str:
        values = list(self.g.objects(subject, predicate))
        for lit in values:
            if isinstance(lit, rdflib.Literal) and lit.language in (None, "en"):
                return str(lit)
        return str(values[0]) if values else ""

    def own(self, node: rdflib.term.Node) -> bool:
        return isinstance(node, rdflib.URIRef) and str(node).startswith(self.ns) and len(str(node)) > len(self.ns)

    def value(self, node: rdflib.term.Node) -> Value:
        if isinstance(node, rdflib.URIRef):
            iri = str(node)
            if self.own(node):
                label = self.text(node, RDFS.label)
                return Value(self.curie(iri), "#" + iri[len(self.ns):], title=label or None)
            return Value(self.curie(iri), iri)
        if isinstance(node, rdflib.BNode):
            return Value(self.expression(node))
        assert isinstance(node, rdflib.Literal)
        return Value(str(node), lang=node.language)

    def expression(self, node: rdflib.BNode) -> str:
        """A readable form of an anonymous class or agent."""
        for pred, joiner in ((OWL.unionOf, " or "), (OWL.intersectionOf, " and ")):
            lst = self.g.value(node, pred)
            if lst is not None:
                return "(" + joiner.join(self._name(x) for x in Collection(self.g, lst)) + ")"
        lst = self.g.value(node, OWL.oneOf)
        if lst is not None:
            return "one of {" + ", ".join(self._name(x) for x in Collection(self.g, lst)) + "}"
        name = self.g.value(node, FOAF_NAME) or self.g.value(node, RDFS.label)
        return str(name) if name is not None else "(anonymous)"

    def _name(self, node: rdflib.term.Node) -> str:
        if isinstance(node, rdflib.URIRef):
            return self.curie(str(node))
        if isinstance(node, rdflib.BNode):
            return self.expression(node)
        return str(node)

    def values(self, nodes: Iterable[rdflib.term.Node]) -> list[Value]:
        return sorted((self.value(n) for n in set(nodes)), key=lambda v: v.text.lower())

    def members(self, node: rdflib.term.Node) -> set[rdflib.term.Node]:
        """A class node and, for an anonymous union, the classes it unites."""
        out = {node}
        if isinstance(node, rdflib.BNode):
            lst = self.g.value(node, OWL.unionOf)
            if lst is not None:
                out.update(Collection(self.g, lst))
        return out


FOAF_NAME = rdflib.URIRef(FOAF + "name")


def build_doc(triples: Iterable[ox.Triple], base_iri: str) -> OntologyDoc:
    """Build the documentation model of an ontology graph."""
    g = to_rdflib(triples)
    b = _Builder(g, base_iri)
    ns = b.ns
    onto = next((s for s in g.subjects(RDF.type, OWL.Ontology) if isinstance(s, rdflib.URIRef)), rdflib.URIRef(ns.rstrip("#")))
    terms = sorted({s for s in g.subjects() if b.own(s)}, key=lambda s: str(s).lower())
    sections = [Section(sid, title, []) for sid, title, _ in SECTIONS]
    for s in terms:
        types = set(g.objects(s, RDF.type))
        index = next((i for i, (_, _, kinds) in enumerate(SECTIONS) if types & set(kinds)), None)
        if index is None:  # typed only with a class of its own namespace: an individual
            index = len(SECTIONS) - 1
        sections[index].terms.append(_term(b, s, types, SECTIONS[index][2]))
    metadata = _metadata(b, onto)
    return OntologyDoc(
        iri=str(onto),
        namespace=ns,
        title=b.text(onto, rdflib.URIRef(DCTERMS + "title")) or b.text(onto, RDFS.label) or "Ontology",
        description=b.text(onto, rdflib.URIRef(DCTERMS + "description")) or b.text(onto, RDFS.comment),
        metadata=metadata,
        sections=[s for s in sections if s.terms],
        namespaces=sorted(b.prefixes.items()),
    )


def _term(b: _Builder, s: rdflib.URIRef, types: set[rdflib.term.Node], kinds: tuple[rdflib.URIRef, ...]) -> Term:
    g = b.g
    iri = str(s)
    t = Term(iri, iri[len(b.ns):], b.text(s, RDFS.label) or iri[len(b.ns):], b.text(s, RDFS.comment), b.curie(iri))
    rows = t.rows

    def add(label: str, nodes: Iterable[rdflib.term.Node]) -> None:
        vals = b.values(nodes)
        if vals:
            rows.append((label, vals))

    add("Type", [x for x in types if x not in kinds])
    add("Subclass of", g.objects(s, RDFS.subClassOf))
    add("Superclass of", g.subjects(RDFS.subClassOf, s))
    add("Equivalent to", [*g.objects(s, OWL.equivalentClass), *g.objects(s, OWL.equivalentProperty)])
    add("Disjoint with", [*g.objects(s, OWL.disjointWith), *g.subjects(OWL.disjointWith, s)])
    for lst in g.objects(s, OWL.oneOf):
        add("One of", Collection(g, lst))
    add("Instances", [x for x in g.subjects(RDF.type, s) if b.own(x)])
    add("Subproperty of", g.objects(s, RDFS.subPropertyOf))
    add("Superproperty of", g.subjects(RDFS.subPropertyOf, s))
    add("Inverse of", [*g.objects(s, OWL.inverseOf), *g.subjects(OWL.inverseOf, s)])
    add("Domain", g.objects(s, RDFS.domain))
    add("Range", g.objects(s, RDFS.range))
    add("In domain of", [p for p, d in g.subject_objects(RDFS.domain) if s in b.members(d)])
    add("In range of", [p for p, r in g.subject_objects(RDFS.range) if s in b.members(r)])
    others: dict[str, list[rdflib.term.Node]] = {}
    for p, o in g.predicate_objects(s):
        if p not in _SHOWN:
            others.setdefault(b.curie(str(p)), []).append(o)
    for label, nodes in sorted(others.items()):
        add(label, nodes)
    return t


def _metadata(b: _Builder, onto: rdflib.URIRef) -> list[tuple[str, list[Value]]]:
    g = b.g
    rows: list[tuple[str, list[Value]]] = [("IRI", [Value(str(onto), str(onto))])]
    named = {
        OWL.versionIRI: "Version IRI",
        OWL.versionInfo: "Version",
        rdflib.URIRef(DCTERMS + "license"): "Licence",
        rdflib.URIRef(DCTERMS + "creator"): "Creator",
        rdflib.URIRef(DCTERMS + "publisher"): "Publisher",
        rdflib.URIRef(DCTERMS + "created"): "Created",
        rdflib.URIRef(DCTERMS + "modified"): "Modified",
        rdflib.URIRef(VANN + "preferredNamespacePrefix"): "Preferred prefix",
        rdflib.URIRef(VANN + "preferredNamespaceUri"): "Namespace",
        OWL.imports: "Imports",
    }
    skip = {RDF.type, RDFS.label, RDFS.comment, rdflib.URIRef(DCTERMS + "title"), rdflib.URIRef(DCTERMS + "description")}
    for p, label in named.items():
        vals = b.values(g.objects(onto, p))
        if vals:
            rows.append((label, vals))
    for p in sorted(set(g.predicates(onto)) - set(named) - skip, key=str):
        rows.append((b.curie(str(p)), b.values(g.objects(onto, p))))
    if not any(label == "Namespace" for label, _ in rows):
        rows.append(("Namespace", [Value(b.ns)]))
    return rows

