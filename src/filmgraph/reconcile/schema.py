"""The reconciliation service's own vocabulary: its types, properties and matching features.

Types and properties have short ids (``film``, ``year``) that stay the same
whatever the base IRI; docs/identifiers.md lists them with the classes and
predicates they stand for. Wikidata property ids are accepted as aliases where
the meaning is the same (``P577`` publication date -> ``year``, ``P345`` IMDb id).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.namespaces import SCHEMA, ontology_ns


@dataclass(frozen=True)
class TypeDef:
    """A type of the service: an id, a name, and the classes whose instances it covers."""

    id: str
    name: str
    description: str
    classes: tuple[str, ...]
    """Class names: ``fg:Name`` for the ontology's terms, ``schema:Name`` for schema.org's."""
    broader: str | None = None


TYPES: tuple[TypeDef, ...] = (
    TypeDef("film", "Film (record of the list or real film)", "Any film: the list's records and the real films they were identified as or confused with.", ("fg:FilmRecord", "fg:Film")),
    TypeDef("film-record", "Film record of the list", "An entry of the machine-written list, as the list gives it; its identification status says whether a real film matches it.", ("fg:FilmRecord",), "film"),
    TypeDef("real-film", "Real film", "A film that exists, with its original title and real release date.", ("fg:Film",), "film"),
    TypeDef("mission", "Space mission or programme", "A real space mission or programme (Luna 2, Vostok 1, Project Ozma ...).", ("fg:SpaceMission", "fg:Programme")),
    TypeDef("person", "Person", "A person: directors, writers, cosmonauts, scientists.", ("schema:Person",)),
    TypeDef("work", "Work", "A written work: the novels films are based on, and the curated list itself.", ("schema:CreativeWork", "schema:Book")),
)
TYPE_BY_ID = {t.id: t for t in TYPES}
RECORD, REAL_FILM = "film-record", "real-film"
"""The type ids of list records and of real films (the matcher orders records first on a tie)."""


def class_iri(curie: str, base_iri: str) -> str:
    """Expand ``fg:X`` / ``schema:X`` for a base IRI."""
    prefix, _, local = curie.partition(":")
    return (ontology_ns(base_iri) if prefix == "fg" else SCHEMA) + local


def type_aliases(base_iri: str) -> dict[str, str]:
    """Every string a query may use for a type -> the type id (ids, class CURIEs, IRIs, local names)."""
    out: dict[str, str] = {}
    for t in TYPES:  # narrower types come later, so they win for a class listed twice
        for curie in t.classes:
            out[curie] = out[class_iri(curie, base_iri)] = out[curie.partition(":")[2]] = t.id
    out["schema:Movie"] = out[SCHEMA + "Movie"] = out["Movie"] = REAL_FILM
    out.update({t.id: t.id for t in TYPES})
    return out


@dataclass(frozen=True)
class PropertyDef:
    """A property of the service: what it reads (fact keys of the label index) and how values look."""

    id: str
    name: str
    description: str
    keys: tuple[str, ...]
    value: str = "str"
    """``str``, ``int`` or ``entity`` (a value that is itself an entity of the service)."""
    types: tuple[str, ...] = ()
    """The types it is proposed for (data extension); empty: every type."""
    aliases: tuple[str, ...] = ()
    range: str | None = None
    """For entity values: the service type they belong to."""


FILMS = ("film", "film-record", "real-film")
PROPERTIES: tuple[PropertyDef, ...] = (
    PropertyDef("year", "Year", "Release year of a film (for a record: the year the list gives); launch year of a mission; publication year of a work.", ("year",), "int", (*FILMS, "mission", "work"), ("P577",)),
    PropertyDef("original_title", "Original title", "The title in the film's own language.", ("originalTitle",), "str", ("film", "real-film")),
    PropertyDef("other_titles", "Other titles", "Transliterations, translations and release titles.", ("altLabel",), "str", ("film", "real-film", "person", "work")),
    PropertyDef("director", "Director", "Director(s) of a real film.", ("director",), "entity", ("film", "real-film"), range="person"),
    PropertyDef("date", "Date", "Release date of a film, launch of a mission, publication of a work, birth of a person.", ("datePublished", "startDate", "birthDate"), "str", ()),
    PropertyDef("description", "Description", "What the dataset says about it (for a record: the list's own words, unchecked).", ("description",), "str", ()),
    PropertyDef("list_position", "Position in the list", "Position of a record in the curated list (1 to 10).", ("listPosition",), "int", ("film", "film-record")),
    PropertyDef("identification_status", "Identification status", "Whether a record matches a real film: identified, title match only, probable duplicate, no match found.", ("identificationStatus",), "str", ("film", "film-record")),
    PropertyDef("identified_as", "Identified as", "The real film a record was identified as.", ("identifiedAs",), "entity", ("film", "film-record"), range="real-film"),
    PropertyDef("duplicate_of", "Duplicate of", "The record a probable duplicate repeats.", ("duplicateOf",), "entity", ("film", "film-record"), range="film-record"),
    PropertyDef("possible_confusion", "Possible confusion", "Real films a record may be confused with.", ("possibleConfusion",), "entity", ("film", "film-record"), range="real-film"),
    PropertyDef("identification_note", "Identification note", "Why the record has its identification status.", ("identificationNote",), "str", ("film", "film-record")),
    PropertyDef("imdb", "IMDb id", "The film's IMDb id (tt...), where a source verified it.", ("imdbId",), "str", ("film", "real-film"), ("P345",)),
    PropertyDef("wikidata", "Wikidata item", "The Wikidata item (Q...), only where it was verified.", ("wikidata",), "str", ("film", "real-film", "mission", "person", "work")),
    PropertyDef("wikipedia", "Wikipedia article", "English Wikipedia article (seen in a source, or built from the title where marked).", ("wikipedia",), "str", ("film", "real-film", "mission", "person", "work")),
    PropertyDef("based_on", "Based on", "The work a real film is based on.", ("isBasedOn",), "entity", ("film", "real-film"), range="work"),
    PropertyDef("author", "Author", "Author of a work.", ("author",), "entity", ("work",), range="person"),
    PropertyDef("operator", "Operator", "Who operated a mission (names of organizations).", ("operator",), "str", ("mission",)),
    PropertyDef("death_date", "Death date", "Date of death of a person.", ("deathDate",), "str", ("person",)),
)
PROPERTY_BY_ID: dict[str, PropertyDef] = {p.id: p for p in PROPERTIES}
PROPERTY_BY_ID.update({a: p for p in PROPERTIES for a in p.aliases})


def properties_for(type_id: str | None) -> list[PropertyDef]:
    """The properties proposed for a type (all of them for no type)."""
    return [p for p in PROPERTIES if not type_id or not p.types or type_id in p.types]


STATUS_FEATURES: dict[str, tuple[str, str]] = {
    "Identified": ("identified", "Record identified as a real film"),
    "TitleMatchOnly": ("title_match_only", "Record whose title matches a real film, but not its year or plot"),
    "ProbableDuplicate": ("probable_duplicate", "Record that probably repeats another entry of the list"),
    "NoMatchFound": ("no_match_found", "Record that matches no real film"),
}
"""Identification status (local name of the fg: term) -> (feature id, feature name)."""

FEATURES: dict[str, str] = {
    "name_similarity": "Similarity of the best matching title or name, 0 to 1, after normalisation (case, accents, punctuation, Cyrillic transliteration)",
    "name_exact": "The query equals a title or name after normalisation",
    "via_identified_film": "Matched through a title of the real film that the record was identified as",
    "id_match": "The query is the entity's id",
    "year_agrees": "The year given agrees with the entity's year",
    "year_difference": "Years between the year given and the entity's year",
    "imdb_match": "The IMDb id given is the entity's",
    "properties_matched": "Other properties given whose values the entity has",
    "list_record": "A record of the machine-written list (not a verified film)",
    **{fid: name for fid, name in STATUS_FEATURES.values()},
}
"""Every matching feature a candidate may carry: id -> human-readable name."""
