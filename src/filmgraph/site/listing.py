"""Collection pages (``/film/``, ``/mission/``, ...), search results, and the suggestions of a 404 page. No Flask here.

A collection lists the things of a kind's types whose IRIs are of that kind
(``{base}film/...``), sorted by label, 50 to a page, read from the site index
(:mod:`filmgraph.store.index`, :mod:`filmgraph.site.search`): page ``after=x`` starts
after the member whose id is ``x`` (keyset pagination, as fast at the last page
as at the first). A page can be limited to one year (``year=1960``) or one of
the kind's types (``type=fg:Film``). In RDF a page is the collection's own
description where the data has one (the theme scheme ``{base}theme/``, on the
first page) plus each member's types and names, as the data states them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pyoxigraph import NamedNode, Triple

from ..core import iris
from . import search
from .describe import document_graph, sorted_triples
from .graphview import GraphView, Value
from ..store.index import SiteIndex
from ..store.index_keys import COLLECTIONS
from ..core.namespaces import SKOS
from ..sparql.query import QueryService

__all__ = ["COLLECTIONS", "TITLES", "Listing", "ListItem", "listing", "listing_graph", "listing_json", "search_json", "suggestions"]

TITLES = {
    "film": "Films", "mission": "Missions", "theme": "Themes", "year": "Years", "person": "People",
    "work": "Works", "claim": "Claims", "organization": "Organizations", "country": "Countries",
}
"""The heading of each kind's collection page."""

TYPE_WORDS = {type_name: heading for groups in COLLECTIONS.values() for heading, type_name in groups}
"""What a collection type is called on pages (``fg:FilmRecord`` -> ``Films of the list``)."""


@dataclass(frozen=True)
class ListItem:
    """One member on a page: a link, its year, what kind of member it is, and the title a search matched."""

    link: Value
    year: int | None
    types: list[str]
    """What the page calls its types (``Films of the list``)."""
    type_names: list[str]
    """Its collection types as prefixed names (``fg:FilmRecord``)."""
    matched: Value | None = None


@dataclass(frozen=True)
class Listing:
    """A collection page: its title, the collection's own definition, the members, and where the pages go."""

    kind: str
    title: str
    intro: str | None
    items: list[ListItem]
    total: int
    year: int | None
    type: str | None
    filters: list[tuple[str, str, bool]]
    """(label, href, current) for the type filters of a kind with several types."""
    next_href: str | None
    first_href: str | None


def _item(item: search.Item, base: str, root: str) -> ListItem:
    link = Value(item.label or item.iri[len(base):], item.lang if item.label else None, iris.local_path(item.iri, base, root), iri=item.iri)
    matched = Value(item.matched, item.matched_lang) if item.matched else None
    return ListItem(link, item.year, [TYPE_WORDS.get(t, t) for t in item.types], list(item.types), matched)


def page_href(kind: str, root: str = "", **params: Any) -> str:
    """The path of a collection page with its parameters (those that are set)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{root.rstrip('/')}/{kind}/" + (f"?{query}" if query else "")


def listing(query: QueryService, index: SiteIndex, kind: str, root: str = "", after: str | None = None, year: int | None = None,
            type_name: str | None = None, extra: dict[str, str] | None = None) -> Listing:
    """One page of a kind's collection; ``extra`` parameters (a format) are kept in its links."""
    base = query.store.base_iri
    page = search.list_page(index, base, kind, after, year, type_name)
    intro = None
    if not after:
        own = GraphView(document_graph(query, iris.collection_iri(base, kind), labels=False))
        definition = own.literals(iris.collection_iri(base, kind), SKOS + "definition")
        intro = definition[0].value if definition else None
    keep = dict(extra or {})
    filters = []
    if len(COLLECTIONS[kind]) > 1:
        filters.append(("All", page_href(kind, root, year=year, **keep), type_name is None))
        filters += [(heading, page_href(kind, root, year=year, type=t, **keep), type_name == t) for heading, t in COLLECTIONS[kind]]
    next_href = page_href(kind, root, year=year, type=type_name, after=page.next_after, **keep) if page.next_after else None
    first_href = page_href(kind, root, year=year, type=type_name, **keep) if after else None
    title = TITLES[kind] + (f" of {year}" if year is not None else "")
    return Listing(kind, title, intro, [_item(i, base, root) for i in page.items], page.total, year, type_name, filters, next_href, first_href)


def listing_json(page: Listing, base: str) -> dict[str, Any]:
    """A collection page as plain JSON: the members with ids, IRIs, paths, labels, years and types; the next page."""
    return {
        "kind": page.kind,
        "total": page.total,
        "year": page.year,
        "type": page.type,
        "items": [_item_json(i, base) for i in page.items],
        "next": page.next_href,
        "first": page.first_href,
    }


def _item_json(item: ListItem, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": (item.link.iri or "")[len(base):],
        "iri": item.link.iri,
        "href": item.link.href,
        "label": item.link.text,
        "lang": item.link.lang,
        "year": item.year,
        "types": item.type_names,
    }
    if item.matched is not None:
        out["matched"] = {"label": item.matched.text, "lang": item.matched.lang}
    return out


def listing_graph(query: QueryService, index: SiteIndex, kind: str, after: str | None = None, year: int | None = None,
                  type_name: str | None = None) -> list[Triple]:
    """One page of the collection as RDF: its own document (first page) and the page's members' types and names."""
    base = query.store.base_iri
    page = search.list_page(index, base, kind, after, year, type_name)
    triples = [] if after else document_graph(query, iris.collection_iri(base, kind))
    for item in page.items:
        triples += query.construct("listing-member", {"thing": NamedNode(item.iri)})
    return sorted_triples(triples)


@dataclass(frozen=True)
class Found:
    """A search page: the text, the kind it was limited to, the results, whether there were more."""

    query: str
    kind: str | None
    items: list[ListItem]
    more: bool


def found(index: SiteIndex, base: str, text: str, kind: str | None = None, root: str = "") -> Found:
    """Search the labels of every resource (or of one kind)."""
    results = search.search(index, base, text, kind)
    return Found(results.query, kind, [_item(i, base, root) for i in results.items], results.more)


def search_json(results: Found, base: str) -> dict[str, Any]:
    """Search results as plain JSON."""
    return {"query": results.query, "kind": results.kind, "more": results.more, "items": [_item_json(i, base) for i in results.items]}


def suggestions(index: SiteIndex, base: str, kind: str, id: str, limit: int = 8) -> list[str]:
    """Ids of the same kind that look like ``id`` (close spelling or a shared word), for a 404 page."""
    prefix = iris.collection_iri(base, kind)
    words = [w for w in id.split("-") if w and w not in {"the", "of", "a", "an"}]
    found_iris = search.ids_starting(index, base, f"{kind}/{words[0] if words else id[:3]}", 200)
    if words:
        text = " ".join(words)
        found_iris += [i.iri for i in search.search(index, base, text, kind, limit=100).items]
        found_iris += search.candidates(index, text, 100)
    ids = list(dict.fromkeys(i[len(prefix):] for i in found_iris if i.startswith(prefix)))
    close = difflib.get_close_matches(id, ids, n=5, cutoff=0.5)
    sharing = [i for i in ids if set(words) & set(i.split("-"))]
    return list(dict.fromkeys(close + sharing))[:limit]
