"""The services of one running site, built once from the settings (used by web and CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from .query import QueryService
from .settings import Settings
from .store import Store


@dataclass
class Services:
    """Everything a view or command needs: settings, the store, the query service."""

    settings: Settings
    store: Store
    query: QueryService

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None) -> Services:
        """Open (or take) the store the settings describe and wrap it in the services."""
        if store is None:
            store = _open(settings)
        return cls(settings, store, QueryService(store, settings))

    def close(self) -> None:
        """Stop workers and release the store."""
        self.query.close()


def _open(settings: Settings) -> Store:
    if settings.store_url:
        from .store.remote import RemoteStore

        return RemoteStore(settings.store_url, settings.base_iri, timeout=settings.query_timeout)
    from .store.embedded import EmbeddedStore

    if settings.store_path:
        from pathlib import Path

        return EmbeddedStore.open(Path(settings.store_path))
    # An on-disk copy lets query worker processes open the same read-only store.
    return EmbeddedStore.temporary_copy(settings)
