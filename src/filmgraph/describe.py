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

from . import iris
from .errors import Gone, NotFound
from .query import QueryService
from .store import Row

INBOUND_LIMIT = 500
"""Most inbound links a page lists (the page says when there are more)."""

INBOUND_ROWS = 5000
"""The row cap of ``describe-inbound.rq`` (its LIMIT); reaching it means the list was cut."""


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


def document_graph(query: QueryService, iri: str, labels: bool = True) -> list[Triple]:
    """Return the document graph of a resource, sorted and without duplicates.

    With ``labels=False`` only the triples that belong to this document (its own,
    its hash children's and their blank nodes'): the union of these over all
    resources is the data. With ``labels=True`` (what the site serves) also the
    names and types of the things it links to.
    """
    bindings = {"iri": NamedNode(iri)}
    triples = query.construct("describe-document", bindings)
    if labels:
        triples += query.construct("describe-labels", bindings)
    return sorted_triples(triples)


def inbound_links(query: QueryService, iri: str, limit: int = INBOUND_LIMIT) -> tuple[list[Inbound], bool]:
    """Return who points at a resource (or its hash children) from outside its document, and whether the list was cut."""
    grouped: dict[tuple[str, str, str], tuple[list[Literal], list[str]]] = {}
    rows = query.select("describe-inbound", {"iri": NamedNode(iri)})
    for row in rows:
        key = (row["s"].value, row["p"].value, row["target"].value)  # type: ignore[union-attr]
        names, types = grouped.setdefault(key, ([], []))
        name, type_ = row.get("name"), row.get("type")
        if isinstance(name, Literal) and name not in names:
            names.append(name)
        if isinstance(type_, NamedNode) and type_.value not in types:
            types.append(type_.value)
    links = [Inbound(s, p, t, tuple(n), tuple(ty)) for (s, p, t), (n, ty) in sorted(grouped.items())]
    return links[:limit], len(links) > limit or len(rows) >= INBOUND_ROWS


def describe(query: QueryService, resource: Resource) -> Description:
    """Gather everything a page shows about an existing resource."""
    bindings = {"iri": resource.node}
    document = document_graph(query, resource.iri)
    context = sorted_triples(query.construct("describe-context", bindings))
    inbound, truncated = inbound_links(query, resource.iri)
    return Description(resource, document, context, inbound, truncated)


def claims_graph(query: QueryService, iri: str) -> list[Triple]:
    """The claims about a record (or the claim itself), with names, types and dates of what they mention."""
    return sorted_triples(query.construct("resource-claims", {"iri": NamedNode(iri)}))


def context_graph(query: QueryService, iri: str) -> list[Triple]:
    """A resource's document with what pages show about its links (names, types, dates)."""
    return sorted_triples(document_graph(query, iri) + query.construct("describe-context", {"iri": NamedNode(iri)}))
