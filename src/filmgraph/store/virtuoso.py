"""Virtuoso's dialect: what its answers say differently from the data, read back as the data wrote it.

Used by the remote backend (:mod:`.remote`) when the store's ``Server`` header names Virtuoso: its SQL states
for time-outs and compile errors, its row cap, its xsd:duration literals kept as seconds, and its blank node
ids (``nodeID://b1``), which are not valid ones.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pyoxigraph as ox

# Virtuoso's SQL states: an answer cut at its time limit ("anytime" results), a query stopped by it.
PARTIAL_STATES = ("S1TAT",)
TIMEOUT_STATES = ("S1T00", "S1TAT")
COMPILE_ERROR = "Virtuoso 37000 Error"

XSD_DURATION = "http://www.w3.org/2001/XMLSchema#duration"
_SECONDS = re.compile(r"-?\d+(?:\.\d*)?")


def duration_text(seconds: float) -> str:
    """An xsd:duration's lexical form for a number of seconds: 1140 -> ``PT19M``, 3725.5 -> ``PT1H2M5.5S``."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{int(v)}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if secs or not text:
        text += f"{secs:g}S"
    return f"{sign}PT{text}"


def from_virtuoso(term: ox.Term | None) -> ox.Term | None:
    """A term as the data wrote it: Virtuoso keeps an xsd:duration as its seconds (``"1140.0"^^xsd:duration``)."""
    if isinstance(term, ox.Literal) and term.datatype.value == XSD_DURATION and _SECONDS.fullmatch(term.value):
        return ox.Literal(duration_text(float(term.value)), datatype=term.datatype)
    return term


class _Solution:
    """One solution with its terms as the data wrote them (:func:`from_virtuoso`), by variable name or position."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: tuple[ox.Term | None, ...]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str) -> ox.Term | None:
        return self._values[key if isinstance(key, int) else self._names[key]]


class Solutions:
    """Virtuoso's solutions, their terms as the data wrote them; ``cap``: the row cap that cut them, if one did."""

    def __init__(self, solutions: ox.QuerySolutions, cap: int | None = None) -> None:
        self.variables = solutions.variables
        self.cap = cap
        self._solutions = solutions
        self._names = {v.value: i for i, v in enumerate(solutions.variables)}

    def __iter__(self) -> Iterator[_Solution]:
        width = len(self._names)
        for sol in self._solutions:
            yield _Solution(self._names, tuple(from_virtuoso(sol[i]) for i in range(width)))


ROW_CAP_HEADER = "X-SPARQL-MaxRows"
"""Sent by Virtuoso only when its ``ResultSetMaxRows`` cut a SELECT's answer, with that cap."""


def row_cap(value: str | None) -> int | None:
    """The row cap that cut an answer, from the value of :data:`ROW_CAP_HEADER`; ``None`` when the answer is whole."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


class BlankIds(io.RawIOBase):
    """Virtuoso's SPARQL XML results with its blank node ids (``nodeID://b10000``) made valid ones (``b10000``).

    In XML the marker cannot occur inside a literal (its ``<`` would be escaped), so the rewrite touches only
    ``<bnode>`` elements; a marker split between two reads is kept back until the next one."""

    MARK = b"<bnode>nodeID://"

    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__()
        self._raw = raw
        self._pending = b""
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._out:
            chunk = self._raw.read(65536)
            if not chunk:
                self._out, self._pending = self._pending, b""
                break
            data = (self._pending + chunk).replace(self.MARK, b"<bnode>")
            keep = next((k for k in range(len(self.MARK) - 1, 0, -1) if data.endswith(self.MARK[:k])), 0)
            self._out, self._pending = (data[:-keep], data[-keep:]) if keep else (data, b"")
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n
