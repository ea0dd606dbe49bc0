"""Listings, label search and candidate lookup over the site index (:mod:`filmgraph.store.index`). No Flask here.

Every answer is a few B-tree or FTS5 lookups, whatever the size of the graph:

- a listing page is keyset-paginated on (sort key, IRI): ``after`` is the id of
  the last item of the previous page, so page 1,000 costs what page 1 costs;
- a search normalises the text as reconciliation does (Cyrillic transliterated,
  accents folded, case folded), finds labels whose keys equal it (an index
  lookup) and labels that hold all its words (FTS5, at most ``SEARCH_CAP`` hits
  read; the last word as a prefix when whole words find less than a page),
  and ranks exact before prefix before the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..core import iris
from ..core.errors import BadRequest
from ..store.index import SiteIndex, chunks
from ..store.index_keys import COLLECTIONS, DISPLAY_SOURCES
from ..core.textkeys import loosen, plain_key

PAGE_SIZE = 50
"""Items on one listing page."""

SEARCH_LIMIT = 50
"""Most results one search shows."""

SEARCH_CAP = 1000
"""Most full-text hits one search reads (a query matching more says so and asks for more words)."""

OR_BUDGET = 0.03
"""Seconds a ranked any-word lookup may take before it is given up (common words at a million films)."""

MAX_QUERY = 200
"""Longest search text, characters (longer is refused: no title is that long)."""

_SOURCE_RANK = {s: 0 for s in DISPLAY_SOURCES} | {"originalTitle": 1, "altLabel": 1, "identified": 2}
_SQL_VARS = 500


@dataclass(frozen=True)
class Item:
    """One resource in a listing or among search results."""

    iri: str
    kind: str
    id: str
    label: str | None
    lang: str | None
    year: int | None
    types: tuple[str, ...] = ()
    matched: str | None = None
    """The label a search matched, when it is not the display label (another title, in another script)."""
    matched_lang: str | None = None
    matched_source: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a kind's listing: its items, how many there are in all, and the cursor of the next page."""

    kind: str
    items: list[Item]
    total: int
    after: str | None = None
    next_after: str | None = None
    year: int | None = None
    type: str | None = None


@dataclass(frozen=True)
class Results:
    """A search: the text, the kind it was limited to, the results (best first), whether there were more."""

    query: str
    kind: str | None
    items: list[Item] = field(default_factory=list)
    more: bool = False


def kind_types(kind: str) -> tuple[str, ...]:
    """The collection types of a kind (prefixed names: ``fg:FilmRecord``)."""
    return tuple(t for _, t in COLLECTIONS[kind])


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in COLLECTIONS:
        raise BadRequest(f"kind {kind[:50]!r} is not one of: {', '.join(COLLECTIONS)}", parameter="kind")


def _items(index: SiteIndex, rows: Sequence[tuple[object, ...]], base: str) -> list[Item]:
    """Items from (id, iri, kind, label, lang, year) rows, with their collection types."""
    types: dict[int, list[str]] = {}
    ids = [int(r[0]) for r in rows]  # type: ignore[call-overload]
    for batch in chunks(ids, _SQL_VARS):
        marks = ",".join("?" * len(batch))
        for rid, type_name in index.execute(f"SELECT resource, type FROM member WHERE resource IN ({marks}) ORDER BY type", batch):
            types.setdefault(int(rid), []).append(str(type_name))  # type: ignore[call-overload]
    out = []
    for rid, iri, kind, label, lang, year in rows:
        iri, kind = str(iri), str(kind)
        out.append(Item(iri, kind, iri[len(iris.collection_iri(base, kind)):], label, lang or None, year, tuple(types.get(int(rid), ()))))  # type: ignore[arg-type, call-overload]
    return out


def list_page(index: SiteIndex, base: str, kind: str, after: str | None = None, year: int | None = None,
              type_name: str | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of a kind's members sorted by label: those after the resource ``after`` (an id), of a year or type if given."""
    _check_kind(kind)
    if type_name is not None and type_name not in kind_types(kind):
        raise BadRequest(f"type {type_name[:50]!r} is not listed under /{kind}/; the types are: {', '.join(kind_types(kind))}", parameter="type")
    cursor = ("", "")
    if after:
        if not iris.valid_id(after):
            raise BadRequest(f"after={after[:100]!r} is not an id of a {kind}", parameter="after")
        found = index.execute("SELECT sort_key, iri FROM resource WHERE iri = ? AND kind = ?", (iris.resource_iri(base, kind, after), kind))
        if not found:
            raise BadRequest(f"after={after!r}: there is no {kind} with that id to continue after", parameter="after")
        cursor = (str(found[0][0]), str(found[0][1]))
    columns = "r.id, r.iri, r.kind, r.label, r.lang, r.year"
    if type_name is not None:
        sql = (f"SELECT {columns} FROM member m JOIN resource r ON r.id = m.resource "
               f"WHERE m.type = ? AND (m.sort_key, m.iri) > (?, ?){' AND r.year = ?' if year is not None else ''} "
               "ORDER BY m.sort_key, m.iri LIMIT ?")
        params: list[object] = [type_name, *cursor]
    else:
        sql = (f"SELECT {columns} FROM resource r WHERE r.kind = ?{' AND r.year = ?' if year is not None else ''} "
               "AND (r.sort_key, r.iri) > (?, ?) ORDER BY r.sort_key, r.iri LIMIT ?")
        params = [kind, *([year] if year is not None else []), *cursor]
    if type_name is not None and year is not None:
        params.append(year)
    rows = index.execute(sql, [*params, size + 1])
    items = _items(index, rows[:size], base)
    return Page(kind, items, count(index, kind, year, type_name), after, items[-1].id if len(rows) > size else None, year, type_name)


def count(index: SiteIndex, kind: str, year: int | None = None, type_name: str | None = None) -> int:
    """How many members a listing has in all (kept by the build, or counted on an index for a year)."""
    if year is None:
        return index.count(f"type:{type_name}" if type_name else f"kind:{kind}")
    if type_name is None:
        return int(index.execute("SELECT COUNT(*) FROM resource WHERE kind = ? AND year = ?", (kind, year))[0][0])  # type: ignore[call-overload]
    return int(index.execute("SELECT COUNT(*) FROM member m JOIN resource r ON r.id = m.resource WHERE m.type = ? AND r.year = ?", (type_name, year))[0][0])  # type: ignore[call-overload]


def by_position(index: SiteIndex, base: str, limit: int) -> list[Item]:
    """The first resources by list position (the records of the list, in its order)."""
    rows = index.execute("SELECT id, iri, kind, label, lang, year FROM resource WHERE position IS NOT NULL ORDER BY position, iri LIMIT ?", (limit,))
    return _items(index, rows, base)


def by_date(index: SiteIndex, base: str, type_name: str, limit: int) -> list[tuple[Item, str]]:
    """Members of a type that have a date, earliest first, with the date (for a timeline)."""
    rows = index.execute(
        "SELECT r.id, r.iri, r.kind, r.label, r.lang, r.year, r.date FROM dated d JOIN resource r ON r.id = d.resource "
        "WHERE d.type = ? ORDER BY d.date, d.iri LIMIT ?",
        (type_name, limit),
    )
    return list(zip(_items(index, [r[:6] for r in rows], base), (str(r[6]) for r in rows)))


# -- search ------------------------------------------------------------------------------------


def _words(key: str, prefix: bool) -> list[str]:
    # Keys hold only [a-z0-9 ], so a quoted word is a plain FTS5 string. Only the last word may be a
    # prefix (the one being typed): FTS5 merges the lists of every word a prefix stands for before it
    # can skip through them, which for a common word costs time in proportion to the whole graph.
    # One-letter prefixes would expand to a large part of the vocabulary, so they stay words.
    words = key.split()
    return [f'"{w}"*' if prefix and n == len(words) - 1 and len(w) > 1 else f'"{w}"' for n, w in enumerate(words)]


def match_expression(plain: str, loose: str, kind: str | None = None, prefix: bool = True, any_word: bool = False) -> str:
    """The FTS5 query for a normalised text: every word of its plain or of its loose key (the last one as a prefix)."""
    joiner = " OR " if any_word else " AND "
    alternatives = dict.fromkeys("(" + joiner.join(_words(k, prefix)) + ")" for k in (plain, loose) if k)
    expr = "{keys} : (" + " OR ".join(alternatives) + ")"
    return f'kind : "{kind}" AND {expr}' if kind else expr


def search(index: SiteIndex, base: str, text: str, kind: str | None = None, limit: int = SEARCH_LIMIT) -> Results:
    """Resources whose labels (any title, any script) match the text: exact first, then by how they match and by label."""
    _check_kind(kind)
    if len(text) > MAX_QUERY:
        raise BadRequest(f"search text is {len(text)} characters; at most {MAX_QUERY}", parameter="q")
    plain = plain_key(text)
    if not plain:
        return Results(text, kind)
    loose = loosen(plain)
    kind_sql = " AND r.kind = ?" if kind else ""
    exact = index.execute(
        "SELECT l.resource, l.text, l.lang, l.source, l.plain, l.loose FROM label l JOIN resource r ON r.id = l.resource "
        f"WHERE (l.plain = ? OR l.loose = ?){kind_sql} LIMIT ?",
        [plain, loose, *([kind] if kind else []), SEARCH_CAP],
    )
    sql = ("SELECT l.id, l.resource, l.text, l.lang, l.source, l.plain, l.loose "
           "FROM (SELECT rowid AS id FROM label_fts WHERE label_fts MATCH ? LIMIT ?) h JOIN label l ON l.id = h.id")
    # Whole words first; the last word as a prefix only when they find less than a page.
    found = {row[0]: row[1:] for row in index.execute(sql, (match_expression(plain, loose, kind, prefix=False), SEARCH_CAP))}
    if len(found) < limit:
        found.update((row[0], row[1:]) for row in index.execute(sql, (match_expression(plain, loose, kind), SEARCH_CAP)))
    hits = list(found.values())
    best: dict[int, tuple[tuple[int, ...], tuple[object, ...]]] = {}
    ascii_query = text.isascii()
    for row in [*exact, *hits]:
        rid, label_text, _, source, label_plain, label_loose = row
        how = 0 if label_plain == plain or label_loose == loose else 1 if str(label_plain).startswith(plain) or str(label_loose).startswith(loose) else 2
        # Among equally good labels, the one written as the text was (same spelling, same script) is shown.
        rank = (how, 0 if label_plain == plain else 1, 0 if str(label_text).isascii() == ascii_query else 1, _SOURCE_RANK.get(str(source), 3))
        if int(rid) not in best or rank < best[int(rid)][0]:  # type: ignore[call-overload]
            best[int(rid)] = (rank, row)  # type: ignore[call-overload]
    resources = _resources(index, best)
    ordered = sorted(best, key=lambda rid: (best[rid][0][0], resources[rid][6], resources[rid][1]))
    shown = ordered[:limit]
    items = _items(index, [resources[rid][:6] for rid in shown], base)
    out = []
    for item, rid in zip(items, shown):
        _, (_, label_text, label_lang, source, _, _) = best[rid]
        if label_text != item.label:
            item = Item(item.iri, item.kind, item.id, item.label, item.lang, item.year, item.types, str(label_text), str(label_lang) or None, str(source))
        out.append(item)
    return Results(text, kind, out, len(ordered) > limit or len(hits) >= SEARCH_CAP)


def _resources(index: SiteIndex, ids: Iterable[int]) -> dict[int, tuple[object, ...]]:
    out: dict[int, tuple[object, ...]] = {}
    for batch in chunks(ids, _SQL_VARS):
        marks = ",".join("?" * len(batch))
        for row in index.execute(f"SELECT id, iri, kind, label, lang, year, sort_key FROM resource WHERE id IN ({marks})", batch):
            out[int(row[0])] = row  # type: ignore[call-overload]
    return out


def candidates(index: SiteIndex, text: str, limit: int = 100, kind: str | None = None) -> list[str]:
    """IRIs whose labels may match a reconciliation query: equal keys, then all words (as prefixes), then the rarest shared words."""
    _check_kind(kind)
    plain = plain_key(text)
    if not plain:
        return []
    loose = loosen(plain)
    kind_sql = " AND r.kind = ?" if kind else ""
    found: dict[int, None] = dict.fromkeys(int(rid) for rid, in index.execute(  # type: ignore[call-overload]
        f"SELECT l.resource FROM label l JOIN resource r ON r.id = l.resource WHERE (l.plain = ? OR l.loose = ?){kind_sql} LIMIT ?",
        [plain, loose, *([kind] if kind else []), limit],
    ))
    sql = "SELECT l.resource FROM (SELECT rowid AS id FROM label_fts WHERE label_fts MATCH ? {order} LIMIT ?) h JOIN label l ON l.id = h.id"
    for prefix in (False, True):
        if len(found) < limit:
            for rid, in index.execute(sql.format(order=""), (match_expression(plain, loose, kind, prefix=prefix), limit)):
                found.setdefault(int(rid), None)  # type: ignore[call-overload]
    common = index.common_words
    words = [w for w in loose.split() if len(w) > 1 and w not in common]
    if len(found) < 5 and words:
        # Few share every word: those sharing the rarer ones, as FTS5's bm25 ranks them, if that is quick to
        # know. Ranking every label that holds a common word took a second, and so did a kind in the
        # expression (bm25 counts every label of the kind), so the kind is kept by a join instead.
        expr = match_expression(" ".join(words), "", prefix=False, any_word=True)
        ranked = ("SELECT l.resource FROM label_fts f JOIN label l ON l.id = f.rowid JOIN resource r ON r.id = l.resource "
                  f"WHERE label_fts MATCH ?{' AND r.kind = ?' if kind else ''} ORDER BY f.rank LIMIT ?")
        for rid, in index.execute_bounded(ranked, (expr, *([kind] if kind else []), limit), OR_BUDGET):
            found.setdefault(int(rid), None)  # type: ignore[call-overload]
    chosen = list(found)[:limit]
    resources = _resources(index, chosen)
    return [str(resources[rid][1]) for rid in chosen if rid in resources]


def identified_by(index: SiteIndex, scheme: str, value: str) -> list[str]:
    """IRIs carrying an identifier (``imdb``, ``tt0056352``)."""
    rows = index.execute("SELECT r.iri FROM identifier i JOIN resource r ON r.id = i.resource WHERE i.scheme = ? AND i.value = ?", (scheme, value))
    return [str(r[0]) for r in rows]


def ids_starting(index: SiteIndex, base: str, prefix: str, limit: int) -> list[str]:
    """IRIs of resources whose id (``film/cosmos...``) starts with the prefix, in IRI order."""
    start = base + prefix
    rows = index.execute("SELECT iri FROM resource WHERE iri >= ? AND iri < ? ORDER BY iri LIMIT ?", (start, start + "\U0010ffff", limit))
    return [str(r[0]) for r in rows]
