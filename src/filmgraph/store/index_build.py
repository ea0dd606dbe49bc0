"""Building the site index (:mod:`filmgraph.store.index`) from a store: one pass per property, into a new SQLite file.

An embedded store is streamed straight from pyoxigraph; a remote one is read
with one query per property checked against a ``COUNT``, or in ordered pages
when the store caps its answers. Nothing is left behind on failure: the file
is written beside its final name and renamed when complete.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pyoxigraph import Literal, NamedNode

from ..core import iris
from ..core.errors import FilmgraphError, InvalidData, Unavailable
from .index_keys import COLLECTIONS, COMMON_WORD, DISPLAY_SOURCES, FORMAT, search_keys, sort_key
from ..core.namespaces import RDFS, SCHEMA, SKOS, ontology_ns, prefixes
from ..core.progress import Phase, Progress
from ..sparql.query import prefixed_query
from ..core.textkeys import loosen, plain_key
from ..core.dataset import Bindings, Store, Term

if TYPE_CHECKING:
    from ..truth.rules import Report

_T = TypeVar("_T")

CACHE_KB = 256 * 1024
"""SQLite's page cache while the index is written (KiB): the indexes are sorted in it."""

PAGE = 100_000
"""Rows per paged query when the index is built from a remote store."""

LABELS = (("name", SCHEMA + "name"), ("prefLabel", SKOS + "prefLabel"), ("label", RDFS + "label"), ("originalTitle", "originalTitle"), ("altLabel", SKOS + "altLabel"))
"""Label properties (source name, IRI; ``fg:`` terms by local name), in the order a display label is chosen."""

DATES = (SCHEMA + "datePublished", SCHEMA + "startDate", "conceivedDate", SCHEMA + "birthDate", SCHEMA + "foundingDate")
"""Date properties, in the order a resource's date is chosen."""

IDENTIFIED = {"Identified": 1.0, "TitleMatchOnly": 0.9}
"""Identification statuses under which a record is also known by its real film's titles (and their weight)."""

SCHEMA_SQL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE resource(
  id INTEGER PRIMARY KEY,
  iri TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  label TEXT,
  lang TEXT,
  sort_key TEXT NOT NULL,
  year INTEGER,
  date TEXT,
  position INTEGER,
  status TEXT
);
CREATE TABLE member(type TEXT NOT NULL, sort_key TEXT NOT NULL, iri TEXT NOT NULL, resource INTEGER NOT NULL,
  PRIMARY KEY(type, sort_key, iri)) WITHOUT ROWID;
CREATE TABLE label(id INTEGER PRIMARY KEY, resource INTEGER NOT NULL, text TEXT NOT NULL, lang TEXT NOT NULL,
  source TEXT NOT NULL, weight REAL NOT NULL, plain TEXT NOT NULL, loose TEXT NOT NULL);
CREATE VIRTUAL TABLE label_fts USING fts5(keys, kind, content='', columnsize=0, detail=column, prefix='2 3');
CREATE TABLE identifier(scheme TEXT NOT NULL, value TEXT NOT NULL, resource INTEGER NOT NULL, PRIMARY KEY(scheme, value, resource)) WITHOUT ROWID;
CREATE TABLE count(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE dated(type TEXT NOT NULL, date TEXT NOT NULL, iri TEXT NOT NULL, resource INTEGER NOT NULL,
  PRIMARY KEY(type, date, iri)) WITHOUT ROWID;
CREATE TABLE hash_child(parent TEXT NOT NULL, iri TEXT NOT NULL, PRIMARY KEY(parent, iri)) WITHOUT ROWID;
CREATE TABLE finding(id INTEGER PRIMARY KEY, rule TEXT NOT NULL, label TEXT NOT NULL, severity TEXT NOT NULL,
  concerns TEXT NOT NULL, related TEXT, message TEXT NOT NULL);
"""

INDEXES_SQL = """
CREATE INDEX resource_kind_sort ON resource(kind, sort_key, iri);
CREATE INDEX resource_kind_year ON resource(kind, year, sort_key, iri);
CREATE INDEX resource_position ON resource(position, iri) WHERE position IS NOT NULL;
CREATE INDEX member_resource ON member(resource);
CREATE INDEX label_resource ON label(resource);
CREATE INDEX label_plain ON label(plain);
CREATE INDEX label_loose ON label(loose);
CREATE INDEX finding_rule ON finding(rule, id);
CREATE INDEX finding_concerns ON finding(concerns);
CREATE INDEX finding_related ON finding(related);
"""



# -- reading the store ------------------------------------------------------------------


def _expand(prefixed: str, base: str) -> str:
    prefix, local = prefixed.split(":", 1)
    return prefixes(base)[prefix] + local


def _rows(store: Store, name: str, bindings: Bindings, variables: Sequence[str]) -> Iterator[tuple[Term | None, ...]]:
    """Stream a named SELECT: straight from an embedded store; whole (or in ordered pages if it caps answers) from a remote one."""
    text = prefixed_query(name, store.base_iri)
    raw = getattr(store, "query", None)
    if raw is not None and hasattr(store, "oxigraph"):
        at = [list(_projection(text)).index(v) for v in variables]
        if len(at) == 1:
            for solution in raw(text, bindings):
                yield (solution[at[0]],)
        else:
            for solution in raw(text, bindings):
                yield (solution[at[0]], solution[at[1]]) if len(at) == 2 else tuple(solution[i] for i in at)
        return
    # One answer, checked against a COUNT: sorting a whole property to page it costs a store far
    # more than sending it (10 s against 1 s for 150,000 names in Oxigraph).
    rows = store.select(text, bindings)
    counted = store.select(prefixed_query(f"{name}-count", store.base_iri), bindings)
    if len(rows) >= (int(counted[0]["n"].value) if counted else 0):  # type: ignore[union-attr]
        for row in rows:
            yield tuple(row.get(v) for v in variables)
        return
    del rows
    # A store that caps its answers (Virtuoso's ResultSetMaxRows): ordered pages, advanced by
    # what each page holds, so that it is still read whole.
    order = " ".join(f"?{v}" for v in variables)
    offset = 0
    while True:
        rows = store.select(f"{text}\nORDER BY {order}\nLIMIT {PAGE} OFFSET {offset}", bindings)
        if not rows:
            return
        offset += len(rows)
        for row in rows:
            yield tuple(row.get(v) for v in variables)


def _projection(text: str) -> list[str]:
    """The variables a named query selects, in order (its first SELECT line)."""
    line = next(x for x in text.splitlines() if x.lstrip().upper().startswith("SELECT"))
    return [w[1:] for w in line.split() if w.startswith("?")]


def _values_counted(store: Store, phase: Phase, predicate: str) -> Iterator[tuple[str, Term]]:
    """:func:`_values`, counted into ``phase``."""
    return _counted(_values(store, predicate), phase)


def _values(store: Store, predicate: str) -> Iterator[tuple[str, Term]]:
    """(subject IRI, value) for every triple of one property."""
    for thing, value in _rows(store, "index-property", {"p": NamedNode(predicate)}, ("thing", "value")):
        if isinstance(thing, NamedNode) and value is not None:
            yield thing.value, value


class _Resource:
    __slots__ = ("kind", "types", "label", "date", "year", "position", "status", "key")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.key = ""
        self.types: list[str] = []
        self.label: tuple[tuple[int, int, str], str, str] | None = None
        self.date: str | None = None
        self.year: int | None = None
        self.position: int | None = None
        self.status: str | None = None


def _lang_rank(lang: str) -> int:
    return 0 if lang == "en" or lang.startswith("en-") else 1 if not lang else 2


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def build_index(store: Store, path: Path, build_id: str, triples: int, report: Report | Callable[[], Report] | None = None,
                store_file: str = "", progress: Progress | None = None) -> None:
    """Read the store and write its index to ``path`` (a new file); nothing is left behind on failure.

    ``report``: the rules' findings, or a function that gives them when they are written, last (the
    rules may run in another process meanwhile). ``progress`` shows the phases."""
    path = Path(path)
    if path.exists():
        raise InvalidData(f"{path}: exists; refusing to build an index over it", file=str(path))
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _write(store, partial, build_id, triples, report, store_file, progress if progress is not None else Progress.off())
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write(store: Store, path: Path, build_id: str, triples: int, report: Report | Callable[[], Report] | None, store_file: str,
           progress: Progress) -> None:
    with progress.phase("index: reading the store", unit="values") as reading:
        db, resources, ids, plains = _read(store, path, reading)
    try:
        with progress.phase("index: writing", total=3, unit="steps") as writing:
            _write_rows(store, db, resources, ids, plains, writing)
        del resources, ids, plains  # the largest objects of the build: not kept while the rest runs
        with progress.phase("dataset statistics", unit=""):
            statistics = _statistics(store)
        if callable(report):
            report = report()
        with progress.phase("index: findings and indexes", unit=""):
            _finish(store, db, build_id, triples, report, store_file, statistics)
    finally:
        db.close()


def _counted(rows: Iterator[_T], phase: Phase) -> Iterator[_T]:
    """The rows, counted into ``phase`` (in steps, not one by one)."""
    n = 0
    for row in rows:
        yield row
        n += 1
        if n == 10_000:
            phase.advance(n)
            n = 0
    phase.advance(n)


def _read(store: Store, path: Path, phase: Phase) -> tuple[sqlite3.Connection, dict[str, _Resource], dict[str, int], dict[tuple[int, str], str]]:
    base = store.base_iri
    fg = ontology_ns(base)
    resources: dict[str, _Resource] = {}
    for kind, groups in COLLECTIONS.items():
        prefix = iris.collection_iri(base, kind)
        for _, type_name in groups:
            type_iri = _expand(type_name, base)
            for (thing,) in _counted(_rows(store, "index-members", {"type": NamedNode(type_iri)}, ("thing",)), phase):
                if not isinstance(thing, NamedNode) or not thing.value.startswith(prefix) or "#" in thing.value:
                    continue
                found = resources.get(thing.value)
                if found is None:
                    found = resources[thing.value] = _Resource(kind)
                if found.kind == kind and type_name not in found.types:
                    found.types.append(type_name)

    db = sqlite3.connect(path)
    try:
        # One transaction for every row (the connection opens it at the first INSERT), no journal, the
        # indexes created after the rows; sorting for them in memory rather than in temporary files.
        db.executescript(f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192; PRAGMA cache_size=-{CACHE_KB};"
                         " PRAGMA temp_store=MEMORY;" + SCHEMA_SQL)
        ids = {iri: n for n, iri in enumerate(resources, 1)}
        label_rows: list[tuple[int, str, str, str, float, str, str]] = []
        for source, predicate in LABELS:
            order = DISPLAY_SOURCES.index(source) if source in DISPLAY_SOURCES else len(DISPLAY_SOURCES)
            for iri, value in _values_counted(store, phase, predicate if ":" in predicate else fg + predicate):
                rid = ids.get(iri)
                if rid is None or not isinstance(value, Literal) or not value.value.strip():
                    continue
                lang = value.language or ""
                plain = plain_key(value.value)
                label_rows.append((rid, value.value, lang, source, 1.0, plain, loosen(plain)))
                rank = (order, _lang_rank(lang), value.value)
                res = resources[iri]
                if order < len(DISPLAY_SOURCES) and (res.label is None or rank < res.label[0]):
                    res.label = (rank, value.value, lang)
        plains = {(row[0], row[1]): row[5] for row in label_rows if row[3] in DISPLAY_SOURCES}
        statuses = list(_values_counted(store, phase, fg + "identificationStatus"))  # read once, used twice
        _add_identified_labels(store, fg, resources, ids, label_rows, statuses, phase)
        db.executemany("INSERT INTO label(resource, text, lang, source, weight, plain, loose) VALUES (?, ?, ?, ?, ?, ?, ?)", label_rows)
        del label_rows

        for predicate in DATES:
            for iri, value in _values_counted(store, phase, predicate if ":" in predicate else fg + predicate):
                res = resources.get(iri)
                if res is not None and res.date is None and isinstance(value, Literal):
                    res.date = value.value
        year_numbers: dict[str, int] = {}
        for iri, value in _values_counted(store, phase, fg + "yearNumber"):
            number = _int(value.value) if isinstance(value, Literal) else None
            if number is not None:
                year_numbers[iri] = number
                if iri in resources:
                    resources[iri].year = number
        for iri, value in _values_counted(store, phase, fg + "releaseYear"):
            res = resources.get(iri)
            if res is not None and isinstance(value, NamedNode) and value.value in year_numbers:
                res.year = year_numbers[value.value] if res.year is None else min(res.year, year_numbers[value.value])
        for res in resources.values():
            if res.year is None and res.date and _int(res.date[:4]) is not None and not res.date.startswith("-"):
                res.year = int(res.date[:4])
        for iri, value in _values_counted(store, phase, fg + "listPosition"):
            if iri in resources and isinstance(value, Literal):
                resources[iri].position = _int(value.value)
        for predicate in ("identificationStatus", "assessment"):
            for iri, value in statuses if predicate == "identificationStatus" else _values_counted(store, phase, fg + predicate):
                if iri in resources and isinstance(value, NamedNode) and value.value.startswith(fg):
                    resources[iri].status = value.value[len(fg):]

    except BaseException:
        db.close()
        raise
    return db, resources, ids, plains


def _write_rows(store: Store, db: sqlite3.Connection, resources: dict[str, _Resource], ids: dict[str, int],
                plains: dict[tuple[int, str], str], phase: Phase) -> None:
    base = store.base_iri
    fg = ontology_ns(base)
    counts: dict[str, int] = {}

    def resource_rows() -> Iterator[tuple[object, ...]]:
        # Streamed into SQLite, not listed first: at 10^6 films the list held 2.5 million rows.
        for iri, res in resources.items():
            rid = ids[iri]
            label, lang = (res.label[1], res.label[2]) if res.label else (None, None)
            key = sort_key(label, plains.get((rid, label))) if label else ""
            res.key = key or sort_key(iri[len(iris.collection_iri(base, res.kind)):])
            yield (rid, iri, res.kind, label, lang, res.key, res.year, res.date, res.position, res.status)
            for name in [f"kind:{res.kind}", *(f"type:{t}" for t in res.types)]:
                counts[name] = counts.get(name, 0) + 1
            if res.status and res.kind in ("film", "claim"):
                name = f"{'status' if res.kind == 'film' else 'assessment'}:{res.status}"
                counts[name] = counts.get(name, 0) + 1

    db.executemany("INSERT INTO resource VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", resource_rows())
    plains.clear()
    db.executemany("INSERT INTO member VALUES (?, ?, ?, ?)", ((t, res.key, iri, ids[iri]) for iri, res in resources.items() for t in res.types))
    db.executemany("INSERT INTO dated VALUES (?, ?, ?, ?)",
                   ((t, res.date, iri, ids[iri]) for iri, res in resources.items() if res.date for t in res.types))
    phase.set(1, note="resources written")
    db.create_function("search_keys", 2, search_keys, deterministic=True)
    db.execute("INSERT INTO label_fts(rowid, keys, kind) SELECT l.id, search_keys(l.plain, l.loose), r.kind FROM label l JOIN resource r ON r.id = l.resource")
    phase.set(2, note="full-text index written")
    db.executemany(
        "INSERT OR IGNORE INTO identifier VALUES ('imdb', ?, ?)",
        ((value.value, ids[iri]) for iri, value in _values(store, fg + "imdbId") if iri in ids and isinstance(value, Literal)),
    )
    db.executemany("INSERT INTO count VALUES (?, ?)", sorted(counts.items()))
    db.executemany("INSERT OR IGNORE INTO hash_child VALUES (?, ?)", _hash_children(store))
    phase.set(3, note="identifiers and hash children written")


def _finish(store: Store, db: sqlite3.Connection, build_id: str, triples: int, report: Report | None, store_file: str, statistics: str) -> None:
    if report is not None:
        db.executemany(
            "INSERT INTO finding(rule, label, severity, concerns, related, message) VALUES (?, ?, ?, ?, ?, ?)",
            ((f.rule, f.label, f.severity, f.concerns, f.related, f.message) for f in report.findings),
        )
        # Pages show these counts: a GROUP BY over a million findings costs every process a second.
        db.execute("INSERT INTO count SELECT 'finding:' || rule || ':' || severity, COUNT(*) FROM finding GROUP BY rule, severity")
    db.execute("CREATE VIRTUAL TABLE temp.label_vocab USING fts5vocab(main, 'label_fts', 'col')")
    common = [term for term, in db.execute("SELECT term FROM temp.label_vocab WHERE col = 'keys' AND doc > ? ORDER BY term", (COMMON_WORD,))]
    db.execute("DROP TABLE temp.label_vocab")
    meta = {
        "common_words": json.dumps(common),
        "statistics": statistics,
        "format": str(FORMAT),
        "build_id": build_id,
        "triples": str(triples),
        "base_iri": store.base_iri,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "store": store_file,
        "rules": "1" if report is not None else "0",
        "rules_run": ",".join(r.name for r in report.rules) if report is not None else "",
        "rules_created": report.created.isoformat() if report is not None else "",
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.executescript(INDEXES_SQL)
    db.execute("INSERT INTO label_fts(label_fts) VALUES ('optimize')")
    db.commit()
    db.execute("ANALYZE")
    db.commit()


def _hash_children(store: Store) -> Iterator[tuple[str, str]]:
    """(parent, child) for every subject IRI with a fragment: a document's hash children that point at it
    are found here, not by scanning everything that points at it (a year, a theme or the curated list is
    pointed at by hundreds of thousands of records)."""
    for (child,) in _rows(store, "index-hash-children", {}, ("child",)):
        if isinstance(child, NamedNode):
            yield child.value.split("#", 1)[0], child.value


def _add_identified_labels(store: Store, fg: str, resources: dict[str, _Resource], ids: dict[str, int],
                           label_rows: list[tuple[int, str, str, str, float, str, str]], statuses: list[tuple[str, Term]], phase: Phase) -> None:
    """A record identified as a real film is also known by that film's titles (as reconciliation knows it)."""
    status: dict[str, float] = {}
    for iri, value in statuses:
        if isinstance(value, NamedNode) and value.value[len(fg):] in IDENTIFIED and iri in ids:
            status[iri] = IDENTIFIED[value.value[len(fg):]]
    if not status:
        return
    targets: dict[int, list[tuple[int, float]]] = {}
    for iri, value in _values_counted(store, phase, fg + "identifiedAs"):
        if iri in status and isinstance(value, NamedNode) and value.value in ids:
            targets.setdefault(ids[value.value], []).append((ids[iri], status[iri]))
    own: dict[int, set[str]] = {}
    for row in label_rows:
        own.setdefault(row[0], set()).add(row[1])
    extra = []
    for row in label_rows:
        if row[3] in ("name", "originalTitle", "altLabel"):
            for record, weight in targets.get(row[0], ()):
                if row[1] not in own.get(record, set()):
                    own.setdefault(record, set()).add(row[1])
                    extra.append((record, row[1], row[2], "identified", weight, row[5], row[6]))
    label_rows.extend(extra)


def _statistics(store: Store) -> str:
    """The dataset description's statistics as JSON; empty when the store cannot give them (then a site computes them on first use)."""
    from .statistics import statistics_of

    try:
        return statistics_of(store).to_json()
    except Unavailable:
        raise  # the store is down: the index waits for it as a whole
    except FilmgraphError as exc:
        print(f"filmgraph: the dataset statistics could not be computed now: {exc.message}", file=sys.stderr)
        return ""
