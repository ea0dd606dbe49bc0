"""The site index: a SQLite file built with the store, so listings, search and counts stay fast at any size.

Sorting a million labels or filtering them with ``CONTAINS(LCASE(...))`` costs
seconds in any SPARQL engine; a B-tree on a precomputed sort key and an FTS5
index of normalised labels answer the same in milliseconds. The index is built
from the store in the same step that builds the store (``filmgraph build``, and
the temporary store ``serve`` builds from the files), and holds, per resource
of a kind (``{base}film/...``, of a collection type): IRI, kind, display label,
normalised sort key, year, date, list position and status; its collection
types; every label and alias (``schema:name``, ``skos:altLabel``,
``fg:originalTitle``, ``rdfs:label``, ``skos:prefLabel``, and for a record
identified as a real film that film's titles) with the keys reconciliation
uses (Cyrillic transliterated, accents folded: :mod:`filmgraph.core.textkeys`)
in an FTS5 table; identifiers (IMDb); the counts the home page shows; and,
when the build ran them, the consistency rules' findings.

Consistency: ``meta`` records the store's triple count and build id, which the
store's marker (``filmgraph-store.json``) also holds; an index whose build id
differs from the marker's is refused. The file is read-only once built and
opened with ``mode=ro`` by every process and thread (one connection each).
A remote store has no directory: its index is built from it at startup, with
paged queries, into a temporary file (see docs/deploy.md). Building is
:mod:`filmgraph.store.index_build`; this module reads.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import InvalidData
from ..core.owned import remove_with
from .index_build import build_index
from .index_keys import FORMAT

if TYPE_CHECKING:
    from ..truth.rules import Report
    from ..core.dataset import Store
    from .statistics import Statistics

INDEX_FILE = "filmgraph-index.sqlite"
"""The index's file name inside a pre-built store directory."""


# -- opening it ----------------------------------------------------------------------------


class SiteIndex:
    """A built index, opened read-only: one SQLite connection per process and thread."""

    def __init__(self, path: Path, meta: dict[str, str], temporary: bool = False) -> None:
        self.path = Path(path)
        self.meta = meta
        self.temporary = temporary
        self._local = threading.local()
        self._uri = "file:" + urllib.request.pathname2url(str(self.path.resolve())) + "?mode=ro"

    @classmethod
    def open(cls, path: Path, build_id: str | None = None, marker: Path | None = None) -> SiteIndex:
        """Open an index read-only; refuse one of another format or whose build id is not the store's."""
        path = Path(path)
        if not path.is_file():
            raise InvalidData(f"{path}: no site index here (build the store with 'filmgraph build')", file=str(path))
        try:
            db = sqlite3.connect("file:" + urllib.request.pathname2url(str(path.resolve())) + "?mode=ro", uri=True)
            try:
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise InvalidData(f"{path}: not a filmgraph site index: {exc}", file=str(path)) from exc
        if meta.get("format") != str(FORMAT):
            raise InvalidData(f"{path}: site index format {meta.get('format')!r}, this filmgraph reads {FORMAT}; rebuild the store with 'filmgraph build'", file=str(path))
        if build_id is not None and meta.get("build_id") != build_id:
            where = f" {marker}" if marker else " the store's marker"
            raise InvalidData(
                f"{path} was built for store build {meta.get('build_id')!r}, but{where} names build {build_id!r}: "
                "the index and the store are out of step; rebuild the store with 'filmgraph build'",
                file=str(path),
            )
        return cls(path, meta)

    @classmethod
    def build_temporary(cls, store: Store, triples: int | None = None, report: Report | None = None) -> SiteIndex:
        """Build an index of a store into a temporary file, removed with the index (remote and in-memory stores);
        ``report``: the rules' findings to keep in it."""
        folder = Path(tempfile.mkdtemp(prefix="filmgraph-index-"))
        path = folder / INDEX_FILE
        build_id = uuid.uuid4().hex
        try:
            build_index(store, path, build_id, len(store) if triples is None else triples, report)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        index = cls.open(path, build_id)
        index.temporary = True
        remove_with(index, folder)
        return index

    def connection(self) -> sqlite3.Connection:
        """This thread's read-only connection (opened anew in a forked process)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            local.pid = os.getpid()
        return local.db  # type: ignore[no-any-return]

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run one read-only statement; return its rows."""
        return self.connection().execute(sql, parameters).fetchall()

    def execute_bounded(self, sql: str, parameters: Sequence[object], seconds: float) -> list[tuple[object, ...]]:
        """Run one read-only statement, or give up (no rows) when it takes longer than ``seconds``."""
        db = self.connection()
        deadline = time.monotonic() + seconds
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return db.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            return []
        finally:
            db.set_progress_handler(None, 0)

    @property
    def build_id(self) -> str:
        """The build id shared with the store's marker."""
        return self.meta.get("build_id", "")

    @property
    def triples(self) -> int:
        """The store's triple count when the index was built."""
        return int(self.meta.get("triples", "0"))

    @property
    def has_findings(self) -> bool:
        """True when the build ran the consistency rules and kept their findings."""
        return self.meta.get("rules") == "1"

    def count(self, name: str) -> int:
        """A count the build kept (``kind:film``, ``type:fg:FilmRecord``, ``status:Identified``, ``assessment:Supported``)."""
        rows = self.execute("SELECT n FROM count WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    def counts(self, prefix: str) -> dict[str, int]:
        """Every count whose name starts with ``prefix``, by the rest of its name."""
        rows = self.execute("SELECT name, n FROM count WHERE name >= ? AND name < ?", (prefix, prefix + "\U0010ffff"))
        return {str(name)[len(prefix):]: int(n) for name, n in rows}  # type: ignore[call-overload]

    @functools.cached_property
    def common_words(self) -> frozenset[str]:
        """Words in more labels than :data:`COMMON_WORD` (kept by the build): too common to find candidates by."""
        return frozenset(json.loads(self.meta.get("common_words", "[]")))

    def hash_children(self, iri: str) -> list[str]:
        """The subject IRIs ``iri#...`` of the store (a document's hash children), sorted."""
        return [str(child) for (child,) in self.execute("SELECT iri FROM hash_child WHERE parent = ? ORDER BY iri", (iri,))]

    def findings(self) -> list[tuple[str, str, str, str, str | None, str]]:
        """The rules' findings kept by the build: (rule, label, severity, concerns, related, message)."""
        return self.execute("SELECT rule, label, severity, concerns, related, message FROM finding ORDER BY id")  # type: ignore[return-value]

    def statistics(self) -> Statistics | None:
        """The dataset description's statistics kept by the build, or None (an index built without them)."""
        text = self.meta.get("statistics")
        if not text:
            return None
        from .statistics import Statistics

        return Statistics.from_json(text)

    def report(self, per_rule: int | None = None) -> Report | None:
        """The rules' report kept by the build, or None when it did not run them.

        With ``per_rule``, only that many findings of each rule are read (10^6 films make a million
        findings): the report still counts them all, and :meth:`Report.about` finds any of them here.
        """
        if not self.has_findings:
            return None
        from datetime import datetime

        from ..truth.rules import Finding, Report, list_rules

        columns = "rule, label, severity, concerns, related, message"
        # (rule, severity): n, kept by the build (a GROUP BY over a million findings took every process a second)
        counts = {(rule, severity): n for name, n in self.counts("finding:").items() for rule, severity in [name.rsplit(":", 1)]}
        if per_rule is None:
            rows = self.findings()
        else:
            rows = [row for rule in sorted({rule for rule, _ in counts})
                    for row in self.execute(f"SELECT id, {columns} FROM finding WHERE rule = ? ORDER BY id LIMIT ?", (rule, per_rule))]
            rows = [row[1:] for row in sorted(rows)]  # report order: the order the build wrote them in

        def about(iris: frozenset[str]) -> tuple[Finding, ...]:
            found: list[tuple[object, ...]] = []
            for batch in chunks(sorted(iris), 400):
                marks = ", ".join("?" * len(batch))
                found += self.execute(f"SELECT id, {columns} FROM finding WHERE concerns IN ({marks}) OR related IN ({marks})", (*batch, *batch))
            return tuple(Finding(*row[1:]) for row in sorted(set(found)))  # type: ignore[arg-type]

        ran = self.meta.get("rules_run")  # absent in indexes of older builds: every rule ran
        rules = tuple(r for r in list_rules() if ran is None or r.name in ran.split(","))
        return Report(tuple(Finding(*row) for row in rows), rules, datetime.fromisoformat(self.meta["rules_created"]),  # type: ignore[arg-type]
                      counts=counts, lookup=about)

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) == os.getpid():
            db.close()
        self._local = threading.local()


def chunks(values: Iterable[object], size: int) -> Iterator[list[object]]:
    """Split values into lists of at most ``size`` (SQLite's bound-parameter limit)."""
    it = iter(values)
    while batch := list(itertools.islice(it, size)):
        yield batch
