"""What reconciliation knows of each entity, read once from the store with two named queries.

An :class:`Entry` is one matchable entity (a film record, a real film, a
mission, a person, a work) with its facts by key (``name``, ``altLabel``,
``identifiedAs`` ...), its service types, its year and an honest one-line
description. Entity ids are the IRI relative to the base (``film/nebo-zovyot``):
see docs/identifiers.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from pyoxigraph import Literal, NamedNode

from ..core.namespaces import WD, prefixes
from ..sparql.query import named_query
from ..store import Row, Store
from .schema import RECORD, TYPES, class_iri

ENWIKI = "https://en.wikipedia.org/wiki/"
_YEAR = re.compile(r"^(-?\d{4})")


@dataclass(frozen=True)
class Value:
    """One value of a fact: its lexical form or IRI, its language, and the name of an entity value."""

    text: str
    lang: str = ""
    iri: bool = False
    name: str = ""


@dataclass
class Entry:
    """One matchable entity and the facts reconciliation reads from it."""

    id: str
    iri: str
    types: tuple[str, ...]
    facts: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)
    description: str = ""

    def first(self, key: str) -> str:
        """The first value of a fact, or ''."""
        values = self.facts.get(key, ())
        return values[0].text if values else ""

    @property
    def name(self) -> str:
        """The entity's name (English first), falling back on its id."""
        names = self.facts.get("name", ())
        english = [v.text for v in names if v.lang.startswith("en")]
        return (english or [v.text for v in names] or [self.id])[0]

    @property
    def year(self) -> int | None:
        """Release year (records: the list's), else the year of the publication or start date."""
        for key in ("releaseYear", "datePublished", "startDate"):
            for v in self.facts.get(key, ()):
                m = _YEAR.match(v.text)
                if m:
                    return int(m.group(1))
        return None

    @property
    def status(self) -> str | None:
        """The identification status of a record, as the local name of its term (``Identified``)."""
        value = self.first("identificationStatus")
        return value.rsplit("#", 1)[-1] if value else None

    @property
    def is_record(self) -> bool:
        """True for a record of the curated list."""
        return RECORD in self.types

    def wikidata(self) -> list[str]:
        """The Wikidata QIDs the entity is linked to (only verified links are in the data)."""
        return sorted({v.text[len(WD):] for v in self.facts.get("sameAs", ()) if v.text.startswith(WD)})

    def wikipedia(self) -> list[str]:
        """English Wikipedia article URLs: seen in a source, or built from the title (qualified links)."""
        urls = [v.text for v in (*self.facts.get("sameAs", ()), *self.facts.get("linkTarget", ())) if v.text.startswith(ENWIKI)]
        return sorted(set(urls))


def article_title(url: str) -> str:
    """The article title of an English Wikipedia URL (``Nebo_Zovyot`` -> ``Nebo Zovyot``)."""
    return unquote(url[len(ENWIKI):]).replace("_", " ")


def select(store: Store, name: str, bindings: Mapping[str, NamedNode | Literal] | None = None) -> list[Row]:
    """Run a named reconciliation query with the prefixes of the store's base IRI prepended."""
    head = "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in prefixes(store.base_iri).items())
    return store.select(head + "\n" + named_query(name), bindings)


def read_entries(store: Store) -> dict[str, Entry]:
    """Read every matchable entity of the store, by id."""
    entries = _entries(store, select(store, "reconcile-entities"), select(store, "reconcile-facts"))
    for entry in entries.values():
        entry.description = describe(entry, entries, store.base_iri)
    return entries


def read_some(store: Store, iris: Iterable[str]) -> dict[str, Entry]:
    """Read the matchable entities among some IRIs (one bound query each), by id, without their descriptions."""
    type_rows: list[Row] = []
    fact_rows: list[Row] = []
    for iri in dict.fromkeys(iris):
        bindings = {"entity": NamedNode(iri)}
        found = select(store, "reconcile-entities", bindings)
        if found:
            type_rows += found
            fact_rows += select(store, "reconcile-facts", bindings)
    return _entries(store, type_rows, fact_rows)


def _entries(store: Store, type_rows: Iterable[Row], fact_rows: Iterable[Row]) -> dict[str, Entry]:
    base = store.base_iri
    # Each class maps to its narrowest type; the grouping type "film" is never an entity's own.
    by_class = {class_iri(c, base): t.id for t in TYPES if t.id != "film" for c in t.classes}
    types: dict[str, set[str]] = defaultdict(set)
    for row in type_rows:
        types[row["entity"].value].add(by_class[row["class"].value])
    facts: dict[str, dict[str, list[Value]]] = defaultdict(lambda: defaultdict(list))
    for row in fact_rows:
        term, name = row["value"], row.get("valueName")
        value = Value(
            term.value,
            getattr(term, "language", None) or "",
            isinstance(term, NamedNode),
            name.value if name is not None else "",
        )
        bucket = facts[row["entity"].value][row["key"].value]
        if value not in bucket and not any(v.text == value.text and v.lang == value.lang for v in bucket):
            bucket.append(value)
    entries: dict[str, Entry] = {}
    for iri, kinds in types.items():
        local = iri[len(base):] if iri.startswith(base) else iri
        ordered = tuple(t.id for t in TYPES if t.id in kinds)
        entries[local] = Entry(local, iri, ordered, {k: tuple(sorted(v, key=_order)) for k, v in facts[iri].items()})
    return entries


def _order(v: Value) -> tuple[int, str, str]:
    # Deterministic order (the catalog and descriptions must not vary between runs): English first.
    return (0 if v.lang.startswith("en") else 1, v.lang, v.text)


def local_id(iri: str, base_iri: str) -> str:
    """The service id of an IRI under the base (the IRI itself otherwise)."""
    return iri[len(base_iri):] if iri.startswith(base_iri) else iri


def _named(entries: Mapping[str, Entry], iri: str, base: str) -> str:
    other = entries.get(local_id(iri, base))
    if other is None:
        return local_id(iri, base)
    return f"{other.name} ({other.year})" if other.year else other.name


def describe(entry: Entry, entries: Mapping[str, Entry], base: str) -> str:
    """One honest line about an entity: for a record, its place in the list and its identification."""
    year = entry.year
    if entry.is_record:
        pos = entry.first("listPosition")
        head = f"Entry {pos} of the machine-written list" if pos else "Record of the machine-written list"
        head += f", year given {year}" if year else ""
        status = entry.status
        target = entry.first("identifiedAs")
        if status == "Identified" and target:
            return f"{head}: identified as the film {_named(entries, target, base)}"
        if status == "TitleMatchOnly" and target:
            return f"{head}: its title matches the film {_named(entries, target, base)}, but not its year or plot"
        if status == "ProbableDuplicate":
            dup = entry.first("duplicateOf")
            return f"{head}: probable duplicate of {_named(entries, dup, base)}" if dup else f"{head}: probable duplicate"
        if status == "NoMatchFound":
            return f"{head}: no real film matches it"
        return head
    if "real-film" in entry.types:
        parts = [f"Film ({year})" if year else "Film"]
        original = entry.facts.get("originalTitle", ())
        if original:
            parts.append("original title " + " / ".join(v.text for v in original))
        directors = [v.name or local_id(v.text, base) for v in entry.facts.get("director", ())]
        if directors:
            parts.append("directed by " + " and ".join(directors))
        return ", ".join(parts)
    own = entry.first("description")
    if len(own) > 160:
        own = own[:157].rsplit(" ", 1)[0] + "..."
    return own or entry.name
