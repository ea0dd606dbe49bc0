"""The read-only dataset behind every service."""

from __future__ import annotations

from .base import Bindings, DatasetSpec, Row, Store, Term

__all__ = ["Bindings", "DatasetSpec", "Row", "Store", "Term"]
