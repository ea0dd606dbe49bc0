"""Giving freed memory back to the system between the steps of a long job (the build).

glibc's allocator keeps what a process frees for its next allocations: after one of the build's
rules, whose evaluation in Oxigraph takes 1.2 GB at 10^6 films for a moment, the rule process kept
those 1.2 GB resident until it ended (measured). :func:`release` hands the free pages back
(``malloc_trim``), so that a process's resident memory is what it holds, not the most it ever held.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


@cache
def _trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to hand back this way
        return None


def release() -> None:
    """Collect Python's garbage and hand the allocator's free pages back to the system (glibc; elsewhere a no-op)."""
    gc.collect()
    trim = _trim()
    if trim is not None:
        trim(0)
