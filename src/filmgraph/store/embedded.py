"""The embedded backend: Oxigraph in process, read-only once loaded."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..core.errors import FilmgraphError, InvalidData
from ..core.owned import remove_with
from ..core.progress import Progress
from .index import INDEX_FILE, SiteIndex
from .index_build import build_index
from ..core.settings import DEFAULT_BASE, Settings
from ..core.dataset import Bindings, Row
from ..sparql.bind import bind
from .loader import bulk_load_file, read_all, rebase, validate

if TYPE_CHECKING:
    from ..truth.rules import Report

MARKER = "filmgraph-store.json"
INCOMPLETE = "filmgraph-build-incomplete"
"""Written first into a store being built, removed when it is complete: such a directory is never opened."""
RULES_FILE = "filmgraph-rules.pickle"
"""The rules' findings, passed from their processes to the build's (removed once read)."""
RULE_PROCESSES = 2
"""Processes the rules of a build run in, beside the one building the index (at most one per core)."""
OPTIMIZE = True
"""Compact the store after the bulk load: its files grow 1.7 times (at 10^5 films 371 MB instead of 225 MB: the
compaction writes the last level differently), but the rules' joins run 1.6 to 2 times as fast on it (so the build
is faster for it) and so do a served site's queries (bench/README.md, "Building")."""


def building_dir(path: Path) -> Path:
    """Where a store for ``path`` is built: a hidden sibling, renamed to ``path`` when the build is complete."""
    return path.with_name(f".{path.name}.building")


def _rules_apart(path: str, base_iri: str, names: str, out: str) -> None:
    """Run some rules (comma-separated ``names``) over a store being built, in a process of their own, and pickle
    what the index keeps of their report to ``out``: the findings, when, and the seconds taken."""
    import pickle
    import signal

    from ..truth.rules import run_rules

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the build stops this process itself
    started = time.monotonic()
    try:
        report = run_rules(_read_only_while_building(Path(path), base_iri), names.split(","))
        result: tuple[object, ...] = ("ok", [dataclasses.astuple(f) for f in report.findings], report.created, time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 (sent to the building process, which raises it there)
        result = ("error", f"{type(exc).__name__}: {exc}")
    with open(out, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _read_only_while_building(path: Path, base_iri: str) -> EmbeddedStore:
    """A store being built, opened read-only (no marker yet)."""
    return EmbeddedStore(ox.Store.read_only(str(path)), base_iri, path)


class _RulesApart:
    """The rules of a build, run in :data:`RULE_PROCESSES` processes of their own while this one builds the index.

    The rules are independent, so each process runs some of them and their findings are merged as
    :func:`~filmgraph.truth.rules.run_rules` would have made them (one set, sorted). The index asks for the
    report (:meth:`report`) only when it writes the findings; a build that fails or is stopped stops the
    processes (:meth:`stop`). Each is a new interpreter, not a fork of this one (whose RocksDB and
    progress threads a fork would copy mid-step)."""

    def __init__(self, path: Path, base_iri: str, progress: Progress) -> None:
        import subprocess

        from ..truth.rules import list_rules

        self.rules = list_rules()
        names = [r.name for r in self.rules]
        parts = max(1, min(RULE_PROCESSES, len(names), os.cpu_count() or 1))
        self.progress = progress
        self.phase = progress.start(f"rules (in {parts} processes beside the index)", unit="")
        package_root = str(Path(__file__).resolve().parents[2])  # the folder filmgraph is imported from
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH", "")]))}
        code = "import sys; from filmgraph.store.embedded import _rules_apart; _rules_apart(*sys.argv[1:])"
        self.outs = [path / f"{RULES_FILE}.{n}" for n in range(parts)]
        self.processes = [
            subprocess.Popen([sys.executable, "-c", code, str(path), base_iri, ",".join(names[n::parts]), str(out)], env=env, stdin=subprocess.DEVNULL)
            for n, out in enumerate(self.outs)
        ]

    def report(self) -> Report:
        """The report of every rule, as one run would have made it (waits for the processes)."""
        import pickle

        from ..truth.rules import Finding, Report

        self.phase.note = "waiting for the rules" if any(p.poll() is None for p in self.processes) else ""
        findings: set[Finding] = set()
        created, seconds = [], []
        for process, out in zip(self.processes, self.outs):
            code = process.wait()
            try:
                with out.open("rb") as fh:
                    result = pickle.load(fh)
            except (OSError, EOFError, pickle.UnpicklingError):
                raise FilmgraphError(f"the rules stopped before they finished (exit code {code})") from None
            finally:
                out.unlink(missing_ok=True)
            if result[0] != "ok":
                raise FilmgraphError(f"the rules failed: {result[1]}")
            findings.update(Finding(*f) for f in result[1])
            created.append(result[2])
            seconds.append(result[3])
        self.progress.end(self.phase, seconds=max(seconds), count=len(findings), unit="findings")
        return Report(findings=tuple(sorted(findings, key=Finding.sort_key)), rules=tuple(self.rules), created=min(created))

    def stop(self) -> None:
        """Stop every process still running (a failed or stopped build), and forget their output."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, out in zip(self.processes, self.outs):
            process.wait()
            out.unlink(missing_ok=True)
        if self.phase in self.progress.running:
            self.progress.end(self.phase, failed=True)


def _checksums(path: Path) -> dict[str, str]:
    """SHA-256 of every file of a built store (not its lock and logs, which RocksDB may rewrite)."""
    out = {}
    for f in sorted(path.iterdir()):
        if f.is_file() and f.name != MARKER and f.name != "LOCK" and not f.name.startswith("LOG"):
            with f.open("rb") as fh:
                out[f.name] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def _verify(path: Path, checksums: dict[str, str]) -> None:
    """Refuse a store whose files are not the ones built (a garbled block would only fail mid-query)."""
    for name, digest in checksums.items():
        f = path / name
        if not f.is_file():
            raise InvalidData(f"{f}: missing from the store; rebuild it with 'filmgraph build'", file=str(f))
        with f.open("rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != digest:
                raise InvalidData(f"{f}: corrupt (it differs from the file built); rebuild the store with 'filmgraph build'", file=str(f))


def _subs(bindings: Bindings | None) -> dict[ox.Variable, object] | None:
    if not bindings:
        return None
    return {ox.Variable(k): v for k, v in bindings.items()}


class EmbeddedStore:
    """A read-only dataset held by pyoxigraph, in memory or in an on-disk directory."""

    def __init__(self, store: ox.Store, base_iri: str, path: Path | None = None) -> None:
        self._store = store
        self.base_iri = base_iri
        self.path = path
        self._count: int | None = None
        self._pid = os.getpid()
        self.index: SiteIndex | None = None
        """The site index built with this store (None: in memory, or built by an older filmgraph)."""

    @classmethod
    def from_settings(cls, settings: Settings, path: Path | None = None, progress: Progress | None = None) -> EmbeddedStore:
        """Load, validate and return the dataset the settings name (pre-built store if given)."""
        if settings.store_path:
            return cls.open(Path(settings.store_path))
        return cls.build(settings, path, progress=progress)

    @classmethod
    def build(cls, settings: Settings, path: Path | None = None, extra: dict[str, Path] | None = None,
              progress: Progress | None = None) -> EmbeddedStore:
        """Parse the ontology and data files, validate them, and load them.

        With ``path`` the store is written to that directory (a pre-built store);
        without it, it lives in memory. ``extra`` maps named-graph IRIs to files
        loaded into those graphs (used by tests and protocol fixtures).
        Nothing is returned half-loaded: any error raises before the store exists.
        A store on disk is built in a sibling directory (:func:`building_dir`) renamed
        to ``path`` when complete; a build that fails or is stopped removes it.
        """
        progress = progress if progress is not None else Progress.off()
        if path is None:
            return cls(cls._load(settings, None, extra, progress), settings.base_iri)
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise InvalidData(f"{path}: not empty; refusing to build a store over existing files", file=str(path))
        work = building_dir(path)
        if work.exists():  # left by a build that was killed (SIGKILL, power): ours to remove
            if not (work / INCOMPLETE).is_file():
                raise InvalidData(f"{work}: exists and is not a filmgraph build in progress; remove it or build elsewhere", file=str(work))
            shutil.rmtree(work)
        work.mkdir(parents=True)
        (work / INCOMPLETE).write_text(f"filmgraph build of {path} (process {os.getpid()}); not a usable store: run the build again\n")
        try:
            cls._build_at(settings, work, extra, progress)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)  # never leave a half-built store behind
            raise
        if path.is_dir():
            path.rmdir()  # the empty directory the build was given
        work.rename(path)
        return cls.open(path)

    @classmethod
    def _build_at(cls, settings: Settings, work: Path, extra: dict[str, Path] | None, progress: Progress) -> None:
        files = list(settings.ontology) + list(settings.data)
        store = cls._load(settings, work, extra, progress)
        if OPTIMIZE:
            with progress.phase("compacting the store", unit=""):
                store.flush()
                store.optimize()
        with progress.phase("counting triples", unit="") as phase:
            store.flush()
            # len() counts the named graphs' quads too; only the default graph is the dataset.
            triples = len(store) if not extra else sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
            phase.note = f"{triples:,} triples"
        del store  # close the writer: from now on every process, the rules' too, opens it read-only
        build_id = uuid.uuid4().hex
        rules = _RulesApart(work, settings.base_iri, progress) if settings.index_rules else None
        try:
            # The site index is read from the store it describes, in the same build step; the rules
            # run meanwhile in processes of their own, and their findings are written last.
            build_index(_read_only_while_building(work, settings.base_iri), work / INDEX_FILE, build_id, triples,
                        rules.report if rules is not None else None, MARKER, progress)
        finally:
            if rules is not None:
                rules.stop()
        with progress.phase("checksums", unit="") as phase:
            (work / INCOMPLETE).unlink()
            marker = {
                "base_iri": settings.base_iri,
                "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": [str(p) for p in files],
                "triples": triples,
                "build_id": build_id,
                "index": INDEX_FILE,
                "checksums": _checksums(work),
            }
            (work / MARKER).write_text(json.dumps(marker, indent=2))

    @classmethod
    def _load(cls, settings: Settings, path: Path | None, extra: dict[str, Path] | None, progress: Progress) -> ox.Store:
        files = list(settings.ontology) + list(settings.data)
        if not settings.validate and settings.base_iri == DEFAULT_BASE and not extra:
            # Large data, no SHACL: let Oxigraph parse straight from the files (no Python objects per triple).
            store = ox.Store(str(path) if path is not None else None)
            total = sum(p.stat().st_size for p in files if p.is_file())
            with progress.phase("loading the store", total=total, unit="B") as phase:
                for p in files:
                    bulk_load_file(store, p, phase)
            return store
        by_file: dict[Path, list[ox.Triple]] = {}
        with progress.phase("parsing", total=len(files), unit="files") as phase:
            for p in files:
                by_file.update(read_all([p]))
                phase.advance()
        if settings.validate:
            # Validate as written (the shapes name the default base), then rebase.
            with progress.phase("validating (SHACL)", unit=""):
                data = set(settings.data)
                validate({p: t for p, t in by_file.items() if p in data}, settings.shapes, settings.ontology)
        if settings.base_iri != DEFAULT_BASE:
            by_file = {p: rebase(t, settings.base_iri) for p, t in by_file.items()}
        named = {g: read_all([f], settings.base_iri)[f] for g, f in (extra or {}).items()}
        with progress.phase("loading the store", unit="triples") as phase:
            store = ox.Store(str(path) if path is not None else None)
            quads = [ox.Quad(t.subject, t.predicate, t.object) for triples in by_file.values() for t in triples]
            for g, triples in named.items():
                quads.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for t in triples)
            store.bulk_extend(quads)
            phase.set(len(quads))
        return store

    @classmethod
    def open(cls, path: Path) -> EmbeddedStore:
        """Open a pre-built store read-only; several processes may open it at once."""
        marker = path / MARKER
        if (path / INCOMPLETE).is_file():
            raise InvalidData(f"{path}: an incomplete build (stopped before it finished), not a store to serve; run 'filmgraph build' again", file=str(path))
        if not marker.is_file():
            raise InvalidData(f"{path}: not a filmgraph store (no {MARKER}; build one with 'filmgraph build')", file=str(path))
        try:
            meta = json.loads(marker.read_text())
            _verify(path, meta["checksums"] if "checksums" in meta else {})
            store = ox.Store.read_only(str(path))
            meta["base_iri"]
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:  # RocksDB reports corruption as RuntimeError
            detail = f"{MARKER} has no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InvalidData(f"{path}: the store cannot be opened: {detail}", file=str(path)) from exc
        opened = cls(store, meta["base_iri"], path)
        if isinstance(meta.get("triples"), int):
            opened._count = meta["triples"]
        index_file = path / meta.get("index", INDEX_FILE)
        if index_file.is_file():
            opened.index = SiteIndex.open(index_file, str(meta.get("build_id", "")), marker)
        else:
            print(f"filmgraph: {path} has no site index (built by an older filmgraph); building a temporary one", file=sys.stderr)
        return opened

    @classmethod
    def temporary_copy(cls, settings: Settings) -> EmbeddedStore:
        """Build the dataset into a temporary directory that is removed with the store."""
        tmp = Path(tempfile.mkdtemp(prefix="filmgraph-store-"))
        shutil.rmtree(tmp)
        store = cls.build(settings, tmp)
        remove_with(store, tmp)
        return store

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, opened anew in a forked process (RocksDB handles do not survive fork)."""
        if self.path is not None and self._pid != os.getpid():
            self._store = ox.Store.read_only(str(self.path))
            self._pid = os.getpid()
        return self._store

    def query(self, query: str, bindings: Bindings | None = None, **kwargs: object) -> object:
        """Run any query with pyoxigraph and return its raw result.

        Bound values go in as a ``VALUES`` block opening the WHERE group (as for a remote store):
        Oxigraph plans joins from the patterns it can see, and a value given as a substitution
        is not one of them. ``?claim fg:about ?record ; a fg:Claim`` with ``?record`` substituted
        walked every claim (31 ms at 10^4 films, seconds at 10^6); with ``VALUES`` it takes
        0.1 ms. Blank nodes, which ``VALUES`` cannot hold, stay substitutions.
        """
        if bindings and not any(isinstance(v, ox.BlankNode) for v in bindings.values()):
            return self.oxigraph.query(bind(query, bindings), **kwargs)  # type: ignore[arg-type]
        return self.oxigraph.query(query, substitutions=_subs(bindings), **kwargs)  # type: ignore[arg-type]

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a SELECT; return its rows."""
        result = self.query(query, bindings)
        names = [v.value for v in result.variables]  # type: ignore[attr-defined]
        rows = []
        for sol in result:  # type: ignore[attr-defined]
            row = {}
            for n in names:
                v = sol[n]
                if v is not None:
                    row[n] = v
            rows.append(row)
        return rows

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        """Run an ASK."""
        return bool(self.query(query, bindings))

    def construct(self, query: str, bindings: Bindings | None = None) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE; return its triples."""
        return list(self.query(query, bindings))  # type: ignore[call-overload]

    def triples(self) -> Iterator[ox.Triple]:
        """Stream every triple of the default graph."""
        for q in self.oxigraph.quads_for_pattern(None, None, None, ox.DefaultGraph()):
            yield ox.Triple(q.subject, q.predicate, q.object)

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self.oxigraph.quads_for_pattern(None, None, None, ox.DefaultGraph()))
        return self._count

    def close(self) -> None:
        """Drop the reference to the pyoxigraph store."""
        self._store = None  # type: ignore[assignment]
