"""A bounded cache of rendered query results: the data is read-only, so an answer never goes stale.

Keyed by everything that decides the bytes (query text, format, dataset, base,
row cap). Bounded in bytes, least recently used out first; one per process.
Keys count as well as answers: a client that sends long distinct queries with
short answers fills the budget with query text, and the budget still holds.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable

from .results import Rendered

ENTRY_OVERHEAD = 400
"""Bytes an entry costs beside its key's and answer's own: the dict's node, the Rendered and key objects, their references."""


def size_of(obj: object) -> int:
    """Bytes an object of a cache key holds in memory: strings and bytes as Python stores them, containers summed."""
    if isinstance(obj, str | bytes):
        return sys.getsizeof(obj)
    if isinstance(obj, tuple | list | frozenset | set):
        return sys.getsizeof(obj) + sum(size_of(x) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sys.getsizeof(obj) + sum(size_of(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    return sys.getsizeof(obj)


def entry_size(key: Hashable, value: Rendered) -> int:
    """What one entry costs against the budget: its key, its answer and the entry itself."""
    return ENTRY_OVERHEAD + size_of(key) + len(value.body)


class ResultCache:
    """An LRU of rendered results, at most ``budget`` bytes in all (keys and answers) and ``budget // 16`` per entry."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entry_limit = budget // 16
        self._items: OrderedDict[Hashable, tuple[Rendered, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """Bytes held, as counted against the budget."""
        return self._size

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Rendered | None:
        """The cached result for a key, if any."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: Rendered) -> None:
        """Keep a result unless it (with its key) is too large to be worth a place."""
        size = entry_size(key, value)
        if size > self.entry_limit:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while self._size > self.budget and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped
