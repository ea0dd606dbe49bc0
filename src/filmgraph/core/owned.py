"""Temporary folders removed when their owner object is collected, by the process that made them only."""

from __future__ import annotations

import os
import shutil
import weakref
from pathlib import Path


def _remove_in_owner(path: str, owner: int) -> None:
    # Forked web workers inherit finalizers; only the process that made the folder may remove it,
    # or a recycled worker would delete it under everyone else.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


def remove_with(obj: object, folder: Path | str) -> None:
    """Remove ``folder`` when ``obj`` is collected or the process exits, in this process only."""
    weakref.finalize(obj, _remove_in_owner, str(folder), os.getpid())
