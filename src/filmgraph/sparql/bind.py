"""Bound values for a store that only takes query text: a ``VALUES`` block, each term serialized safely.

A remote SPARQL endpoint only receives text, and Oxigraph plans joins only from
what the text says (a substituted value does not steer its join order), so
both backends send bound values in a ``VALUES`` block written here, never
pasted where the variable stands: IRIs are checked for the
characters an IRI reference cannot hold, literals are written in their
N-Triples form (pyoxigraph escapes quotes, backslashes and line breaks).

Where the block goes matters. A trailing ``VALUES`` (after the whole query) is
joined after grouping and after the top-level FILTERs, so a variable bound only
for a FILTER (a search text) or counted by an aggregate would be unbound where it
is used. The block therefore opens the query's WHERE group, which is what a
pre-bound variable means for the patterns, FILTERs and aggregates of that
group. It trails the query only where there is no such group to open: a
DESCRIBE without WHERE, the short ``CONSTRUCT WHERE`` form (triple patterns
only) and a WHERE group that is a sub-select (which must stand alone).
A variable bound only through a binding and used only inside a nested group's
FILTER stays unbound there (SPARQL evaluates groups bottom-up); the site's named
queries bind variables that their triple patterns use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import pyoxigraph as ox

from ..core.errors import FilmgraphError
from .querytext import FORMS, spans
from ..core.dataset import Bindings, Term

_NOT_IN_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_VARIABLE = re.compile(r"[A-Za-z0-9_]+")


def sparql_term(term: Term) -> str:
    """Write one bound value as SPARQL text; refuse what cannot be written safely."""
    if isinstance(term, ox.NamedNode):
        _check_iri(term.value)
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        _check_iri(term.datatype.value)
        return str(term)  # N-Triples form: quotes, backslashes and line breaks escaped
    # A blank node label means nothing to another store, and RDF-star terms are not portable.
    raise FilmgraphError(f"a {type(term).__name__} cannot be bound in a query sent to a remote store: {term}")


def _check_iri(value: str) -> None:
    bad = _NOT_IN_IRI.search(value)
    if bad:
        raise FilmgraphError(f"IRI {value[:200]!r} holds {bad.group()!r}, which no IRI reference may contain; not sent")


def values_block(bindings: Bindings) -> str:
    """The ``VALUES (?a ?b) { (... ...) }`` block of some bindings."""
    names = [_variable(n) for n in bindings]
    variables = " ".join(f"?{n}" for n in names)
    terms = " ".join(sparql_term(bindings[n]) for n in names)
    return f"VALUES ({variables}) {{ ({terms}) }}"


def bind(query: str, bindings: Bindings | None) -> str:
    """Return the query with its bindings as a VALUES block opening its WHERE group (or trailing it)."""
    if not bindings:
        return query
    return _open_with(query, values_block(bindings))


def bind_each(query: str, name: str, terms: Sequence[Term]) -> str:
    """Return the query with one variable bound to each of several values (one row each), as :func:`bind` places it."""
    return _open_with(query, f"VALUES ?{_variable(name)} {{ {' '.join(sparql_term(t) for t in terms)} }}")


def _variable(name: str) -> str:
    if not _VARIABLE.fullmatch(name):
        raise FilmgraphError(f"not a SPARQL variable name: {name!r}")
    return name


def _open_with(query: str, block: str) -> str:
    at = where_group_start(query)
    if at is None:
        # A newline first: the query may end with a comment.
        return f"{query}\n{block}\n"
    return f"{query[:at]} {block}\n{query[at:]}"


@functools.lru_cache(maxsize=512)  # the site's named queries, bound on every page: scan each text once
def where_group_start(query: str) -> int | None:
    """The offset just inside the query's WHERE group's ``{``, or None where a VALUES block cannot open it."""
    tokens = spans(query)
    form_at = next((i for i, (kind, lexeme, _) in enumerate(tokens) if kind == "word" and lexeme.upper() in FORMS), None)
    if form_at is None:
        return None
    skip = 0
    if tokens[form_at][1].upper() == "CONSTRUCT":
        following = tokens[form_at + 1] if form_at + 1 < len(tokens) else None
        if following is not None and following[0] == "word" and following[1].upper() == "WHERE":
            return None  # the short form: its group is also the template
        skip = 1  # the template comes before the WHERE group
    parens = braces = 0
    for i in range(form_at + 1, len(tokens)):
        kind, lexeme, offset = tokens[i]
        if kind != "other":
            continue
        if lexeme == "(":
            parens += 1
        elif lexeme == ")":
            parens -= 1
        elif lexeme == "}":
            braces -= 1
        elif lexeme == "{":
            if parens == 0 and braces == 0:
                if skip:
                    skip -= 1
                else:
                    following = tokens[i + 1] if i + 1 < len(tokens) else None
                    if following is not None and following[0] == "word" and following[1].upper() == "SELECT":
                        return None
                    return offset + 1
            braces += 1
    return None
