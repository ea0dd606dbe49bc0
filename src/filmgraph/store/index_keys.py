"""What the site index holds and the keys it sorts and searches by: shared by the build (:mod:`filmgraph.store.index_build`)
and the reader (:mod:`filmgraph.store.index`)."""

from __future__ import annotations

import re

from ..core.textkeys import plain_key

COMMON_WORD = 10_000
"""Labels a word may be in and still find reconciliation candidates by itself (ranking all the labels that hold
"film", 1.5 million at 10^6 generated films, takes a second)."""

FORMAT = 2
"""Version of the index's tables; an index of another version is refused (rebuild the store)."""

COLLECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "film": (("Films of the list", "fg:FilmRecord"), ("Real films", "fg:Film")),
    "mission": (("Missions", "fg:SpaceMission"), ("Programmes and projects", "fg:Programme")),
    "theme": (("Themes", "skos:Concept"),),
    "year": (("Years", "fg:Year"),),
    "person": (("People", "schema:Person"),),
    "work": (("Works", "schema:CreativeWork"),),
    "claim": (("Claims of the list", "fg:Claim"),),
    "organization": (("Organizations", "schema:Organization"),),
    "country": (("Countries", "schema:Country"),),
}
"""What each kind's collection holds: (heading, type as a prefixed name); a member's IRI must be of the kind."""

DISPLAY_SOURCES = ("name", "prefLabel", "label")
"""Sources a display label comes from (titles in other languages are aliases, not the name)."""

_DIGITS = re.compile(r"\d+")
_ARTICLE = re.compile(r"^(?:the|a|an) ")

def sort_key(text: str, plain: str | None = None) -> str:
    """The key a label sorts by: normalised like reconciliation's keys, a leading article dropped, numbers padded (2 < 10)."""
    key = _ARTICLE.sub("", plain_key(text) if plain is None else plain)
    return _DIGITS.sub(_pad, key)


def _pad(match: re.Match[str]) -> str:
    return match.group().zfill(12)


def search_keys(plain: str, loose: str) -> str:
    """The words FTS5 indexes for one label: its plain and loose keys' words, once each."""
    return " ".join(dict.fromkeys(plain.split() + loose.split()))
