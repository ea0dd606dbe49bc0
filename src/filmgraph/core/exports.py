"""A wing's public names, imported from its modules on first use (PEP 562).

A wing's ``__init__`` names its public face without importing every module of
the wing: importing one module (``filmgraph.sparql.querytext``) never pulls in
the rest (the query workers, the result cache), and no import circle can run
through a package's ``__init__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that finds each public name in the module ``names`` gives it."""

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
