"""A memo bounded by the size of what it keeps, for functions of client-sent text.

``functools.lru_cache(maxsize=256)`` bounds the number of entries, not their
size: 256 query texts of 1 MB are 256 MB per process. :func:`sized_lru` keeps
the recent calls whose text arguments add up to at most ``budget`` characters
(counted twice: the result of a scan holds parts of its text), least recently
used out first.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MISSING = object()


def _weight(args: tuple[object, ...]) -> int:
    return 2 * sum(len(a) for a in args if isinstance(a, str | bytes)) + 64


def sized_lru(budget: int, maxsize: int = 1024) -> Callable[[F], F]:
    """Memoize a function of hashable arguments, keeping at most ``maxsize`` calls and ``budget`` characters of them."""

    def wrap(fn: F) -> F:
        kept: OrderedDict[tuple[object, ...], tuple[object, int]] = OrderedDict()
        lock = threading.Lock()
        held = [0]

        @functools.wraps(fn)
        def call(*args: object) -> object:
            with lock:
                found = kept.get(args, _MISSING)
                if found is not _MISSING:
                    kept.move_to_end(args)
                    return found[0]  # type: ignore[index]
            value = fn(*args)  # an exception is not kept: the next call raises it again
            weight = _weight(args)
            if weight > budget // 8:  # one call may take an eighth at most: a few long texts never flush the rest
                return value
            with lock:
                if args not in kept:
                    kept[args] = (value, weight)
                    held[0] += weight
                    while held[0] > budget or len(kept) > maxsize:
                        _, (_, w) = kept.popitem(last=False)
                        held[0] -= w
            return value

        def cache_clear() -> None:
            with lock:
                kept.clear()
                held[0] = 0

        call.cache_clear = cache_clear  # type: ignore[attr-defined]
        call.cache_size = lambda: held[0]  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap
