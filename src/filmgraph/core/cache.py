"""Values computed once per process, on first use, under a lock (dumps, statistics, documentation)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    """A value made by ``make()`` on first ``get()``; concurrent first callers wait for one computation.

    The value belongs to the process that made it: after a fork the child computes its own,
    because what it caches (open files, temp directories) may not be shareable.
    A failed computation is not cached; the next caller tries again.
    """

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: T | None = None
        self._pid = 0

    def get(self) -> T:
        """Return the value, computing it first if this process has not yet."""
        pid = os.getpid()
        if self._pid == pid:
            return self._value  # type: ignore[return-value]
        with self._lock:
            if self._pid != pid:
                self._value = self._make()
                self._pid = pid
            return self._value  # type: ignore[return-value]

    @property
    def ready(self) -> bool:
        """True when this process has the value already (nothing would be computed)."""
        return self._pid == os.getpid()
