"""A bounded cache of rendered query results: the data is read-only, so an answer never goes stale.

Keyed by everything that decides the bytes (query text, format, dataset, base,
row cap). Bounded in bytes, least recently used out first; one per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from .results import Rendered


class ResultCache:
    """An LRU of rendered results, at most ``budget`` bytes in all and ``budget // 16`` per entry."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.entry_limit = budget // 16
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Rendered | None:
        """The cached result for a key, if any."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, value: Rendered) -> None:
        """Keep a result unless it is too large to be worth a place."""
        size = len(value.body)
        if size > self.entry_limit:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._items[key] = value
            self._size += size
            while self._size > self.budget and self._items:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped.body)
