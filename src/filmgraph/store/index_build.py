"""Building the site index (:mod:`filmgraph.store.index`) from a store: one pass per property, into a new SQLite file.

An embedded store is streamed straight from pyoxigraph; a remote one is read
with one query per property checked against a ``COUNT``, or in parts (:mod:`.capped`)
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

from ..core import heap, iris
from ..core.errors import FilmgraphError, InvalidData, Unavailable
from .capped import read_in_parts
from .index_keys import COLLECTIONS, COMMON_WORD, DISPLAY_SOURCES, FORMAT, search_keys, sort_key
from ..core.namespaces import RDFS, SCHEMA, SKOS, ontology_ns, prefixes
from ..core.progress import Phase, Progress
from ..sparql.bind import bind
from ..sparql.query import prefixed_query
from ..core.textkeys import loosen, plain_key
from ..core.dataset import Bindings, Row, Store, Term

if TYPE_CHECKING:
    from ..truth.rules import Report

_T = TypeVar("_T")

CACHE_KB = 256 * 1024
"""SQLite's page cache while the index is written (KiB): the indexes are sorted in it."""

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
CREATE INDEX IF NOT EXISTS label_resource ON label(resource);
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
    """Stream a named SELECT: straight from an embedded store; whole (or in parts if it caps answers) from a remote one."""
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
    if not rows:
        return  # an empty answer was not cut short, and counting would cost the store the same pass again
    counted = store.select(prefixed_query(f"{name}-count", store.base_iri), bindings)
    total = int(counted[0]["n"].value) if counted else 0  # type: ignore[union-attr]
    if len(rows) >= total:
        for row in rows:
            yield tuple(row.get(v) for v in variables)
        return
    # A store that caps its answers (Virtuoso's ResultSetMaxRows): read whole in parts it need not sort.
    cap = len(rows)
    del rows

    def select(query: str) -> tuple[list[Row], bool]:
        part = store.select(query)
        return part, len(part) >= cap  # a store that cuts without saying: a part as large as the cap may be cut too

    for row in read_in_parts(select, bind(text, bindings), cap, variables, total):
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


class _Resources:
    """What the index keeps of every resource while it reads the store, one column a field (lists indexed by the
    resource's id less one; values shared where they repeat), not an object a resource: at 10^6 films a
    ``__slots__`` object, its list of types and its label tuples took 1.5 GB for 2.5 million resources."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        """IRI -> id, from 1, in the order the resources were first met (the table's order)."""
        self.kind: list[str] = []
        self.types: list[str | tuple[str, ...]] = []
        """The resource's types of its kind: one prefixed name, or a tuple of them when it has several."""
        self.label: list[str | None] = []
        """The display label chosen so far, its language, plain key and rank (no tuple a resource: 100 MB at 10^6 films)."""
        self.label_lang: list[str | None] = []
        self.label_plain: list[str | None] = []
        self.label_rank = bytearray()
        self.date: list[str | None] = []
        self.year: list[int | None] = []
        self.position: list[int | None] = []
        self.status: list[str | None] = []

    def add(self, iri: str, kind: str, type_name: str) -> None:
        """A member of a collection (of ``kind``, with the type ``type_name``)."""
        rid = self.ids.get(iri)
        if rid is None:
            self.ids[iri] = len(self.kind) + 1
            for column in (self.label, self.label_lang, self.label_plain, self.date, self.year, self.position, self.status):
                column.append(None)
            self.label_rank.append(0)
            self.kind.append(kind)
            self.types.append(type_name)
            return
        n = rid - 1
        if self.kind[n] == kind:
            types = self.types[n]
            if isinstance(types, str):
                if types != type_name:
                    self.types[n] = (types, type_name)
            elif type_name not in types:
                self.types[n] = (*types, type_name)

    def types_of(self, n: int) -> tuple[str, ...]:
        types = self.types[n]
        return (types,) if isinstance(types, str) else types


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
        db, resources = _read(store, path, reading)
    try:
        with progress.phase("index: writing", total=3, unit="steps") as writing:
            _write_rows(store, db, resources, writing)
        del resources  # the largest object of the build: not kept while the rest runs
        heap.release()
        with progress.phase("dataset statistics", unit=""):
            statistics = _statistics(store)
        heap.release()  # the statistics' evaluation in Oxigraph, freed
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


def _read(store: Store, path: Path, phase: Phase) -> tuple[sqlite3.Connection, _Resources]:
    base = store.base_iri
    fg = ontology_ns(base)
    resources = _Resources()
    for kind, groups in COLLECTIONS.items():
        prefix = iris.collection_iri(base, kind)
        for _, type_name in groups:
            type_iri = _expand(type_name, base)
            for (thing,) in _counted(_rows(store, "index-members", {"type": NamedNode(type_iri)}, ("thing",)), phase):
                if isinstance(thing, NamedNode) and thing.value.startswith(prefix) and "#" not in thing.value:
                    resources.add(thing.value, kind, type_name)
    ids = resources.ids

    db = sqlite3.connect(path)
    try:
        # One transaction for every row (the connection opens it at the first INSERT), no journal, the
        # indexes created after the rows; sorting for them in memory rather than in temporary files.
        db.executescript(f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192; PRAGMA cache_size=-{CACHE_KB};"
                         " PRAGMA temp_store=MEMORY;" + SCHEMA_SQL)
        # The statuses first: the identified records' own titles are then added in SQLite, from the labels written.
        statuses = resources.status
        weights: dict[int, float] = {}
        for iri, value in _values_counted(store, phase, fg + "identificationStatus"):
            rid = ids.get(iri)
            if rid is None or not isinstance(value, NamedNode):
                continue
            if value.value[len(fg):] in IDENTIFIED:
                weights[rid] = IDENTIFIED[value.value[len(fg):]]
            if value.value.startswith(fg):
                statuses[rid - 1] = sys.intern(value.value[len(fg):])
        if weights:  # (film, record, weight), in the store's order, kept in SQLite
            db.execute("CREATE TEMP TABLE identified(seq INTEGER PRIMARY KEY, film INTEGER NOT NULL, record INTEGER NOT NULL, weight REAL NOT NULL)")
            db.executemany("INSERT INTO temp.identified(film, record, weight) VALUES (?, ?, ?)",
                           ((ids[value.value], rid, weights[rid]) for rid, value in
                            ((ids.get(iri), value) for iri, value in _values_counted(store, phase, fg + "identifiedAs"))
                            if rid in weights and isinstance(value, NamedNode) and value.value in ids))
        identified = bool(weights)
        del weights

        for source, predicate in LABELS:
            order = DISPLAY_SOURCES.index(source) if source in DISPLAY_SOURCES else len(DISPLAY_SOURCES)
            db.executemany("INSERT INTO label(resource, text, lang, source, weight, plain, loose) VALUES (?, ?, ?, ?, 1.0, ?, ?)",
                           _label_rows(_values_counted(store, phase, predicate if ":" in predicate else fg + predicate), resources, source, order))
        if identified:
            _add_identified_labels(db)

        dates = resources.date
        for predicate in DATES:
            for iri, value in _values_counted(store, phase, predicate if ":" in predicate else fg + predicate):
                rid = ids.get(iri)
                if rid is not None and dates[rid - 1] is None and isinstance(value, Literal):
                    dates[rid - 1] = sys.intern(value.value)
        years = resources.year
        year_numbers: dict[str, int] = {}
        for iri, value in _values_counted(store, phase, fg + "yearNumber"):
            number = _int(value.value) if isinstance(value, Literal) else None
            if number is not None:
                year_numbers[iri] = number
                rid = ids.get(iri)
                if rid is not None:
                    years[rid - 1] = number
        for iri, value in _values_counted(store, phase, fg + "releaseYear"):
            rid = ids.get(iri)
            if rid is not None and isinstance(value, NamedNode) and value.value in year_numbers:
                year, number = years[rid - 1], year_numbers[value.value]
                years[rid - 1] = number if year is None or number < year else year
        shared: dict[int, int] = {}  # one int object a year
        for n, date in enumerate(dates):
            if years[n] is None and date and not date.startswith("-"):
                number = _int(date[:4])
                if number is not None:
                    years[n] = shared.setdefault(number, number)
        positions = resources.position
        for iri, value in _values_counted(store, phase, fg + "listPosition"):
            rid = ids.get(iri)
            if rid is not None and isinstance(value, Literal):
                positions[rid - 1] = _int(value.value)
        for iri, value in _values_counted(store, phase, fg + "assessment"):
            rid = ids.get(iri)
            if rid is not None and isinstance(value, NamedNode) and value.value.startswith(fg):
                statuses[rid - 1] = sys.intern(value.value[len(fg):])

    except BaseException:
        db.close()
        raise
    return db, resources


def _label_rows(values: Iterator[tuple[str, Term]], resources: _Resources, source: str, order: int) -> Iterator[tuple[int, str, str, str, str, str]]:
    """The label table's rows of one label property; the display label of each resource chosen meanwhile."""
    display = order < len(DISPLAY_SOURCES)
    ids, labels, ranks = resources.ids, resources.label, resources.label_rank
    for iri, value in values:
        rid = ids.get(iri)
        if rid is None or not isinstance(value, Literal) or not value.value.strip():
            continue
        text = value.value
        lang = sys.intern(value.language or "")
        plain = plain_key(text)
        yield (rid, text, lang, source, plain, loosen(plain))
        if display:
            n, rank = rid - 1, order * 3 + _lang_rank(lang)
            best = labels[n]
            if best is None or (rank, text) < (ranks[n], best):
                labels[n], resources.label_lang[n], resources.label_plain[n], ranks[n] = text, lang, plain, rank


def _write_rows(store: Store, db: sqlite3.Connection, resources: _Resources, phase: Phase) -> None:
    base = store.base_iri
    fg = ontology_ns(base)
    counts: dict[str, int] = {}
    ids = resources.ids

    def resource_rows() -> Iterator[tuple[object, ...]]:
        # Streamed into SQLite, not listed first: at 10^6 films the list held 2.5 million rows.
        prefixes = {kind: iris.collection_iri(base, kind) for kind in COLLECTIONS}
        for n, iri in enumerate(ids):
            kind, label, status = resources.kind[n], resources.label[n], resources.status[n]
            lang = resources.label_lang[n]
            key = sort_key(label, resources.label_plain[n]) if label else ""
            key = key or sort_key(iri[len(prefixes[kind]):])
            yield (n + 1, iri, kind, label, lang, key, resources.year[n], resources.date[n], resources.position[n], status)
            for name in [f"kind:{kind}", *(f"type:{t}" for t in resources.types_of(n))]:
                counts[name] = counts.get(name, 0) + 1
            if status and kind in ("film", "claim"):
                name = f"{'status' if kind == 'film' else 'assessment'}:{status}"
                counts[name] = counts.get(name, 0) + 1

    db.executemany("INSERT INTO resource VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", resource_rows())
    for column in (resources.label, resources.label_lang, resources.label_plain):
        column.clear()
    # The sort keys read back in id order rather than listed meanwhile (at 10^6 films 2.5 million strings).
    stored = db.execute("SELECT sort_key FROM resource ORDER BY id")
    db.executemany("INSERT INTO member VALUES (?, ?, ?, ?)",
                   ((t, key, iri, n + 1) for (n, iri), (key,) in zip(enumerate(ids), stored) for t in resources.types_of(n)))
    dates = resources.date
    db.executemany("INSERT INTO dated VALUES (?, ?, ?, ?)",
                   ((t, dates[n], iri, n + 1) for n, iri in enumerate(ids) if dates[n] for t in resources.types_of(n)))
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


def _add_identified_labels(db: sqlite3.Connection) -> None:
    """A record identified as a real film is also known by that film's titles (as reconciliation knows it).

    ``temp.identified``: (film, record, weight) in the order the store gave them. Each of the film's names, original
    titles and other titles, in the label table's order, is added to each of its records (in that order) that is
    not known by that text yet: its own labels, and the titles added before."""
    db.execute("CREATE INDEX temp.identified_film ON identified(film)")
    db.execute("CREATE INDEX IF NOT EXISTS label_resource ON label(resource)")  # the records' own labels, looked up
    db.execute("""
        INSERT INTO label(resource, text, lang, source, weight, plain, loose)
        SELECT record, text, lang, 'identified', weight, plain, loose FROM (
          SELECT i.record, l.text, l.lang, i.weight, l.plain, l.loose, l.id AS lid, i.seq,
                 ROW_NUMBER() OVER (PARTITION BY i.record, l.text ORDER BY l.id, i.seq) AS nth
          FROM label l JOIN temp.identified i ON i.film = l.resource
          WHERE l.source IN ('name', 'originalTitle', 'altLabel')
            AND NOT EXISTS (SELECT 1 FROM label own WHERE own.resource = i.record AND own.text = l.text)
        ) WHERE nth = 1 ORDER BY lid, seq""")
    db.execute("DROP TABLE temp.identified")


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
