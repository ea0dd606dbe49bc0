"""Data extension (property proposals and values), previews and flyouts, for both protocol versions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..core.errors import BadRequest, NotFound
from ..core.numbers import ascii_int
from .index import ENWIKI, Entry, local_id
from .matching import LabelIndex
from .schema import PROPERTY_BY_ID, TYPE_BY_ID, PropertyDef, properties_for
from .service import MAX_BATCH, ReconcileService

STATUS_NAMES = {"Identified": "identified", "TitleMatchOnly": "title match only", "ProbableDuplicate": "probable duplicate", "NoMatchFound": "no match found"}


def propose(service: ReconcileService, type_id: str | None, limit: int | None = None) -> dict[str, Any]:
    """The properties worth fetching for entities of a type (0.2 and 1.0 share the shape)."""
    if type_id and type_id not in TYPE_BY_ID:
        resolved = service.resolve_type(type_id)
        if resolved is None:
            raise BadRequest(f"unknown type {type_id!r}; types are: {', '.join(TYPE_BY_ID)}")
        type_id = resolved
    props = properties_for(type_id)
    if limit:
        props = props[:limit]
    out: dict[str, Any] = {"properties": [{"id": p.id, "name": p.name, "description": p.description} for p in props]}
    if type_id:
        out["type"] = type_id
    if limit:
        out["limit"] = limit
    return out


def _parse(query: Any) -> tuple[list[str], list[tuple[PropertyDef, int]]]:
    if not isinstance(query, dict) or not isinstance(query.get("ids"), list) or not isinstance(query.get("properties"), list):
        raise BadRequest('a data extension query is {"ids": [...], "properties": [{"id": ...}]}')
    ids = [str(i) for i in query["ids"]]
    if len(ids) > MAX_BATCH * 10:
        raise BadRequest(f"at most {MAX_BATCH * 10} ids per data extension query")
    props = []
    for p in query["properties"]:
        pid = p.get("id") if isinstance(p, dict) else None
        prop = PROPERTY_BY_ID.get(pid) if isinstance(pid, str) else None
        if prop is None:
            raise BadRequest(f"unknown property {pid!r}; properties are: {', '.join(sorted({d.id for d in PROPERTY_BY_ID.values()}))}")
        settings = p.get("settings") or {}
        limit = _limit(settings.get("limit") if isinstance(settings, dict) else None)
        if limit is None:
            raise BadRequest(f"property {pid!r}: the limit setting must be a whole number (ASCII digits)")
        props.append((prop, max(0, limit)))
    return ids, props


def _limit(value: Any) -> int | None:
    """A limit setting: absent, a JSON number, or a number written in ASCII digits; None for anything else."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return ascii_int(value.strip(), signed=True) if isinstance(value, str) else None


def _meta(props: Sequence[tuple[PropertyDef, int]]) -> list[dict[str, Any]]:
    out = []
    for prop, _ in props:
        m: dict[str, Any] = {"id": prop.id, "name": prop.name}
        if prop.range:
            m["type"] = {"id": prop.range, "name": TYPE_BY_ID[prop.range].name}
        out.append(m)
    return out


def values(index: LabelIndex, entry: Entry | None, prop: PropertyDef, limit: int = 0) -> list[dict[str, Any]]:
    """The values of one property of one entity, as data extension cells."""
    if entry is None:
        return []
    out: list[dict[str, Any]] = []
    if prop.id == "year":
        out = [{"int": entry.year}] if entry.year is not None else []
    elif prop.id == "wikidata":
        out = [{"str": q} for q in entry.wikidata()]
    elif prop.id == "wikipedia":
        out = [{"str": u} for u in entry.wikipedia()]
    else:
        for key in prop.keys:
            for v in entry.facts.get(key, ()):
                if prop.value == "entity":
                    target = index.entries.get(local_id(v.text, index.base_iri))
                    out.append({"id": target.id, "name": target.name} if target else {"str": v.name or v.text})
                elif prop.value == "int" and (number := ascii_int(v.text, signed=True)) is not None:
                    out.append({"int": number})
                elif prop.id == "identification_status":
                    out.append({"str": STATUS_NAMES.get(v.text.rsplit("#", 1)[-1], v.name or v.text)})
                else:
                    out.append({"str": v.name or v.text})
    return out[:limit] if limit else out


def extend_v02(service: ReconcileService, query: Any) -> dict[str, Any]:
    """Answer a 0.2 data extension query: ``rows`` by id, then by property."""
    ids, props = _parse(query)
    index = service.index
    rows = {i: {p.id: values(index, service.entry(i), p, n) for p, n in props} for i in ids}
    return {"meta": _meta(props), "rows": rows}


def extend_v1(service: ReconcileService, query: Any) -> dict[str, Any]:
    """Answer a 1.0-draft data extension query: ``rows`` as an array of ids with their properties."""
    ids, props = _parse(query)
    index = service.index
    rows = [{"id": i, "properties": [{"id": p.id, "values": values(index, service.entry(i), p, n)} for p, n in props]} for i in ids]
    return {"meta": _meta(props), "rows": rows}


def preview(service: ReconcileService, id: str, site: str) -> dict[str, Any]:
    """What the HTML preview of an entity shows (the template renders it); NotFound for an unknown id."""
    entry = service.entry(id)
    if entry is None:
        raise NotFound(f"no entity with id {id!r} in the reconciliation service", id=id)
    index = service.index

    def linked(key: str) -> list[dict[str, str]]:
        out = []
        for v in entry.facts.get(key, ()):
            target = index.entries.get(local_id(v.text, index.base_iri))
            out.append({"name": target.name if target else (v.name or v.text), "href": f"{site}/{target.id}" if target else ""})
        return out

    return {
        "entry": entry,
        "page": f"{site}/{entry.id}",
        "types": [TYPE_BY_ID[t].name for t in entry.types],
        "year": entry.year,
        "description": entry.description,
        "original_titles": [v.text for v in entry.facts.get("originalTitle", ())],
        "other_titles": [v.text for v in entry.facts.get("altLabel", ())],
        "status": STATUS_NAMES.get(entry.status or "", ""),
        "note": entry.first("identificationNote"),
        "identified_as": linked("identifiedAs"),
        "duplicate_of": linked("duplicateOf"),
        "confusions": linked("possibleConfusion"),
        "list_says": entry.first("description") if entry.is_record else "",
        "wikidata": entry.wikidata(),
        "wikipedia": [u for u in entry.wikipedia() if u.startswith(ENWIKI)],
    }


def flyout(service: ReconcileService, id: str) -> dict[str, str]:
    """The 0.2 suggest flyout: a short HTML fragment about an entity."""
    entry = service.entry(id)
    if entry is None:
        raise NotFound(f"no entity with id {id!r} in the reconciliation service", id=id)
    kinds = ", ".join(TYPE_BY_ID[t].name for t in entry.types)
    body = f"<p><strong>{html.escape(entry.name)}</strong> <small>({html.escape(kinds)})</small></p><p>{html.escape(entry.description)}</p>"
    return {"id": entry.id, "html": body}
