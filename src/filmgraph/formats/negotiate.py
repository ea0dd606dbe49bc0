"""Content negotiation as a pure function: (Accept, override) -> Format, or NotAcceptable."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_list_header, parse_options_header

from ..core.errors import NotAcceptable
from .table import Format


def _accept(header: str | None) -> MIMEAccept:
    # Media-type parameters other than q (charset, profile) must not stop a match:
    # "text/turtle; charset=utf-8" asks for Turtle.
    ranges = []
    for item in parse_list_header(header or ""):
        media, params = parse_options_header(item)
        if media:
            ranges.append((media.strip().lower(), weight(params.get("q"))))
    return MIMEAccept(ranges)


_QVALUE = re.compile(r"[0-9]+(?:\.[0-9]*)?")


def weight(q: str | None) -> float:
    """The weight of a media range from its ``q`` parameter (RFC 9110 section 12.4.2).

    A q that is not a number from 0 to 1 (``q=2``, ``q=-1``, ``q=abc``) is ignored, as if it
    were absent: weight 1, so that the range still counts. A finer one than the RFC's three
    decimals (``q=0.1234``) is rounded to them, never down to 0 (which would refuse the range).
    """
    if q is None:
        return 1.0
    q = q.strip(" \t")
    if _QVALUE.fullmatch(q) is None:
        return 1.0
    value = float(q)
    if value > 1:
        return 1.0
    return max(round(value, 3), 0.001) if value > 0 else 0.0


def _offered_names(offered: Sequence[Format]) -> list[str]:
    return [f"{f.media_type} (format={f.aliases[0] if f.aliases else f.name})" for f in offered]


def by_override(overrides: Iterable[str], offered: Sequence[Format]) -> Format | None:
    """Return the format a ``format=`` / ``output=`` / ``results=`` value names, if any.

    Several values may come (SPARQLWrapper sends the same one under three names,
    sometimes twice); the first that names an offered format wins. Values may be
    short names (``json``) or media types (``application/sparql-results+json``).
    Raises NotAcceptable when values were given and none is offered.
    """
    values = [v.strip().lower() for v in overrides if v and v.strip()]
    if not values:
        return None
    for value in values:
        bare = value.split(";", 1)[0].strip()
        for f in offered:
            if bare in f.aliases or bare == f.name or bare == f.media_type or bare in f.also_accepts:
                return f
    raise NotAcceptable(
        f"format {values[0]!r} is not offered here; offered: {', '.join(_offered_names(offered))}",
        offered=[f.media_type for f in offered],
    )


def choose(accept: str | None, offered: Sequence[Format], overrides: Iterable[str] = ()) -> Format:
    """Choose the response format: an override first, then Accept, then the default.

    ``offered`` is in order of preference; its first entry is the default for an
    empty Accept or ``*/*``. No match raises NotAcceptable listing what is offered.
    """
    chosen = by_override(overrides, offered)
    if chosen is not None:
        return chosen
    if not accept or not accept.strip():
        return offered[0]
    offered = tuple(offered)
    # Clients send the same few Accept headers again and again; parsing one costs more than the
    # rest of a cached answer. Long (odd) headers are not kept.
    best = _best_cached(accept, offered) if len(accept) <= _CACHED_ACCEPT_LENGTH else _best(accept, offered)
    if best is None:
        raise NotAcceptable(
            f"none of the offered formats matches Accept: {accept[:200]}; offered: {', '.join(_offered_names(offered))}",
            offered=[f.media_type for f in offered],
        )
    return best


_CACHED_ACCEPT_LENGTH = 512


def _best(accept: str, offered: tuple[Format, ...]) -> Format | None:
    acc = _accept(accept)
    candidates: list[str] = []
    owner: dict[str, Format] = {}
    for f in offered:
        for mt in (f.media_type, *f.also_accepts):
            if mt not in owner:
                owner[mt] = f
                candidates.append(mt)
    # best_match prefers the earlier candidate on equal quality, so primary types win ties.
    best = acc.best_match(candidates)
    return None if best is None else owner[best]


_best_cached = functools.lru_cache(maxsize=1024)(_best)
