"""The resource description service: does a resource exist, is it retired, and what its document says.

Pubby / Trifid style: a resource is looked up by an ASK before it is described;
an id that is not well formed is refused without touching the store. The
document of a resource is its own triples, those of its hash children
(``{base}mission/luna-2#impact`` belongs to ``{base}mission/luna-2``) and of the
blank nodes they point at, plus (optionally) the names and types of what it
links to. Inbound links (who points here) are a separate list, for pages.

Retired ids: a retired IRI carries ``owl:deprecated true`` in the data
(by convention in ``data/retired.ttl``), with ``dcterms:isReplacedBy`` and an
``rdfs:comment`` where known. Such an id answers 410 Gone and is never reused.
No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from ..core import iris
from ..core.errors import Gone, NotFound
from ..core.namespaces import RDF, RDFS, SCHEMA, SKOS
from ..sparql.query import QueryService
from ..store import Row

INBOUND_LIMIT = 500
"""Most inbound links a page lists for its resource and for each hash child (the page says when there are more);
``describe-inbound.rq`` asks for one more, to know."""

LABELS = frozenset((RDF + "type", SCHEMA + "name", RDFS + "label", SKOS + "prefLabel"))
"""The properties of the things a document links to that the document itself carries (their names and types)."""


@dataclass(frozen=True)
class Resource:
    """A resource of the site: its kind, id and canonical IRI."""

    kind: str
    id: str
    iri: str

    @property
    def node(self) -> NamedNode:
        """The canonical IRI as a term."""
        return NamedNode(self.iri)


@dataclass(frozen=True)
class Inbound:
    """One link into a resource: who points (with its names and types), by which property, at what."""

    subject: str
    predicate: str
    target: str
    names: tuple[Literal, ...] = ()
    types: tuple[str, ...] = ()


@dataclass
class Description:
    """What a page needs about one resource: its document, the context of its links, inbound links."""

    resource: Resource
    document: list[Triple]
    context: list[Triple] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)
    inbound_truncated: bool = False


def parse(kind: str, id: str, base_iri: str) -> Resource:
    """Check a kind and id from a path and return the resource; NotFound for a malformed id (no store access)."""
    if kind not in iris.KINDS or not iris.valid_id(id):
        raise NotFound(
            f"no resource /{kind}/{id[:100]} here: ids are lowercase letters, digits and '-'",
            kind=kind,
            id=id[:100],
        )
    return Resource(kind, id, iris.resource_iri(base_iri, kind, id))


def resolve(query: QueryService, kind: str, id: str, root: str = "") -> Resource:
    """Return the resource a path names if it exists; raise NotFound (unknown) or Gone (retired)."""
    resource = parse(kind, id, query.store.base_iri)
    bindings = {"iri": resource.node}
    if not query.ask("resource-exists", bindings):
        raise NotFound(f"there is no {kind} with the id {id!r} in this dataset", kind=kind, id=id, iri=resource.iri)
    retired = query.select("resource-retired", bindings)
    if retired:
        raise retired_error(resource, retired, query.store.base_iri, root)
    return resource


def retired_error(resource: Resource, rows: list[Row], base_iri: str, root: str = "") -> Gone:
    """The 410 error for a retired resource, naming its replacement and the reason where the data gives them."""
    replacement = next((t.value for r in rows if isinstance(t := r.get("replacement"), NamedNode)), None)
    note = next((t.value for r in rows if isinstance(t := r.get("note"), Literal)), None)
    message = f"the {resource.kind} {resource.id!r} was retired; its id is never reused"
    if note:
        message += f". {note}"
    context: dict[str, object] = {"kind": resource.kind, "id": resource.id, "iri": resource.iri}
    if replacement:
        message += f" It is replaced by {replacement}."
        context["replaced_by"] = replacement
        path = iris.local_path(replacement, base_iri, root)
        if path:
            context["replaced_by_path"] = path
    return Gone(message, **context)


def sorted_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Triples without duplicates in a stable order (so a document's bytes, and its ETag, are stable)."""
    return sorted(set(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def hash_children(query: QueryService, iri: str) -> list[str]:
    """The hash children of a resource (``iri#...``) linked with it either way: those it points at, and those
    that point at it (from the site index: a year is pointed at by every record of that year)."""
    out = {row["child"].value for row in query.select("describe-children", {"iri": NamedNode(iri)})}  # type: ignore[union-attr]
    return sorted(out.union(query.hash_children(iri)))


def _or_found(query: QueryService, iri: str, children: list[str] | None) -> list[str]:
    return hash_children(query, iri) if children is None else children


def document_graph(query: QueryService, iri: str, labels: bool = True, children: list[str] | None = None) -> list[Triple]:
    """Return the document graph of a resource, sorted and without duplicates.

    With ``labels=False`` only the triples that belong to this document (its own,
    its hash children's and their blank nodes'): the union of these over all
    resources is the data. With ``labels=True`` (what the site serves) also the
    names and types of the things it links to.
    """
    children = _or_found(query, iri, children)  # once for both parts: a query and an index lookup
    return sorted_triples(_document(query, iri, children) + (_labels(_context(query, iri, children)) if labels else []))


def _document(query: QueryService, iri: str, children: list[str] | None) -> list[Triple]:
    triples = query.construct("describe-document", {"iri": NamedNode(iri)})
    for child in _or_found(query, iri, children):
        triples += query.construct("describe-child", {"iri": NamedNode(child)})
    return triples


def _context(query: QueryService, iri: str, children: list[str] | None) -> list[Triple]:
    """What pages show about the things a document links to (names, types, dates), from the resource and each hash child."""
    node = NamedNode(iri)
    triples: list[Triple] = []
    for target in [iri, *_or_found(query, iri, children)]:
        triples += query.construct("describe-context", {"iri": node, "target": NamedNode(target)})
    return triples


def _labels(context: list[Triple]) -> list[Triple]:
    return [t for t in context if t.predicate.value in LABELS]


def inbound_links(query: QueryService, iri: str, limit: int = INBOUND_LIMIT, children: list[str] | None = None) -> tuple[list[Inbound], bool]:
    """Return who points at a resource (or its hash children) from outside its document, and whether the list was cut."""
    limit = min(limit, INBOUND_LIMIT)  # the query asks for INBOUND_LIMIT + 1 links
    node = NamedNode(iri)
    links: set[tuple[str, str, str]] = set()
    truncated = False
    for target in [iri, *_or_found(query, iri, children)]:
        rows = query.select("describe-inbound", {"iri": node, "target": NamedNode(target)})
        truncated = truncated or len(rows) > limit
        links.update((row["s"].value, row["p"].value, target) for row in rows[:limit])  # type: ignore[union-attr]
    kept = sorted(links)
    truncated = truncated or len(kept) > limit
    kept = kept[:limit]
    names: dict[str, list[Literal]] = {}
    types: dict[str, list[str]] = {}
    subjects = sorted({s for s, _, _ in kept})
    for at in range(0, len(subjects), 100):
        for row in query.select_each("describe-inbound-names", "s", [NamedNode(s) for s in subjects[at:at + 100]]):
            subject, name, type_ = row["s"].value, row.get("name"), row.get("type")  # type: ignore[union-attr]
            if isinstance(name, Literal) and name not in names.setdefault(subject, []):
                names[subject].append(name)
            if isinstance(type_, NamedNode) and type_.value not in types.setdefault(subject, []):
                types[subject].append(type_.value)
    return [Inbound(s, p, t, tuple(names.get(s, ())), tuple(types.get(s, ()))) for s, p, t in kept], truncated


def describe(query: QueryService, resource: Resource) -> Description:
    """Gather everything a page shows about an existing resource."""
    children = hash_children(query, resource.iri)
    context = _context(query, resource.iri, children)
    document = sorted_triples(_document(query, resource.iri, children) + _labels(context))
    inbound, truncated = inbound_links(query, resource.iri, children=children)
    return Description(resource, document, sorted_triples(context), inbound, truncated)


def claims_graph(query: QueryService, iri: str) -> list[Triple]:
    """The claims about a record (or the claim itself), with names, types and dates of what they mention."""
    return sorted_triples(query.construct("resource-claims", {"iri": NamedNode(iri)}))


def context_graph(query: QueryService, iri: str) -> list[Triple]:
    """A resource's document with what pages show about its links (names, types, dates)."""
    children = hash_children(query, iri)
    return sorted_triples(_document(query, iri, children) + _context(query, iri, children))
