"""The Mix'n'match catalog: every film record and real film, one tab-separated line each.

Mix'n'match's tabbed-file importer reads a header row naming its columns
(``id``, ``name``, ``desc``, ``url``, ``type``); ``type`` must be a Wikidata
item id or it is dropped. Ids are the film ids of docs/identifiers.md
(``sky-beckons-1959``), the ids a Wikidata external-identifier property with
the formatter URL ``{base}film/$1`` would hold; ``url`` is that expansion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..store import Store
from .index import Entry, read_entries

if TYPE_CHECKING:
    from ..site.services import Services

COLUMNS = ("id", "name", "desc", "url", "type")
FILM_ITEM = "Q11424"
"""Wikidata's class "film" (the P31 value of film items); the sources that show it are in docs/identifiers.md."""
FILENAME = "filmgraph-mixnmatch.tsv"


def _cell(text: str) -> str:
    # A tab or line break inside a cell would shift the columns of the importer.
    return " ".join(str(text).split())


def _order(entry: Entry) -> tuple[int, int, str]:
    pos = entry.first("listPosition")
    return (0 if entry.is_record else 1, int(pos) if pos.isdigit() else 0, entry.id)


def catalog_rows(entries: Mapping[str, Entry], base_iri: str) -> list[tuple[str, ...]]:
    """The catalog's rows (header first): records in list order, then the real films by id."""
    films = [e for e in entries.values() if e.id.startswith("film/") and ("film-record" in e.types or "real-film" in e.types)]
    rows: list[tuple[str, ...]] = [COLUMNS]
    for e in sorted(films, key=_order):
        slug = e.id[len("film/"):]
        desc = e.description
        if e.is_record:
            desc += ". This is a record of the list, not a verified film"
        rows.append(tuple(_cell(v) for v in (slug, e.name, desc, f"{base_iri}film/{slug}", FILM_ITEM)))
    return rows


def write_catalog(store: Store) -> str:
    """The whole catalog as text (tab-separated, one line per film, header line first)."""
    rows = catalog_rows(read_entries(store), store.base_iri)
    return "".join("\t".join(row) + "\n" for row in rows)


def generate(services: Services) -> Iterable[bytes]:
    """The catalog as a download of the dumps page (``register_download`` generator)."""
    yield write_catalog(services.store).encode("utf-8")
