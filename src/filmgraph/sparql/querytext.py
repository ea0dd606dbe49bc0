"""A reading of SPARQL text that agrees with the engine: its form, updates, SERVICE calls, volatile functions.

This runs before the engine sees a query, so that the response format can be
negotiated for the right form and so that SERVICE (which makes the engine send
HTTP requests) and updates are refused before evaluation.

The tokens are the terminals of the SPARQL 1.1 grammar (section 19.8) as the
engine (Oxigraph's ``spargebra`` 0.5, a PEG parser) reads them, where it
differs from the text of the standard:

- keywords are matched by their letters alone, with no word boundary:
  ``SERVICEex:s{}`` is ``SERVICE ex:s {}`` and ``true.SERVICE`` or
  ``trueSERVICE`` may end a literal right before the keyword;
- a local name has at most one run of dots inside (``ex:a.b`` but not
  ``ex:a.b.c``); prefixes have any number;
- only IRIs and strings know ``\\u`` escapes (the query text is not unescaped first);
- white space is space, tab, CR and LF; a comment runs to CR or LF.

Because a keyword may start inside what looks like a longer word, SERVICE is
not looked for among whole tokens: every place in the code (outside strings,
comments, variable names and blank-node labels) where the letters ``service``
begin is tried against the grammar rule ``ServiceGraphPattern``
(``SERVICE SILENT? VarOrIri {``), exactly as the engine would try it. That
reads more places than the engine does, never fewer; the price is that a
query is refused in the rare case where a name ends in ``service`` right
before an IRI or variable and a ``{`` (``?s ex:myservice ?o {}``).

A scan is only the first guard: query workers also run without network access
(see :mod:`filmgraph.sparql.sandbox`), so a query this reading misjudges still cannot
reach out. The differential test in ``tests/sparql/test_querytext_engine.py`` holds
it to the engine on generated queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.errors import BadQuery, QueryRefused
from ..core.memo import sized_lru

# -- terminals, as the engine reads them ---------------------------------------

_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)  # PN_CHARS_BASE; the engine leaves out #x10000-#xEFFFF
_U = _BASE + "_"  # PN_CHARS_U
_PN = _U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"  # PN_CHARS
_VARNAME = rf"[{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*+"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_BASE}][{_PN}]*+(?:\.++[{_PN}]++)*+"
_PN_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:[{_PN}:]|{_PLX})*+(?:\.++(?:[{_PN}:]|{_PLX})++)?+"
_ECHAR = r"""\\[tbnrf"'\\]"""
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

PNAME = re.compile(rf"(?P<prefix>(?:{_PN_PREFIX})?+):(?P<local>{_PN_LOCAL})?+")
VAR = re.compile(rf"[?$]{_VARNAME}")
WS = re.compile(r"(?:[ \t\r\n]++|#[^\r\n]*+)*+")
_IRI_CONTENT = re.compile(r'(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+')

_TOKEN = re.compile(
    rf"""
    (?P<space>[ \t\r\n]++)
  | (?P<comment>\#[^\r\n]*+)
  | (?P<string>'''(?:(?:''|')?+(?:[^'\\]|{_ECHAR}|{_UCHAR}))*+'''
             |\"\"\"(?:(?:\"\"|\")?+(?:[^"\\]|{_ECHAR}|{_UCHAR}))*+\"\"\"
             |'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*+'
             |"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*+")
  | (?P<iri><[^>]*+>)
  | (?P<var>[?$]{_VARNAME})
  | (?P<bnode>_:[{_U}0-9][{_PN}]*+(?:\.++[{_PN}]++)*+)
  | (?P<langtag>@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+)
  | (?P<number>[0-9]++\.[0-9]*+[eE][+-]?+[0-9]++|\.[0-9]++[eE][+-]?+[0-9]++|[0-9]++[eE][+-]?+[0-9]++|[0-9]*+\.[0-9]++|[0-9]++)
  | (?P<pname>(?:{_PN_PREFIX})?+:(?:{_PN_LOCAL})?+)
  | (?P<word>[{_U}][{_U}0-9]*+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
PROLOGUE = {"BASE", "PREFIX"}
VOLATILE = {"RAND", "NOW", "UUID", "STRUUID", "BNODE"}
_SERVICE = re.compile("service", re.IGNORECASE)
_NOT_CODE = {"space", "comment", "string", "var", "bnode"}
"""Kinds of token inside which the engine can never start a keyword."""


@dataclass(frozen=True)
class Token:
    """One terminal: its kind, its text and where it starts."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class QueryShape:
    """What the scan found: the form, the SERVICE targets (as written) and what else decides how to serve it."""

    form: str
    services: tuple[str, ...]
    has_from: bool
    nesting: int = 0
    volatile: bool = False
    """True when the query calls a function whose value changes on every evaluation (RAND, NOW, UUID, STRUUID, BNODE)."""
    prologue: str = field(default="", compare=False)
    """The query's BASE and PREFIX declarations, verbatim (to let the engine resolve a SERVICE target)."""
    service_terms: tuple[str, ...] = field(default=(), compare=False)
    """The SERVICE targets exactly as written (an IRIREF with its brackets); ``services`` shows them without."""

    @property
    def returns_graph(self) -> bool:
        """True for CONSTRUCT and DESCRIBE (RDF results), False for SELECT and ASK."""
        return self.form in {"CONSTRUCT", "DESCRIBE"}


def tokens(text: str) -> list[Token]:
    """Split query text into the grammar's terminals, white space and comments included.

    A ``<`` starts an IRI only where its content is an IRIREF; elsewhere it is an
    operator. A prefixed name is one token; whether its prefix is declared is
    the caller's business.
    """
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        assert m is not None  # the last alternative takes any one character
        kind = m.lastgroup or "other"
        if kind == "iri" and _IRI_CONTENT.fullmatch(text, pos + 1, m.end() - 1) is None:
            m = None  # not an IRIREF: '<' is an operator and its content is code
        if m is None:
            out.append(Token("other", "<", pos))
            pos += 1
            continue
        out.append(Token(kind, m.group(), pos))
        pos = m.end()
    return out


def words(text: str) -> list[tuple[str, str]]:
    """Split query text into (kind, lexeme) pairs, dropping comments and white space.

    Prefixed names and bare words both have the kind ``word``, as they did before the scan followed the grammar.
    """
    return [(kind, lexeme) for kind, lexeme, _ in spans(text)]


def spans(text: str) -> list[tuple[str, str, int]]:
    """Like :func:`words`, with each lexeme's offset in the text (to insert text at a token)."""
    return [("word" if t.kind == "pname" else t.kind, t.text, t.start) for t in tokens(text) if t.kind not in ("space", "comment")]


@sized_lru(8 * 2**20, 256)  # client text: bounded by size, not only by count
def shape(text: str) -> QueryShape:
    """Return what a query is; raise QueryRefused for updates, BadQuery for text that is no query."""
    toks = tokens(text)
    prologue_end = _prologue_end(text)
    form = _keyword_at(text, prologue_end, FORMS)
    if form is None:
        update = _keyword_at(text, prologue_end, UPDATES)
        if update is not None:
            raise QueryRefused(f"SPARQL Update ({update}) is not accepted: this endpoint is read-only", keyword=update)
        found = text[prologue_end : prologue_end + 40].split()
        if not found:
            raise BadQuery("empty query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
        raise BadQuery(f"not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE, found {found[0][:40]!r}")
    code = [t for t in toks if t.kind not in _NOT_CODE]
    terms = tuple(_services(text, toks))
    shown = tuple(t[1:-1] if t.startswith("<") else t for t in terms)
    has_from = any(t.kind in ("word", "pname") and t.text[:4].upper() == "FROM" and t.start > prologue_end for t in code)
    volatile = any(_calls_volatile(text, t) for t in code if t.kind in ("word", "pname"))
    depth = nesting([(t.kind, t.text) for t in code])
    return QueryShape(form, shown, has_from, depth, volatile, text[:prologue_end], terms)


def _calls_volatile(text: str, token: Token) -> bool:
    """A call of RAND, NOW, UUID, STRUUID or BNODE: a name that ends the token (a keyword may stand right before it), then ``(``."""
    upper = token.text.upper()
    return any(upper.endswith(name) for name in VOLATILE) and text.startswith("(", WS.match(text, token.end).end())  # type: ignore[union-attr]


def _keyword_at(text: str, at: int, keywords: set[str]) -> str | None:
    """The keyword the engine reads at ``at``: its letters, in any case, with no word boundary needed."""
    head = text[at : at + 9].upper()
    return next((k for k in sorted(keywords, key=len, reverse=True) if head.startswith(k)), None)


def _prologue_end(text: str) -> int:
    """Where the BASE and PREFIX declarations end (the grammar's ``_ Prologue _``)."""
    pos = WS.match(text).end()  # type: ignore[union-attr]
    while True:
        word = text[pos : pos + 6].upper()
        if word.startswith("BASE"):
            after = WS.match(text, pos + 4).end()  # type: ignore[union-attr]
            end = _iriref_end(text, after)
        elif word == "PREFIX":
            after = WS.match(text, pos + 6).end()  # type: ignore[union-attr]
            m = PNAME.match(text, after)
            end = None
            if m is not None and m.group("local") is None:
                end = _iriref_end(text, WS.match(text, m.end()).end())  # type: ignore[union-attr]
        else:
            return pos
        if end is None:
            return pos
        pos = WS.match(text, end).end()  # type: ignore[union-attr]


def _iriref_end(text: str, at: int) -> int | None:
    if not text.startswith("<", at):
        return None
    close = text.find(">", at + 1)
    if close < 0 or _IRI_CONTENT.fullmatch(text, at + 1, close) is None:
        return None
    return close + 1


def _services(text: str, toks: list[Token]) -> list[str]:
    """The target of every place where the engine could read ``SERVICE SILENT? VarOrIri {``."""
    found = []
    at_token = 0
    for m in _SERVICE.finditer(text):
        while at_token + 1 < len(toks) and toks[at_token + 1].start <= m.start():
            at_token += 1
        if toks and toks[at_token].kind in _NOT_CODE:
            continue
        target = service_target(text, m.end())
        if target is not None:
            found.append(target)
    return found


def service_target(text: str, at: int) -> str | None:
    """After the letters SERVICE at ``at``: the target as written, if ``SILENT? VarOrIri {`` follows, else None.

    The two alternatives of the rule are tried in the engine's order (with SILENT
    first). Any well-formed prefixed name counts, declared or not: an undeclared
    one fails in the engine, so reading it as a call only refuses a query that
    would not run.
    """
    after = WS.match(text, at).end()  # type: ignore[union-attr]
    starts = [after]
    if text[after : after + 6].upper() == "SILENT":
        starts.insert(0, WS.match(text, after + 6).end())  # type: ignore[union-attr]
    for start in starts:
        end = _var_or_iri_end(text, start)
        if end is not None and text.startswith("{", WS.match(text, end).end()):  # type: ignore[union-attr]
            return text[start:end]
    return None


def _var_or_iri_end(text: str, at: int) -> int | None:
    for pattern in (VAR, PNAME):
        m = pattern.match(text, at)
        if m is not None:
            return m.end()
    if text.startswith("<", at):
        close = text.find(">", at + 1)
        return close + 1 if close >= 0 else None  # any <...>: an IRI the engine rejects only fails the query
    return None


_OPENERS = {"{", "(", "["}
_CLOSERS = {"}", ")", "]"}


def nesting(lexemes: list[tuple[str, str]]) -> int:
    """How deep a query nests: the most brackets open at once, each ``!`` counting as one more until its bracket closes.

    The engine parses and evaluates nested expressions recursively, so a deep
    enough query overflows its stack and kills the process; this is the depth
    the query limit ``max_query_nesting`` bounds. Long flat chains (``UNION``,
    ``||``, ``+``) also recurse, but need more stack per character than a
    worker lacks (see :mod:`filmgraph.sparql.workers`).
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


def resolve(found: QueryShape, target: str, base: str | None) -> str | None:
    """A SERVICE target as the engine reads it: escapes undone, prefix expanded, resolved against BASE and ``base``.

    The engine itself does it, on a query that only binds the target
    (``SELECT (target AS ?t) {}``) over an empty store in memory: no rule of
    IRI processing is repeated here. None for a variable or for text the
    engine does not read as an IRI.
    """
    if VAR.fullmatch(target) or (target.startswith("<") and _IRI_CONTENT.fullmatch(target, 1, len(target) - 1) is None):
        return None  # only one IRIREF or prefixed name goes into the engine's query below
    return _resolve(found.prologue, target, base)


@sized_lru(2**20, 256)
def _resolve(prologue: str, target: str, base: str | None) -> str | None:
    import pyoxigraph as ox

    kwargs = {"base_iri": base} if base else {}
    try:
        solutions = ox.Store().query(f"{prologue}\nSELECT ({target}\n AS ?t) {{}}", **kwargs)  # type: ignore[arg-type]
        term = next(iter(solutions))["t"]  # type: ignore[index, call-overload]
    except (SyntaxError, ValueError, OSError, StopIteration, TypeError):
        return None
    return term.value if isinstance(term, ox.NamedNode) else None


def check_services(found: QueryShape, allowed: tuple[str, ...], base: str | None = None) -> tuple[str, ...]:
    """Refuse SERVICE calls unless every one names an allow-listed endpoint; return the endpoints, as the engine reads them.

    The comparison is made after the engine's own IRI processing (escapes, prefixes, BASE and the
    request's URL), so ``<http://a/\\u0078>``, ``ex:x`` and a relative ``<x>`` match the IRI they name.
    """
    resolved = []
    for target in found.service_terms:
        iri = resolve(found, target, base) if allowed else None
        if iri is None or iri not in allowed:
            shown = iri or target or "(none)"
            raise QueryRefused(
                f"SERVICE {shown} is refused: this endpoint makes no outbound requests"
                + ("" if not allowed else f" except to {', '.join(allowed)}"),
                service=shown,
            )
        resolved.append(iri)
    return tuple(resolved)
