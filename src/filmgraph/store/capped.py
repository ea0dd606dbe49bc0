"""Reading a whole answer from a store that caps its answers, in parts it need not sort.

Virtuoso returns at most ``ResultSetMaxRows`` rows of an answer, and at most 2^20 over HTTP whatever that is
set to; it says so in an ``X-SPARQL-MaxRows`` header (the remote backend reads it), other stores may cap
without saying (the site index checks every answer against a ``COUNT``). Ordered pages (``ORDER BY ... LIMIT
... OFFSET``) would make it sort the whole answer once a page, and it refuses to sort more than
``MaxSortedTopRows`` rows (10,000 by default: error SR353), so past that a page cannot be asked at all.

Instead the answer is read in parts, by the MD5 of one variable's text, which every SPARQL 1.1 store
computes: a part holds the rows whose hash starts with one of a set of hexadecimal prefixes; the rows where
the variable has no text (a blank node, unbound) are one more part. The parts are disjoint and cover the
answer. A part that was cut too is asked again as smaller parts (longer prefixes), and one that cannot be
made smaller that way (many rows with one value) is split on the next variable. Where the store counted the
rows, the rows read must number as many at the end, or the store changed meanwhile (an error, never a short
index). Each part costs the store one pass over the answer's rows, so there are as few as the cap allows,
with room: twice as many as the count needs.

The query is kept whole inside each part (a subquery), so its own ``ORDER BY``, ``LIMIT`` and ``GROUP BY``
mean what they meant; a ``LIMIT`` without ``ORDER BY`` lets a store take other rows each time it runs the
query, in parts as in whole answers (filmgraph's own limited queries ask for at most 4,001 rows, fewer than
Virtuoso's default cap of 10,000).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence

from ..core.dataset import Row
from ..core.errors import FilmgraphError

HEX = "0123456789abcdef"
MAX_PREFIX = 3
"""Longest hash prefix a part is split into on one variable; past it, the part is split on the next variable."""

_BODY = re.compile(r"^\s*SELECT\b", re.IGNORECASE | re.MULTILINE)


Select = Callable[[str], tuple[list[Row], bool]]
"""Runs a SELECT: its rows, and whether the store cut them at its cap."""


def read_in_parts(select: Select, query: str, cap: int, variables: Sequence[str], total: int | None = None) -> Iterator[Row]:
    """Every row of ``query`` (bound already) from a store that cut its answer at ``cap`` rows, part by part.

    The parts are split on the first of ``variables``; a part still cut when split as far as :data:`MAX_PREFIX`
    goes, or the rows where that variable has no text, are split on the next one. ``total``, when the store
    counted the rows, is checked at the end."""
    got = 0
    for row in _parts(select, query, cap, list(variables), total):
        got += 1
        yield row
    if total is not None and got != total:
        raise FilmgraphError(f"the store's answer changed while it was read in parts ({got:,} rows, {total:,} counted): build again once it is loaded")


def _parts(select: Select, query: str, cap: int, variables: list[str], total: int | None) -> Iterator[Row]:
    if not variables:
        raise FilmgraphError(f"the store caps its answers at {cap:,} rows, and more rows than that cannot be told apart by their values: "
                             "raise its cap (Virtuoso: ResultSetMaxRows)")
    variable, rest = variables[0], variables[1:]
    prologue, body = _split(query)
    groups = max(2, min(len(HEX), 2 * math.ceil((total or 2 * cap) / max(cap, 1))))
    todo: list[tuple[str, ...]] = [tuple(HEX[i::groups]) for i in range(groups)]
    while todo:
        prefixes = todo.pop(0)
        part = _part(prologue, body, variable, prefixes)
        rows, cut = select(part)
        if cut and len(prefixes[0]) >= MAX_PREFIX:
            yield from _parts(select, part, cap, rest, None)
        elif cut:
            longer = [p + h for p in prefixes for h in HEX]
            todo[:0] = [tuple(longer[i::len(HEX)]) for i in range(len(HEX))]
        else:
            yield from rows
    part = _part(prologue, body, variable, None)
    rows, cut = select(part)
    if cut:
        yield from _parts(select, part, cap, rest, None)
    else:
        yield from rows


def _split(query: str) -> tuple[str, str]:
    """The query's prologue (PREFIX, BASE, comments) and its SELECT."""
    match = _BODY.search(query)
    if match is None:
        raise FilmgraphError("not a SELECT query")
    return query[: match.start()], query[match.start():]


def _part(prologue: str, body: str, var: str, prefixes: tuple[str, ...] | None) -> str:
    """The query's rows whose ``?var`` text hashes into ``prefixes`` (``None``: the rows where it has no text)."""
    if prefixes is None:
        keep = f"!BOUND(?{var}) || isBLANK(?{var})"
    else:
        quoted = ", ".join(f'"{p}"' for p in prefixes)
        keep = f"SUBSTR(MD5(STR(?{var})), 1, {len(prefixes[0])}) IN ({quoted})"
    return f"{prologue}SELECT * WHERE {{\n{{ {body}\n}}\nFILTER({keep})\n}}"
