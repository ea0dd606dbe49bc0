"""Reading small graphs for pages: a subject index, names, and terms turned into displayable values.

A :class:`GraphView` indexes the few hundred triples a page is built from; a
:class:`Presenter` turns their terms into :class:`Value` objects that templates
render: local links through the one URL builder (:func:`filmgraph.core.iris.local_path`),
readable external links (Wikipedia, Wikidata, IMDb), language tags kept for
``lang`` attributes, dates written plainly. No Flask here.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ..core import iris
from ..core.namespaces import DCTERMS, RDF, RDFS, SCHEMA, SKOS, XSD, prefixes

Term = NamedNode | BlankNode | Literal

NAME_PROPERTIES = (SCHEMA + "name", RDFS + "label", SKOS + "prefLabel", DCTERMS + "title")
"""Where a thing's display name comes from, in order of preference."""

DATE_PROPERTIES = {
    "conceivedDate": "first planned",
    SCHEMA + "startDate": "start",
    SCHEMA + "endDate": "end",
    SCHEMA + "datePublished": "published",
    SCHEMA + "foundingDate": "founded",
    SCHEMA + "birthDate": "born",
}
"""Dates a reader compares, with how a page names them (``conceivedDate`` is the fg term's local name)."""

_WIKIPEDIA = re.compile(r"^https?://([a-z-]+)\.(?:m\.)?wikipedia\.org/wiki/(.+)$")
_WIKIDATA = re.compile(r"^https?://www\.wikidata\.org/(?:entity|wiki)/(Q\d+)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Value:
    """One displayable value: text (with its language), and a link when it is a thing."""

    text: str
    lang: str | None = None
    href: str | None = None
    external: bool = False
    title: str | None = None
    iri: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.lang:
            object.__setattr__(self, "lang", bcp47(self.lang))

    @property
    def is_link(self) -> bool:
        """True when the value links somewhere."""
        return self.href is not None


class GraphView:
    """A subject index over a small graph, with the lookups pages need."""

    def __init__(self, *graphs: Iterable[Triple]) -> None:
        self._index: dict[str, dict[str, list[Term]]] = {}
        for graph in graphs:
            for t in graph:
                objects = self._index.setdefault(_key(t.subject), {}).setdefault(t.predicate.value, [])
                if t.object not in objects:
                    objects.append(t.object)  # type: ignore[arg-type]

    def subjects(self) -> list[str]:
        """Every subject (IRIs as they are, blank nodes as ``_:id``)."""
        return list(self._index)

    def predicates(self, subject: str) -> list[str]:
        """The predicates of a subject, in the order first seen."""
        return list(self._index.get(subject, {}))

    def objects(self, subject: str, predicate: str) -> list[Term]:
        """The objects of one subject and predicate."""
        return list(self._index.get(subject, {}).get(predicate, []))

    def first(self, subject: str, predicate: str) -> Term | None:
        """The first object, or None."""
        found = self.objects(subject, predicate)
        return found[0] if found else None

    def iris(self, subject: str, predicate: str) -> list[str]:
        """The IRI objects of one subject and predicate."""
        return [o.value for o in self.objects(subject, predicate) if isinstance(o, NamedNode)]

    def literals(self, subject: str, predicate: str) -> list[Literal]:
        """The literal objects, English first, then untagged, then the rest."""
        found = [o for o in self.objects(subject, predicate) if isinstance(o, Literal)]
        return sorted(found, key=lambda lit: (_lang_rank(lit), found.index(lit)))

    def types(self, subject: str) -> list[str]:
        """The rdf:type IRIs of a subject."""
        return self.iris(subject, RDF + "type")

    def has_type(self, subject: str, type_iri: str) -> bool:
        """True when the subject has that type."""
        return type_iri in self.types(subject)

    def name(self, subject: str) -> Literal | None:
        """The display name of a thing, English preferred."""
        for p in NAME_PROPERTIES:
            found = self.literals(subject, p)
            if found:
                return found[0]
        return None


def _key(term: object) -> str:
    return f"_:{term.value}" if isinstance(term, BlankNode) else term.value  # type: ignore[attr-defined]


def _lang_rank(lit: Literal) -> int:
    if lit.language in ("en",) or (lit.language or "").startswith("en-"):
        return 0
    return 1 if not lit.language else 2


def bcp47(tag: str) -> str:
    """A language tag in its conventional case (``ru-latn`` -> ``ru-Latn``, ``en-gb`` -> ``en-GB``); stores lower-case them."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def humanize(local: str) -> str:
    """``datePublished`` -> ``date published``."""
    return _CAMEL.sub(" ", local).replace("_", " ").lower()


def local_name(iri: str) -> str:
    """The part of an IRI after its last ``#`` or ``/``."""
    return re.split(r"[#/]", iri.rstrip("/"))[-1]


def format_date(lit: Literal) -> str:
    """A date, date-time, year or year-month as a reader writes it (``1961-04-12 06:07 UTC``)."""
    value = lit.value
    if lit.datatype.value == XSD + "dateTime" and "T" in value:
        day, _, time = value.partition("T")
        zone = " UTC" if time.endswith("Z") or time.endswith("+00:00") else ""
        hhmm = time[:5]
        return f"{day} {hhmm}{zone}" if hhmm else day
    return value


def external_label(iri: str) -> tuple[str, str | None]:
    """A readable label for an external link, and the language of that label (Wikipedia titles)."""
    m = _WIKIPEDIA.match(iri)
    if m:
        title = urllib.parse.unquote(m.group(2)).replace("_", " ")
        return f"Wikipedia ({m.group(1)}): {title}", m.group(1)
    m = _WIKIDATA.match(iri)
    if m:
        return f"Wikidata {m.group(1)}", None
    parsed = urllib.parse.urlsplit(iri)
    shown = parsed.netloc + parsed.path.rstrip("/")
    return (urllib.parse.unquote(shown) or iri), None


def imdb_url(imdb_id: str) -> str:
    """The IMDb page of a title id (``tt0057301``)."""
    return f"https://www.imdb.com/title/{urllib.parse.quote(imdb_id)}/"


class Presenter:
    """Turns terms into values for one site: local links for IRIs under the base, names from a graph."""

    def __init__(self, base_iri: str, view: GraphView, term_labels: Mapping[str, str] | None = None, root: str = "") -> None:
        self.base_iri = base_iri
        self.view = view
        self.root = root
        self.term_labels = dict(term_labels or {})
        self._prefixes = sorted(((ns, p) for p, ns in prefixes(base_iri).items()), key=lambda x: -len(x[0]))
        self.fg = prefixes(base_iri)["fg"]

    def path(self, iri: str) -> str | None:
        """The local path of a canonical IRI (the one URL builder), None outside the base."""
        return iris.local_path(iri, self.base_iri, self.root)

    def compact(self, iri: str) -> str:
        """``schema:name`` for a known namespace, else the IRI."""
        for ns, prefix in self._prefixes:
            if iri.startswith(ns) and iri != ns:
                return f"{prefix}:{iri[len(ns):]}"
        return iri

    def term_label(self, iri: str) -> str:
        """The label of a property or class: the ontology's, else its local name in words."""
        return self.term_labels.get(iri) or humanize(local_name(iri))

    def link(self, iri: str) -> Value:
        """A thing as a link: local things by name to their local path, external ones readably."""
        name = self.view.name(iri)
        local = self.path(iri)
        if local is not None:
            if name is not None:
                return Value(name.value, name.language, local, title=self.compact(iri), iri=iri)
            if iri in self.term_labels:
                return Value(self.term_labels[iri], "en", local, title=self.compact(iri), iri=iri)
            return Value(iri[len(self.base_iri):], None, local, title=iri, iri=iri)
        if name is not None:
            return Value(name.value, name.language, iri, external=True, title=iri, iri=iri)
        if iri in self.term_labels:
            return Value(self.term_labels[iri], "en", iri, external=True, title=iri, iri=iri)
        text, lang = external_label(iri)
        return Value(text, lang, iri, external=True, title=iri, iri=iri)

    def value(self, term: Term, predicate: str | None = None) -> Value:
        """Any object term as a value; an IMDb id becomes a link to its IMDb page."""
        if isinstance(term, NamedNode):
            return self.link(term.value)
        if isinstance(term, BlankNode):
            name = self.view.name(f"_:{term.value}")
            return Value(name.value if name else "(an unnamed node)", name.language if name else None)
        if predicate == self.fg + "imdbId":
            return Value(f"IMDb {term.value}", None, imdb_url(term.value), external=True, title=imdb_url(term.value))
        if term.datatype.value in (XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"):
            return Value(format_date(term), None, title=self.compact(term.datatype.value))
        return Value(term.value, term.language or None)

    def values(self, subject: str, predicate: str) -> list[Value]:
        """Every object of a subject and predicate as values."""
        return [self.value(o, predicate) for o in self.view.objects(subject, predicate)]

    def dates(self, subject: str) -> list[tuple[str, str]]:
        """The dates of a thing a reader compares: (what, when), e.g. ("start", "1961-04-12 06:07 UTC")."""
        out = []
        for p, what in DATE_PROPERTIES.items():
            prop = self.fg + p if ":" not in p else p
            for lit in self.view.literals(subject, prop):
                out.append((what, format_date(lit)))
        return out
