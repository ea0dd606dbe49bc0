"""Matching a person can trust: normalised titles in every language, a label index, and scoring.

Two keys are made from every title and from every query (:mod:`filmgraph.core.textkeys`): the *plain*
key (transliterated, accents stripped, case folded) and the *loose* key (transliteration variants folded).

Equal keys are an exact match; otherwise similarity is the ratio of the loose
keys (difflib). A record identified as a real film is also known by that film's
titles (weight 1; 0.9 when only its title matches). See docs/identifiers.md for
how scores and ``match`` are decided.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..core.textkeys import loose_key, loosen, plain_key, similarity, split_year  # noqa: F401 (reconciliation's keys, made in core)
from .index import Entry, local_id


def _grams(key: str) -> set[str]:
    padded = f"  {key} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class Label:
    """One title of an entity, with its keys and where it comes from."""

    entry: str
    text: str
    plain: str
    loose: str
    source: str
    """``name``, ``originalTitle``, ``altLabel``, or ``identified`` (a title of the record's film)."""
    weight: float = 1.0


@dataclass(frozen=True)
class Query:
    """One reconciliation query, whatever the protocol version."""

    text: str = ""
    types: tuple[str, ...] = ()
    year: int | None = None
    year_required: bool = False
    imdb: str = ""
    properties: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    """Other properties: (fact keys, normalised values given, required)."""
    limit: int = 10


@dataclass
class Candidate:
    """One entity proposed for a query, with the evidence behind its score."""

    entry: Entry
    score: float = 0.0
    similarity: float = 0.0
    exact: bool = False
    via_identified: bool = False
    id_match: bool = False
    year_difference: int | None = None
    imdb_match: bool | None = None
    properties_matched: int | None = None
    match: bool = False
    evidence: list[str] = field(default_factory=list)


MIN_SIMILARITY = 0.5

SIMILARITY_CAP = 200
"""Most titles of one query scored with the (costly) sequence similarity: those sharing the most trigrams with it."""
CLEAR_LEAD = 10.0
"""How far ahead of the next candidate (in score points) a candidate must be to be a ``match``."""


class LabelIndex:
    """Every title and name of the matchable entities, indexed by key and by trigram."""

    def __init__(self, entries: Mapping[str, Entry], base_iri: str) -> None:
        self.entries = dict(entries)
        self.base_iri = base_iri
        self.labels: list[Label] = []
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_gram: dict[str, list[int]] = defaultdict(list)
        self._gram_counts: list[int] = []
        for entry in self.entries.values():
            for label in self._labels_of(entry):
                self._add(label)

    def _labels_of(self, entry: Entry) -> Iterable[Label]:
        seen: set[str] = set()
        for source in ("name", "originalTitle", "altLabel"):
            for v in entry.facts.get(source, ()):
                if v.text not in seen:
                    seen.add(v.text)
                    yield Label(entry.id, v.text, plain_key(v.text), loose_key(v.text), source)
        target = self.entries.get(local_id(entry.first("identifiedAs"), self.base_iri)) if entry.is_record else None
        if target is not None and entry.status in ("Identified", "TitleMatchOnly"):
            weight = 1.0 if entry.status == "Identified" else 0.9
            for source in ("name", "originalTitle", "altLabel"):
                for v in target.facts.get(source, ()):
                    if v.text not in seen:
                        seen.add(v.text)
                        yield Label(entry.id, v.text, plain_key(v.text), loose_key(v.text), "identified", weight)

    def _add(self, label: Label) -> None:
        i = len(self.labels)
        self.labels.append(label)
        for key in {label.plain, label.loose}:
            self._by_key[key].append(i)
        grams = _grams(label.loose)
        self._gram_counts.append(len(grams))
        for g in grams:
            self._by_gram[g].append(i)

    def _name_hits(self, text: str) -> dict[str, tuple[float, Label, bool]]:
        """Best (weighted similarity, label, exact) per entry id for a query text."""
        plain, loose = plain_key(text), loose_key(text)
        best: dict[str, tuple[float, Label, bool]] = {}

        def offer(i: int, sim: float, exact: bool) -> None:
            label = self.labels[i]
            value = sim * label.weight
            if label.entry not in best or value > best[label.entry][0]:
                best[label.entry] = (value, label, exact)

        exact_ids = set(self._by_key.get(plain, ())) | set(self._by_key.get(loose, ()))
        for i in exact_ids:
            offer(i, 1.0, True)
        grams = _grams(loose)
        shared: dict[int, int] = defaultdict(int)
        for g in grams:
            for i in self._by_gram.get(g, ()):
                shared[i] += 1
        counts = self._gram_counts
        near = [(2 * n / (len(grams) + counts[i]), i) for i, n in shared.items() if i not in exact_ids]
        near = [pair for pair in near if pair[0] >= 0.3]
        if len(near) > SIMILARITY_CAP:  # titles that share common words with many others: the closest by trigrams
            near = heapq.nlargest(SIMILARITY_CAP, near)
        for _, i in near:
            offer(i, similarity(loose, self.labels[i].loose), False)
        return best

    def by_id(self, text: str) -> Entry | None:
        """The entity whose id (``film/aelita``) or full IRI this is, if any."""
        key = text.strip()
        return self.entries.get(key) or self.entries.get(local_id(key, self.base_iri))

    def search(self, query: Query) -> list[Candidate]:
        """Candidates for one query, best first (records before real films on equal scores)."""
        text, text_year = split_year(query.text) if query.text else ("", None)
        year = query.year if query.year is not None else text_year
        found: dict[str, Candidate] = {}
        by_id = self.by_id(text) if text else None
        if by_id is not None:
            found[by_id.id] = Candidate(by_id, similarity=1.0, exact=True, id_match=True, evidence=["id"])
        if text:
            for eid, (sim, label, exact) in self._name_hits(text).items():
                if sim >= MIN_SIMILARITY and eid not in found:
                    found[eid] = Candidate(self.entries[eid], similarity=round(sim, 3), exact=exact and label.weight == 1.0,
                                           via_identified=label.source == "identified", evidence=[label.text])
        if query.imdb:
            for entry in self.entries.values():
                if query.imdb in {v.text for v in entry.facts.get("imdbId", ())} and entry.id not in found:
                    found[entry.id] = Candidate(entry, evidence=[query.imdb])
        cands = [c for c in found.values() if self._wanted(c.entry, query.types)]
        for c in cands:
            self._score(c, query, year)
        cands = [c for c in cands if c.score > 0 and (not query.year_required or c.year_difference == 0)]
        cands = [c for c in cands if all(self.has(c.entry, keys, values) for keys, values, req in query.properties if req)]
        cands.sort(key=lambda c: (-c.score, 0 if c.entry.is_record else 1, c.entry.name, c.entry.id))
        cands = cands[: max(1, query.limit)]
        if cands:
            top = cands[0]
            lead = top.score - cands[1].score if len(cands) > 1 else CLEAR_LEAD
            agrees = year is None or top.year_difference in (None, 0)
            top.match = (top.exact or top.id_match) and agrees and lead >= CLEAR_LEAD and top.imdb_match is not False
        return cands

    @staticmethod
    def _wanted(entry: Entry, types: Sequence[str]) -> bool:
        if not types:
            return True
        wanted = set(types)
        if "film" in wanted:
            wanted |= {"film-record", "real-film"}
        return bool(wanted & set(entry.types))

    def _score(self, c: Candidate, query: Query, year: int | None) -> None:
        score = 90.0 * c.similarity
        if c.id_match:
            score = 100.0
        entry_year = c.entry.year
        if year is not None and entry_year is not None:
            c.year_difference = abs(year - entry_year)
            score += 10 if c.year_difference == 0 else 4 if c.year_difference == 1 else -min(30, 5 + 5 * c.year_difference)
        if query.imdb:
            ids = {v.text for v in c.entry.facts.get("imdbId", ())}
            c.imdb_match = query.imdb in ids if ids else None
            if c.imdb_match:
                score = max(score, 80.0) + 10
            elif c.imdb_match is False:
                score -= 30
        if query.properties:
            hits = [(self.has(c.entry, keys, values), any(c.entry.facts.get(k) for k in keys)) for keys, values, _ in query.properties]
            c.properties_matched = sum(1 for hit, _ in hits if hit)
            score += sum(5 if hit else -5 if present else 0 for hit, present in hits)
        c.score = round(max(0.0, min(100.0, score)), 1)

    def suggest(self, prefix: str, types: Sequence[str] = (), cursor: int = 0, limit: int = 10) -> list[Entry]:
        """Entities whose title or id starts with the prefix (names first); all of them for an empty prefix."""
        key = loose_key(prefix)
        ranked: dict[str, tuple[int, str]] = {}
        exact_id = self.by_id(prefix) if prefix.strip() else None
        if exact_id is not None:
            ranked[exact_id.id] = (0, exact_id.name)
        for label in self.labels:
            entry = self.entries[label.entry]
            if key and not (label.loose.startswith(key) or f" {key}" in f" {label.loose}"):
                continue
            rank = (1 if label.loose.startswith(key) else 2) + (0 if label.source == "name" else 2)
            if label.entry not in ranked or rank < ranked[label.entry][0]:
                ranked[label.entry] = (rank, entry.name)
        wanted = local_id(prefix.strip(), self.base_iri).lower()
        if wanted:
            for entry in self.entries.values():
                if (entry.id.startswith(wanted) or entry.id.split("/")[-1].startswith(wanted)) and entry.id not in ranked:
                    ranked[entry.id] = (5, entry.name)
        hits = [self.entries[i] for i, _ in sorted(ranked.items(), key=lambda kv: (kv[1], kv[0]))]
        hits = [e for e in hits if self._wanted(e, types)]
        return hits[cursor: cursor + limit]

    def has(self, entry: Entry, keys: Sequence[str], values: Sequence[str]) -> bool:
        """True when one of the values given is a value of the entity's facts (by text, name or id)."""
        have: set[str] = set()
        for k in keys:
            for v in entry.facts.get(k, ()):
                have.add(plain_key(v.text))
                if v.name:
                    have.add(plain_key(v.name))
                if v.iri:
                    have.add(plain_key(local_id(v.text, self.base_iri)))
        return any(plain_key(v) in have for v in values)
