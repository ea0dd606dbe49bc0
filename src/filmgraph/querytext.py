"""A lexical look at SPARQL text: its form (SELECT, ASK, ...), updates, and SERVICE calls.

This runs before the engine sees a query, so that the response format can be
negotiated for the right form and so that SERVICE (which makes the engine send
HTTP requests) and updates are refused before evaluation. The engine still
parses the query fully; this only has to find keywords outside strings, IRIs
and comments, which the SPARQL grammar makes unambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadQuery, QueryRefused

# Order matters: long strings before short ones; IRIREF per the SPARQL grammar.
_LEXEME = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\U000EFFFF]+)
  | (?P<word>[A-Za-z_\u00C0-\U000EFFFF][A-Za-z0-9_\-.\u00B7-\U000EFFFF]*(?::[^\s{}()\[\],;]*)?|:[^\s{}()\[\],;]*)
  | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)

FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
VOLATILE = {"RAND", "NOW", "UUID", "STRUUID", "BNODE"}
UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
PROLOGUE = {"BASE", "PREFIX"}


@dataclass(frozen=True)
class QueryShape:
    """What the lexical scan found: the query form and the SERVICE IRIs it calls."""

    form: str
    services: tuple[str, ...]
    has_from: bool
    nesting: int = 0
    volatile: bool = False
    """True when the query calls a function whose value changes on every evaluation (RAND, NOW, UUID, STRUUID, BNODE)."""

    @property
    def returns_graph(self) -> bool:
        """True for CONSTRUCT and DESCRIBE (RDF results), False for SELECT and ASK."""
        return self.form in {"CONSTRUCT", "DESCRIBE"}


def words(text: str) -> list[tuple[str, str]]:
    """Split query text into (kind, lexeme) pairs, dropping comments and white space."""
    out = []
    for m in _LEXEME.finditer(text):
        kind = m.lastgroup or "other"
        if kind != "comment":
            out.append((kind, m.group()))
    return out


def spans(text: str) -> list[tuple[str, str, int]]:
    """Like :func:`words`, with each lexeme's offset in the text (to insert text at a token)."""
    return [(m.lastgroup or "other", m.group(), m.start()) for m in _LEXEME.finditer(text) if m.lastgroup != "comment"]


def shape(text: str) -> QueryShape:
    """Return the form of a query; raise QueryRefused for updates, BadQuery for no form."""
    lexemes = words(text)
    depth = nesting(lexemes)
    form = None
    expect_iri_for_prologue = 0
    services: list[str] = []
    has_from = False
    volatile = False
    for i, (kind, lexeme) in enumerate(lexemes):
        upper = lexeme.upper() if kind == "word" else ""
        if form is None:
            if expect_iri_for_prologue:
                expect_iri_for_prologue -= 1
                continue
            if upper in PROLOGUE:
                expect_iri_for_prologue = 2 if upper == "PREFIX" else 1
                continue
            if upper in FORMS:
                form = upper
                continue
            if upper in UPDATES:
                raise QueryRefused(
                    f"SPARQL Update ({upper}) is not accepted: this endpoint is read-only",
                    keyword=upper,
                )
            raise BadQuery(f"not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE, found {lexeme[:40]!r}")
        if upper == "SERVICE":
            services.append(_service_target(lexemes, i))
        elif upper == "FROM":
            has_from = True
        elif upper in VOLATILE and i + 1 < len(lexemes) and lexemes[i + 1][1] == "(":
            volatile = True
    if form is None:
        raise BadQuery("empty query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return QueryShape(form, tuple(services), has_from, depth, volatile)


_OPENERS = {"{", "(", "["}
_CLOSERS = {"}", ")", "]"}


def nesting(lexemes: list[tuple[str, str]]) -> int:
    """How deep a query nests: the most brackets open at once, each ``!`` counting as one more until its bracket closes.

    The engine parses and evaluates nested expressions recursively, so a deep
    enough query overflows its stack and kills the process; this is the depth
    the query limit ``max_query_nesting`` bounds. Long flat chains (``UNION``,
    ``||``, ``+``) also recurse, but need more stack per character than a
    worker lacks (see :mod:`filmgraph.workers`).
    """
    frames = [0]
    depth = deepest = 0
    for kind, lexeme in lexemes:
        if kind != "other":
            continue
        if lexeme in _OPENERS:
            frames.append(0)
            depth += 1
        elif lexeme in _CLOSERS:
            if len(frames) > 1:
                depth -= 1 + frames.pop()
        elif lexeme == "!":
            frames[-1] += 1
            depth += 1
        deepest = max(deepest, depth)
    return deepest


def _service_target(lexemes: list[tuple[str, str]], at: int) -> str:
    for kind, lexeme in lexemes[at + 1 : at + 3]:
        if kind == "word" and lexeme.upper() == "SILENT":
            continue
        if kind == "iri":
            return lexeme[1:-1]
        return lexeme
    return ""


def check_services(found: QueryShape, allowed: tuple[str, ...]) -> None:
    """Refuse SERVICE calls unless every one names an allow-listed endpoint IRI."""
    for target in found.services:
        if target not in allowed:
            shown = target or "(none)"
            raise QueryRefused(
                f"SERVICE {shown} is refused: this endpoint makes no outbound requests"
                + ("" if not allowed else f" except to {', '.join(allowed)}"),
                service=shown,
            )
