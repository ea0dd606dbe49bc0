"""The services of one running site, built once from the settings (used by web and CLI)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.errors import FilmgraphError, Unavailable
from ..sparql.query import QueryService
from ..core.settings import Settings
from ..store import Store

if TYPE_CHECKING:
    from ..store.index import SiteIndex
    from ..truth.rules import Report


@dataclass
class Services:
    """Everything a view or command needs: settings, the store, the query service, the site index."""

    settings: Settings
    store: Store
    query: QueryService
    _index: SiteIndex | None = field(default=None, repr=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        # Pages find a document's hash children in the index, not by reading all that points at it.
        self.query.children_of = lambda iri: self.index.hash_children(iri)

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None) -> Services:
        """Open (or take) the store the settings describe and wrap it in the services.

        A site opened from the settings has its index at once (a remote store's is
        built now, before web workers fork, so they share one file); a store handed
        in gets its index on first use.
        """
        opened = store is None
        if store is None:
            store = _open(settings)
        services = cls(settings, store, QueryService(store, settings))
        if opened:
            try:
                services.index  # noqa: B018  (built or opened now, not in every worker)
            except Unavailable as exc:  # a remote store that is down: start anyway (503s, not ready), index on first use
                print(f"filmgraph: the site index waits for the store: {exc.message}", file=sys.stderr)
        if not settings.store_url and settings.memory_engine_mb > 0:
            services.query.load_engine(services.triples)  # before any web worker forks
        return services

    @property
    def index(self) -> SiteIndex:
        """The site index: the pre-built store's own, else built once from the store into a temporary file."""
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    own = getattr(self.store, "index", None)
                    if own is None and self.settings.store_url and self.settings.store_path:
                        from ..store.remote import RemoteStore
                        from .remote_index import open_remote_index

                        assert isinstance(self.store, RemoteStore)
                        own = open_remote_index(self.settings, self.store)  # built once by 'filmgraph build DIR --store-url'
                    if own is None:
                        from ..store.index import SiteIndex
                        from .remote_index import indexing_store, remote_rules

                        started = time.monotonic()
                        indexing = indexing_store(self.store)  # its COUNT, too, may take longer than a client's limit
                        report = remote_rules(indexing) if self.settings.store_url and self.settings.index_rules else None
                        own = SiteIndex.build_temporary(indexing, len(indexing), report)
                        if self.settings.store_url:
                            print(f"filmgraph: indexed the remote store in {time.monotonic() - started:.1f} s", file=sys.stderr)
                    self._index = own
        return self._index

    def report(self, per_rule: int | None = None) -> Report:
        """The rules' report: kept in the site index (``per_rule``: a sample of each rule's findings, the counts
        of all), else run now; a store that cannot run them gets an empty report (no rules ran), not an error."""
        kept = self.index.report(per_rule)
        if kept is not None:
            return kept
        from datetime import datetime, timezone

        from ..truth.rules import Report, run_rules

        try:
            return run_rules(self.store)
        except Unavailable:
            raise  # the store is down: a 503 now, the report later
        except FilmgraphError as exc:
            print(f"filmgraph: the consistency rules could not run: {exc.message}", file=sys.stderr)
            return Report((), (), datetime.now(timezone.utc).replace(microsecond=0))

    @property
    def triples(self) -> int:
        """Triples in the default graph: the store's count; for a remote store, the count its site index was built from.

        A ``COUNT(*)`` of a large remote store (27 M triples) takes longer than a client's time
        limit, and the service description and the health check show the count on every request.
        """
        if self.settings.store_url and self._index is not None:
            return self._index.triples
        return len(self.store)

    def close(self) -> None:
        """Stop workers and release the store."""
        self.query.close()


def _open(settings: Settings) -> Store:
    if settings.store_url:
        from ..store.remote import RemoteStore

        return RemoteStore(settings.store_url, settings.base_iri, timeout=settings.query_timeout, graph=settings.store_graph)
    from ..store.embedded import EmbeddedStore

    if settings.store_path:
        from pathlib import Path

        return EmbeddedStore.open(Path(settings.store_path))
    # An on-disk copy lets query worker processes open the same read-only store.
    return EmbeddedStore.temporary_copy(settings)
