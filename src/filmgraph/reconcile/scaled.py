"""Reconciliation over a large store: candidates from the site index, entities read from the store when needed.

The full label index (:class:`~filmgraph.reconcile.matching.LabelIndex` over
:func:`~filmgraph.reconcile.index.read_entries`) reads every matchable entity
and every title at first use: seconds at ten thousand films, minutes and
gigabytes at a million. Past ``FULL_INDEX_MAX`` matchable entities the service
uses :class:`ScaledLabelIndex` instead. For each query the site index
(:func:`filmgraph.site.search.candidates`: equal keys, then every word as a prefix,
then the rarest shared words) proposes at most ``CANDIDATES`` entities of the
kind the query's type allows; their facts are read from the store with the
entity bound (kept in a bounded cache), and the same :class:`LabelIndex` code
scores them over that small set, so scores, features and ``match`` mean what
they mean on a small store. What it gives up: a title that shares no word or
word prefix with the query (a misspelt word) is not proposed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..core import iris
from ..site import search as site_search
from ..store.index import SiteIndex
from ..store import Store
from .index import Entry, describe, local_id, read_some
from .matching import Candidate, LabelIndex, Query, split_year

FULL_INDEX_MAX = 2_000
"""Most matchable entities for which the whole label index is read into memory. Above it the site index answers:
at 10^4 generated films (17,000 entities) reading them all took 4.3 s in every process, and a batch of 10
queries scored them all in 140 ms, against 3.5 ms through the site index."""

CANDIDATES = 30
"""Entities proposed by the site index for one query."""

CACHE = 20_000
"""Entities kept in memory between queries."""

MATCHABLE = ("fg:FilmRecord", "fg:Film", "fg:SpaceMission", "fg:Programme", "schema:Person", "schema:CreativeWork")
"""The site index's collection types of what reconciliation matches."""

KIND_OF_TYPE = {"film": "film", "film-record": "film", "real-film": "film", "mission": "mission", "person": "person", "work": "work"}
"""The site kind a reconciliation type lives under."""


def matchable(site: SiteIndex) -> int:
    """How many matchable entities the site index counts."""
    return sum(site.count(f"type:{t}") for t in MATCHABLE)


class LazyEntries(Mapping[str, Entry]):
    """Entities by id, read from the store on first use and kept in a bounded cache (least recently used go first)."""

    def __init__(self, store: Store, size: int = CACHE) -> None:
        self.store = store
        self.size = size
        self._cache: OrderedDict[str, Entry | None] = OrderedDict()
        self._described: set[str] = set()
        self._lock = threading.Lock()

    def raw(self, id: str) -> Entry | None:
        """The entity without its description (what another entity's description needs of it)."""
        with self._lock:
            if id in self._cache:
                self._cache.move_to_end(id)
                return self._cache[id]
        name = iris.split(self.store.base_iri + id, self.store.base_iri)
        entry = None
        if name is not None and name.fragment is None:
            entry = read_some(self.store, [self.store.base_iri + id]).get(id)
        with self._lock:
            self._cache[id] = entry
            while len(self._cache) > self.size:
                gone, _ = self._cache.popitem(last=False)
                self._described.discard(gone)
        return entry

    def get(self, id: str, default: Any = None) -> Any:  # type: ignore[override]
        """The entity with its description, or ``default`` when there is no matchable entity with this id."""
        entry = self.raw(id)
        if entry is None:
            return default
        if id not in self._described:
            entry.description = describe(entry, _Raw(self), self.store.base_iri)
            self._described.add(id)
        return entry

    def __getitem__(self, id: str) -> Entry:
        entry = self.get(id)
        if entry is None:
            raise KeyError(id)
        return entry  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        """The ids in the cache (a large store's entities are never all listed)."""
        with self._lock:
            return iter([k for k, v in self._cache.items() if v is not None])

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for v in self._cache.values() if v is not None)


class _Raw(Mapping[str, Entry]):
    """The entities as a description reads them (names and years only), so descriptions never recurse."""

    def __init__(self, entries: LazyEntries) -> None:
        self._entries = entries

    def get(self, id: str, default: Any = None) -> Any:  # type: ignore[override]
        entry = self._entries.raw(id)
        return default if entry is None else entry

    def __getitem__(self, id: str) -> Entry:
        entry = self._entries.raw(id)
        if entry is None:
            raise KeyError(id)
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class ScaledLabelIndex(LabelIndex):
    """A label index over a large store: each query scores only the candidates the site index proposes."""

    def __init__(self, store: Store, site: SiteIndex) -> None:  # no super().__init__: nothing is read up front
        self.store = store
        self.site = site
        self.base_iri = store.base_iri
        self.entries = LazyEntries(store)  # type: ignore[assignment]
        self.labels = []

    def _subset(self, ids: Sequence[str]) -> LabelIndex:
        """A small label index over some entities and the films their records were identified as."""
        chosen: dict[str, Entry] = {}
        for id in dict.fromkeys(ids):
            entry = self.entries.get(id)
            if entry is not None:
                chosen[entry.id] = entry
        for entry in list(chosen.values()):
            target = entry.first("identifiedAs") if entry.is_record else ""
            film = self.entries.get(local_id(target, self.base_iri)) if target else None
            if film is not None:
                chosen.setdefault(film.id, film)
        return LabelIndex(chosen, self.base_iri)

    def _kind(self, types: Sequence[str]) -> str | None:
        kinds = {KIND_OF_TYPE.get(t) for t in types}
        return kinds.pop() if len(kinds) == 1 else None

    def _ids(self, found: Sequence[str]) -> list[str]:
        return [local_id(iri, self.base_iri) for iri in found]

    def search(self, query: Query) -> list[Candidate]:
        """Candidates for one query, best first, scored as the full index scores them."""
        text = split_year(query.text)[0] if query.text else ""
        ids: list[str] = []
        if text:
            own = self.by_id(text)
            if own is not None:
                ids.append(own.id)
            ids += self._ids(site_search.candidates(self.site, text, CANDIDATES, self._kind(query.types)))
        if query.imdb:
            ids += self._ids(site_search.identified_by(self.site, "imdb", query.imdb))
        return self._subset(ids).search(query)

    def suggest(self, prefix: str, types: Sequence[str] = (), cursor: int = 0, limit: int = 10) -> list[Entry]:
        """Entities whose title or id starts with the prefix, from a few times as many candidates as asked for."""
        want = (cursor + limit) * 3
        key = prefix.strip()
        kind = self._kind(types)
        ids: list[str] = []
        if key:
            own = self.by_id(key)
            if own is not None:
                ids.append(own.id)
            ids += self._ids(site_search.ids_starting(self.site, self.base_iri, local_id(key, self.base_iri).lower(), want))
            ids += [item.iri[len(self.base_iri):] for item in site_search.search(self.site, self.base_iri, key, kind, limit=want).items]
        else:
            for k in [kind] if kind else sorted(set(KIND_OF_TYPE.values())):
                ids += [item.iri[len(self.base_iri):] for item in site_search.list_page(self.site, self.base_iri, k, size=want).items]
        return self._subset(ids).suggest(prefix, types, cursor, limit)
