"""The duplicate rule: film records that probably list one film twice, found from the data.

SPARQL cannot compare titles loosely, so this rule is Python over the store (one
SELECT, ``queries/duplicate-candidates.rq``), registered beside the ``.rq`` rules
with the same finding shape (see :mod:`filmgraph.truth.rules`). Two records are a
probable pair when

- both are identified as the same real film; or
- a title of one is a title of the other: the other record's own title, or any
  title (name, original title, other titles in any language) of the real film
  it is identified as, compared after the reconciliation service's normaliser
  (transliteration, accents, case, punctuation, articles: ``loose_key``) and a
  fold of English word forms (``is``/``are`` dropped, ``calling``/``calls`` ->
  ``call``), with a similarity of at least :data:`MIN_SIMILARITY`; and the two
  are at most :data:`MAX_YEARS` years apart (the record's year, or the year of
  the film it is identified as), so that a remake decades later is no pair.

Each pair is reported once, the smaller IRI as ``concerns``; the message gives
the titles, the similarity, the years and whether a curator's ``fg:duplicateOf``
says the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pyoxigraph import Literal

from ..core.namespaces import prefixes
from ..core.dataset import Store, Term, select_rows

MIN_SIMILARITY = 0.9
"""Title similarity (0 to 1, after normalising) from which two titles are the same title."""

MAX_YEARS = 10
"""Two records further apart than this many years are not paired by their titles (a remake, a sequel)."""

COMMON_WORD = 500
"""A word in more titles than this does not by itself make two titles worth comparing (``space``, ``film``)."""

_COMMON = "<common>"
"""Stands for the records of a word too common to pair records by (never an IRI: IRIs are not compared by identity)."""

_AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "am", "the", "a", "an"})
_SUFFIXES = ("ing", "es", "ed", "s")


def word_form(word: str) -> str:
    """Fold an English word form to its stem, roughly: ``caling`` and ``cals`` -> ``cal`` (keys are loose already)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1 << 16)
def title_key(text: str) -> str:
    """The key two titles are compared by: the reconciliation's loose key, auxiliaries and articles dropped, word forms folded.

    Kept for the most recent titles: a record is compared with every other record sharing one of its words."""
    from ..core.textkeys import loose_key

    return " ".join(word_form(w) for w in loose_key(text).split() if w not in _AUXILIARIES)


@dataclass(slots=True)
class _Record:
    iri: str
    title: str = ""
    title_en: bool = False
    """The title is an English one (an English title is preferred; then the smallest text)."""
    year: int | None = None
    film: str | None = None
    film_year: int | None = None
    film_titles: dict[str, str] | None = None
    """Title text -> language tag (``""`` for none) of the real film the record is identified as (None: none)."""
    curated: set[str] | None = None
    """The records a curator says this one repeats (None: none); a record has no dict or set it does not need:
    at 10^6 films the empty ones took a quarter of the rule's memory."""


def _int(term: Term | None) -> int | None:
    if isinstance(term, Literal):
        try:
            return int(term.value)
        except ValueError:
            return None
    return None


def _earliest(known: int | None, found: int | None) -> int | None:
    return found if known is None or (found is not None and found < known) else known


def _records(store: Store) -> dict[str, _Record]:
    text = (resources.files("filmgraph") / "queries" / "duplicate-candidates.rq").read_text(encoding="utf-8")
    query = "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in prefixes(store.base_iri).items()) + "\n" + text
    records: dict[str, _Record] = {}
    for row in select_rows(store, query):
        iri = row["record"].value  # type: ignore[union-attr]
        r = records.get(iri)
        if r is None:
            r = records[iri] = _Record(iri)
        # Whatever order the store gives the rows in (Virtuoso's is not Oxigraph's), the same record: an English
        # title before others and the smallest text among equals, the earliest year, the smallest film IRI and language tag.
        title = row.get("title")
        if isinstance(title, Literal):
            english = title.language == "en"
            if not r.title or (english and not r.title_en) or (english == r.title_en and title.value < r.title):
                r.title, r.title_en = title.value, english
        r.year = _earliest(r.year, _int(row.get("year")))
        if row.get("film") is not None:
            film = row["film"].value  # type: ignore[union-attr]
            r.film = film if r.film is None or film < r.film else r.film
            r.film_year = _earliest(r.film_year, _int(row.get("filmYear")))
            t = row.get("filmTitle")
            if isinstance(t, Literal):
                if r.film_titles is None:
                    r.film_titles = {}
                lang = t.language or ""
                if r.film_titles.get(t.value, lang) >= lang:
                    r.film_titles[t.value] = lang
        if row.get("curated") is not None:
            if r.curated is None:
                r.curated = set()
            r.curated.add(row["curated"].value)  # type: ignore[union-attr]
    return records


def _years_apart(a: _Record, b: _Record) -> int | None:
    gaps = [abs(x - y) for x in (a.year,) for y in (b.year, b.film_year) if x is not None and y is not None]
    gaps += [abs(x - y) for x in (a.film_year,) for y in (b.year,) if x is not None and y is not None]
    return min(gaps) if gaps else None


@dataclass(frozen=True)
class _Match:
    similarity: float
    why: str


def _title_match(a: _Record, b: _Record) -> _Match | None:
    """The best match of one record's own title with a title the other is known by (its own, or its film's).

    Titles equally similar once folded are told apart by their text as written (``Небо Зовёт!`` is nearer
    ``Небо зовёт`` than ``Nebo zovyot``), then by text and language: the finding is the same whatever order
    the store gives the titles in (Virtuoso's is not Oxigraph's)."""
    from difflib import SequenceMatcher

    from ..core.textkeys import similarity

    best: _Match | None = None
    best_rank = (0.0, 0.0)
    for one, other in ((a, b), (b, a)):
        key = title_key(one.title)
        if not key:
            continue
        known = [(other.title, None)] + sorted((other.film_titles or {}).items())
        for text, lang in known:
            sim = similarity(key, title_key(text), MIN_SIMILARITY)
            if sim < MIN_SIMILARITY or (best is not None and sim < best.similarity):
                continue
            rank = (sim, SequenceMatcher(None, one.title.casefold(), text.casefold()).ratio())
            if best is not None and rank <= best_rank:
                continue
            if lang is None:
                why = f"'{one.title}' and '{text}' are the same title"
            else:
                tag = f"@{lang}" if lang else ""
                why = f"'{one.title}' is the title '{text}'{tag} of <{other.film}>, which <{other.iri}> is identified as,"
            best, best_rank = _Match(sim, why), rank
    return best


def _candidates(records: dict[str, _Record]) -> Iterable[tuple[_Record, _Record]]:
    """Pairs worth comparing: records sharing a word of a title they are known by, or identified as one film."""
    # A word's records: one IRI as itself, a set from the second (most words are one record's), and
    # _COMMON once the word is in more than COMMON_WORD titles (it pairs nothing by itself, and at 10^6
    # films each such set held hundreds of thousands of IRIs).
    by_word: dict[str, str | set[str]] = {}

    def add(word: str, iri: str) -> None:
        found = by_word.get(word)
        if found is None:
            by_word[word] = iri
        elif isinstance(found, str):
            if found != iri and found is not _COMMON:
                by_word[word] = {found, iri}
        else:
            found.add(iri)
            if len(found) > COMMON_WORD and not word.startswith("<"):
                by_word[word] = _COMMON

    for r in records.values():
        for text in (r.title, *(r.film_titles or ())):
            for word in title_key(text).split():
                add(word, r.iri)
        if r.film:
            add(f"<{r.film}>", r.iri)
    seen: set[tuple[str, str]] = set()
    for word, iris in by_word.items():
        if isinstance(iris, str):
            continue
        ordered = sorted(iris)
        for i, x in enumerate(ordered):
            for y in ordered[i + 1:]:
                if (x, y) not in seen:
                    seen.add((x, y))
                    yield records[x], records[y]


def _year(r: _Record) -> str:
    return f" ({r.year})" if r.year is not None else ""


def find_duplicates(store: Store) -> list[dict[str, str]]:
    """The rule's findings as rows (``concerns``, ``related``, ``message``), one per probable pair."""
    records = _records(store)
    rows = []
    for a, b in _candidates(records):
        if a.film and a.film == b.film:
            reason = f"both are identified as <{a.film}>"
        else:
            match = _title_match(a, b)
            gap = _years_apart(a, b)
            if match is None or (gap is not None and gap > MAX_YEARS):
                continue
            apart = "" if gap is None else f", {gap} year{'' if gap == 1 else 's'} apart"
            reason = (f"{match.why} once word forms, articles, punctuation and transliteration are folded "
                      f"(similarity {match.similarity:.2f}{apart})")
        if b.iri in (a.curated or ()) or a.iri in (b.curated or ()):
            dup, orig = (a, b) if b.iri in (a.curated or ()) else (b, a)
            curator = f"; the curated data agrees (<{dup.iri}> fg:duplicateOf <{orig.iri}>)"
        else:
            curator = "; no fg:duplicateOf states it"
        rows.append({
            "concerns": a.iri,
            "related": b.iri,
            "message": (f"records <{a.iri}> '{a.title}'{_year(a)} and <{b.iri}> '{b.title}'{_year(b)} "
                        f"are probably one film listed twice: {reason}{curator}"),
        })
    return rows

