"""The query service: client queries under the limits, and the named queries of the site."""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from .. import __version__
from .. import formats as F
from .admission import from_settings as admission_for
from ..core.errors import BadQuery, PayloadTooLarge, QueryRefused
from .execute import Job, run_job
from ..core.namespaces import prefixes
from ..formats.negotiate import choose
from .querytext import QueryShape, check_services, shape
from .resultcache import ResultCache
from .results import Rendered
from ..core.settings import Settings
from ..core.dataset import Bindings, DatasetSpec, Row, Store, Term
from .bind import bind_each


BYTES_PER_TRIPLE = 400
"""Oxigraph's in-memory engine, measured: 380 bytes a triple at 2.7 M triples (10^5 generated films)."""


@functools.lru_cache(maxsize=None)
def named_query(name: str) -> str:
    """Return the text of a named query (``queries/{name}.rq``)."""
    return importlib.resources.files("filmgraph.queries").joinpath(f"{name}.rq").read_text(encoding="utf-8")


_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.IGNORECASE | re.MULTILINE)


@functools.lru_cache(maxsize=None)
def prefixed_query(name: str, base_iri: str) -> str:
    """Return a named query with the site's prefixes (``fg:`` follows the base) that it does not declare itself."""
    text = named_query(name)
    declared = set(_DECLARED.findall(text))
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in prefixes(base_iri).items() if p not in declared]
    return "\n".join(lines) + "\n" + text


@dataclass(frozen=True)
class Prepared:
    """A client query checked against the limits, with its negotiated response format."""

    text: str
    shape: QueryShape
    format: F.Format
    services: tuple[str, ...] = ()
    """The allow-listed SERVICE endpoints it calls, as the engine reads their IRIs."""


class QueryService:
    """Runs client queries (limits, negotiation, workers) and the site's named queries."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._pool: object | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        self.memory: ox.Store | None = None
        """The store loaded into Oxigraph's in-memory engine for client queries (see :meth:`load_engine`)."""
        self.children_of: Callable[[str], list[str]] | None = None
        """The site index's hash children of an IRI (set by :class:`~filmgraph.site.services.Services`)."""
        # A remote store may be reloaded behind our back, so only the embedded one is cached.
        self.cache = ResultCache(settings.result_cache_mb * 2**20) if settings.result_cache_mb > 0 and not settings.store_url else None
        self.admission = admission_for(settings)
        """Fair shares of the query workers: the queue and the budgets of client queries (:mod:`filmgraph.sparql.admission`)."""

    # -- client queries -------------------------------------------------

    def prepare(self, text: str, accept: str | None, overrides: Iterable[str] = (), base: str | None = None) -> Prepared:
        """Check a client query (length, form, updates, SERVICE) and negotiate its format.

        ``base`` is the IRI relative IRIs in the query resolve against (the endpoint's URL): a SERVICE
        target is compared with the allow-list as the engine will read it.
        """
        if len(text) > self.settings.max_query_length:
            raise PayloadTooLarge(
                f"query is {len(text)} characters, over the limit of {self.settings.max_query_length} (setting max_query_length)",
                limit="max_query_length",
            )
        found = shape(text)
        if found.nesting > self.settings.max_query_nesting:
            raise BadQuery(
                f"query nests {found.nesting} levels deep, over the limit of {self.settings.max_query_nesting} (setting max_query_nesting)",
                limit="max_query_nesting",
            )
        services = check_services(found, self.settings.service_allow, base)
        offered = F.GRAPHS if found.returns_graph else F.RESULTS
        return Prepared(text, found, choose(accept, offered, overrides), services)

    def job(self, prepared: Prepared, dataset: DatasetSpec = DatasetSpec(), base: str | None = None) -> Job:
        """The job a prepared query makes: ``base`` resolves relative IRIs; the row cap is the setting's."""
        return Job(
            prepared.text,
            prepared.format.name,
            self.settings.max_rows,
            self.store.base_iri,
            dataset.default_graphs,
            dataset.named_graphs,
            base,
            prepared.services,
            self.settings.max_result_bytes,
        )

    def run(self, prepared: Prepared, dataset: DatasetSpec = DatasetSpec(), base: str | None = None) -> Rendered:
        """Run a prepared query under the time limit and row cap; ``base`` resolves relative IRIs."""
        return self.run_job(self.job(prepared, dataset, base))

    def run_job(self, job: Job, client: str | None = None) -> Rendered:
        """Run a job under the time limit (from the result cache when it holds the answer).

        A ``client``'s query waits its turn and is charged to its budget (:attr:`admission`); without one
        (the command line) it runs at once.
        """
        cache = self._cache_for(job)
        if cache is not None:
            cached = cache.get(job)
            if cached is not None:
                return cached
        rendered = self._execute(job) if client is None else self.admission.run(client, lambda: self._execute(job))
        if cache is not None:
            cache.put(job, rendered)
        return rendered

    async def run_job_async(self, job: Job, client: str) -> Rendered | None:
        """:meth:`run_job` from an event loop: the client waits its turn (:meth:`Admission.enter`) and the query
        worker's answer is awaited, with no thread. None when the query workers of this process are not running
        (they are started by :meth:`run_job`, on a thread) or the store is remote: nothing was done or charged."""
        cache = self._cache_for(job)
        if cache is not None:
            cached = cache.get(job)
            if cached is not None:
                return cached
        pool = self._started_workers()
        if pool is None:
            return None
        await self.admission.enter(client)
        with self.admission.charged(client):
            rendered = await pool.run_async(job)  # type: ignore[attr-defined]
        if cache is not None:
            cache.put(job, rendered)
        return rendered  # type: ignore[no-any-return]

    def fixed_answer(self, job: Job) -> bool:
        """True when the answer to a job is the same bytes every time it is asked (a front may keep it whole):
        the embedded store with its cache on, no SERVICE, nothing volatile."""
        return self._cache_for(job) is not None

    def _cache_for(self, job: Job) -> ResultCache | None:
        # Another server's answers may change, and so does a query calling RAND(), NOW(), UUID() ... each time.
        return None if job.services or _volatile(job.query) else self.cache

    def etag(self, job: Job) -> str | None:
        """A strong validator of the job's answer: the same while the data and filmgraph are the same.

        The embedded store is read-only, so its answer to a job is fixed by the store's build, the
        job and this filmgraph's version; a client (or CDN) that holds it gets a 304 and the query is
        not run. A remote store may change behind filmgraph's back, and so may a SERVICE: no validator;
        nor for a query whose answer changes on every evaluation (RAND, NOW, UUID, STRUUID, BNODE).
        """
        if self.settings.store_url or job.services or _volatile(job.query):
            return None
        key = repr((__version__, self._data_version, job))
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]

    @functools.cached_property
    def _data_version(self) -> str:
        index = getattr(self.store, "index", None)
        build_id = getattr(index, "build_id", "")
        # A store without a build (built in memory here): a version of its own, for this process and its forks.
        return build_id or uuid.uuid4().hex

    def _execute(self, job: Job) -> Rendered:
        runner = getattr(self.store, "run_job", None)
        if runner is not None:  # remote backend: the store enforces the limits itself
            return runner(job, self.settings.query_timeout)  # type: ignore[no-any-return]
        pool = self._workers()
        if pool is None:
            return run_job(self.store.oxigraph, job)  # type: ignore[attr-defined]
        return pool.run(job)  # type: ignore[attr-defined, no-any-return]

    def _workers(self) -> object | None:
        path = getattr(self.store, "path", None)
        if path is None or self.settings.query_workers <= 0:
            return None
        with self._pool_lock:
            # Created lazily and per process: a forked web worker must not share its parent's pipes.
            if self._pool is None or self._pool_pid != os.getpid():
                from .workers import WorkerPool, stack_for

                self._pool = WorkerPool(
                    str(path),
                    self.settings.query_workers,
                    self.settings.query_timeout,
                    stack_for(self.settings.max_query_length),
                    confined=not self.settings.service_allow,  # no allow-list: no network for the workers
                    memory=self.memory,
                )
                self._pool_pid = os.getpid()
            return self._pool

    def _started_workers(self) -> object | None:
        """The query workers of this process if they are running (they start on a thread: starting blocks)."""
        if self._pool is None or self._pool_pid != os.getpid() or getattr(self.store, "run_job", None) is not None:
            return None
        return self._pool

    def load_engine(self, triples: int) -> None:
        """Serve client queries from Oxigraph's in-memory engine when the store fits ``memory_engine_mb``.

        Loaded here, once, in the process that builds the site: web workers forked from it, and
        query workers forked from them, start out sharing its pages (the engine writes to the pages it
        reads, so a query worker copies what it reads: bench/cow.py). Above the
        setting, or without query workers, client queries read the on-disk store.
        """
        path = getattr(self.store, "path", None)
        limit = self.settings.memory_engine_mb * 2**20
        if path is None or self.settings.query_workers <= 0 or self.memory is not None or triples * BYTES_PER_TRIPLE > limit:
            return
        started = time.monotonic()
        disk = ox.Store.read_only(str(path))
        memory = ox.Store()
        memory.bulk_load(disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
        self.memory = memory
        if triples > 100_000:
            print(f"filmgraph: {triples:,} triples in memory for queries in {time.monotonic() - started:.1f} s", file=sys.stderr)

    def close(self) -> None:
        """Stop the query workers, if any were started."""
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()  # type: ignore[attr-defined]
        self._pool = None

    # -- the site's own queries (trusted, bound values, no worker hop) ---
    # The ``fg:`` namespace is ``{base}ontology#`` and the base is a setting, so
    # named queries use the site's prefixes without declaring them.

    def select(self, name: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a named SELECT with bound values."""
        return self.store.select(prefixed_query(name, self.store.base_iri), bindings)

    def select_each(self, name: str, variable: str, terms: Sequence[Term]) -> list[Row]:
        """Run a named SELECT with one variable bound to each of several values."""
        return self.store.select(bind_each(prefixed_query(name, self.store.base_iri), variable, terms))

    def hash_children(self, iri: str) -> list[str]:
        """The hash children (``iri#...``) that point at ``iri``: from the site index once the services attach it
        (:attr:`children_of`), else by reading everything that points at ``iri``."""
        if self.children_of is not None:
            return self.children_of(iri)
        return [row["child"].value for row in self.select("describe-children-in", {"iri": ox.NamedNode(iri)})]  # type: ignore[union-attr]

    def ask(self, name: str, bindings: Bindings | None = None) -> bool:
        """Run a named ASK with bound values."""
        return self.store.ask(prefixed_query(name, self.store.base_iri), bindings)

    def construct(self, name: str, bindings: Bindings | None = None) -> list[ox.Triple]:
        """Run a named CONSTRUCT with bound values."""
        return self.store.construct(prefixed_query(name, self.store.base_iri), bindings)


def _volatile(text: str) -> bool:
    """True when a query's answer changes on every evaluation (the scan keeps the texts just seen)."""
    try:
        return shape(text).volatile
    except BadQuery:
        return False  # a query that does not scan does not run either


def refuse_update(reason: str) -> QueryRefused:
    """The error for any attempt to update through a public route."""
    return QueryRefused(f"{reason}: this endpoint is read-only; SPARQL Update is not accepted", keyword="update")
