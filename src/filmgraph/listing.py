"""Collection pages (``/film/``, ``/mission/``, ...) and the suggestions of a 404 page. No Flask here.

A collection lists the things of a kind's types whose IRIs are of that kind
(``{base}film/...``); in RDF it is the collection's own description where the
data has one (the theme scheme ``{base}theme/``) plus each member's type and
names, as the data states them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from . import iris
from .describe import document_graph, sorted_triples
from .graphview import GraphView, Value
from .namespaces import SKOS, prefixes
from .query import QueryService

LIST_ROWS = 4001
"""The row cap of ``resource-list.rq`` (its LIMIT)."""

MAX_LIST = 2000
"""Most members a collection page lists (it says when there are more)."""

COLLECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "film": (("Films of the list", "fg:FilmRecord"), ("Real films", "fg:Film")),
    "mission": (("Missions", "fg:SpaceMission"), ("Programmes and projects", "fg:Programme")),
    "theme": (("Themes", "skos:Concept"),),
    "year": (("Years", "fg:Year"),),
    "person": (("People", "schema:Person"),),
    "work": (("Works", "schema:CreativeWork"),),
    "claim": (("Claims of the list", "fg:Claim"),),
    "organization": (("Organizations", "schema:Organization"),),
    "country": (("Countries", "schema:Country"),),
}
"""What each collection lists: (heading, type as a prefixed name), per kind."""

TITLES = {
    "film": "Films", "mission": "Missions", "theme": "Themes", "year": "Years", "person": "People",
    "work": "Works", "claim": "Claims", "organization": "Organizations", "country": "Countries",
}
"""The heading of each kind's collection page."""


@dataclass(frozen=True)
class Group:
    """One list on a collection page: a heading, the members as links, whether the list was cut."""

    heading: str
    items: list[Value]
    more: bool


@dataclass(frozen=True)
class Listing:
    """A collection page: its title, the collection's own definition if any, the groups."""

    kind: str
    title: str
    intro: str | None
    groups: list[Group]


def _expand(prefixed: str, base: str) -> str:
    prefix, local = prefixed.split(":", 1)
    return prefixes(base)[prefix] + local


def members(query: QueryService, type_iri: str, prefix: str, limit: int = MAX_LIST) -> tuple[list[tuple[str, Literal | None]], bool]:
    """Things of a type whose IRIs start with ``prefix``, with their English (or first) name, sorted by IRI; and whether the list was cut."""
    names: dict[str, Literal | None] = {}
    rows = sorted(query.select("resource-list", {"type": NamedNode(type_iri)}), key=lambda r: r["thing"].value)  # type: ignore[union-attr]
    for row in rows:
        iri = row["thing"].value  # type: ignore[union-attr]
        if not iri.startswith(prefix):
            continue
        name = row.get("name")
        current = names.get(iri)
        if isinstance(name, Literal) and (current is None or (current.language != "en" and name.language == "en")):
            names[iri] = name
        else:
            names.setdefault(iri, None)
    return list(names.items())[:limit], len(names) > limit or len(rows) >= LIST_ROWS


def listing(query: QueryService, kind: str, root: str = "") -> Listing:
    """The collection page of a kind."""
    base = query.store.base_iri
    prefix = iris.collection_iri(base, kind)
    groups = []
    for heading, type_name in COLLECTIONS[kind]:
        found, more = members(query, _expand(type_name, base), prefix)
        items = [
            Value(name.value if name else iri[len(base):], name.language if name else None, iris.local_path(iri, base, root), iri=iri)
            for iri, name in found
        ]
        if items:
            groups.append(Group(heading, items, more))
    own = GraphView(document_graph(query, prefix, labels=False))
    definition = own.literals(prefix, SKOS + "definition")
    return Listing(kind, TITLES[kind], definition[0].value if definition else None, groups)


def listing_graph(query: QueryService, kind: str) -> list[Triple]:
    """The collection as RDF: its own document (if the data describes it) and its members' types and names."""
    base = query.store.base_iri
    prefix = iris.collection_iri(base, kind)
    triples = document_graph(query, prefix)
    for _, type_name in COLLECTIONS[kind]:
        found = query.construct("resource-list-graph", {"type": NamedNode(_expand(type_name, base))})
        triples += [t for t in found if t.subject.value.startswith(prefix)]  # type: ignore[union-attr]
    return sorted_triples(triples)


def suggestions(query: QueryService, kind: str, id: str, limit: int = 8) -> list[str]:
    """Ids of the same kind that look like ``id`` (close spelling or a shared word), for a 404 page."""
    base = query.store.base_iri
    prefix = iris.collection_iri(base, kind)
    ids = [iri[len(prefix):] for _, type_name in COLLECTIONS[kind] for iri, _ in members(query, _expand(type_name, base), prefix)[0]]
    words = set(id.split("-")) - {"the", "of", "a", "an"}
    close = difflib.get_close_matches(id, ids, n=5, cutoff=0.5)
    sharing = [i for i in ids if words & set(i.split("-"))]
    return list(dict.fromkeys(close + sharing))[:limit]
