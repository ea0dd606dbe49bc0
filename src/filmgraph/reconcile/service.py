"""The W3C reconciliation protocol, versions 0.2 and 1.0-draft, over the label index (no Flask).

The web layer parses HTTP and hands JSON here; everything returned is plain
JSON data that validates against the spec's schemas. Client mistakes raise
:class:`~filmgraph.core.errors.BadRequest` naming what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..core.cache import Once
from ..core.errors import BadRequest, PayloadTooLarge
from ..core.namespaces import ontology_ns
from ..core.numbers import ascii_int
from ..store.index import SiteIndex
from ..store import Store
from .index import Entry, read_entries
from .matching import Candidate, LabelIndex, Query, plain_key
from .scaled import FULL_INDEX_MAX, ScaledLabelIndex, matchable
from .schema import FEATURES, PROPERTIES, PROPERTY_BY_ID, STATUS_FEATURES, TYPE_BY_ID, TYPES, type_aliases

MAX_BATCH = 100
"""Most queries in one batch (announced as ``batchSize``; a larger batch is refused with 413)."""
MAX_LIMIT = 100
PREVIEW_SIZE = (430, 260)
NAME = "filmgraph: Soviet space films (records of a machine-written list, and the real films, missions, people and works)"


@dataclass(frozen=True)
class Urls:
    """Where the service is reached: the site (public URL or the request's host) and the two roots."""

    site: str
    root_v02: str
    root_v1: str


def parse_json(text: str | bytes | None, what: str) -> Any:
    """Parse a JSON parameter or body, or raise BadRequest saying which one and where it breaks."""
    if text is None or (isinstance(text, str | bytes) and not text.strip()):
        raise BadRequest(f"{what} is empty; it must be JSON")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")  # JSON is UTF-8 (RFC 8259); json.loads would take a lone surrogate's bytes
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply to be read") from None
    if _has_lone_surrogate(data):
        # "\ud800" alone is valid JSON but no character: echoed in an answer it cannot be written as UTF-8.
        raise BadRequest(f"{what} holds a lone surrogate escape (\\ud800 to \\udfff without its pair), which is no character")
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _not_json(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


class ReconcileService:
    """Reconciliation over one store: the label index is built once, on first use.

    Given the site index (a callable, so that it is only opened when needed), a
    store with more than ``full_max`` matchable entities is reconciled through it
    (:mod:`filmgraph.reconcile.scaled`) instead of reading every entity up front.
    """

    def __init__(self, store: Store, site_index: Callable[[], SiteIndex] | None = None, full_max: int = FULL_INDEX_MAX) -> None:
        self.store = store
        self.base_iri = store.base_iri
        self._index: Once[LabelIndex] = Once(lambda: _label_index(store, site_index() if site_index else None, full_max))
        self._aliases = type_aliases(store.base_iri)

    @property
    def index(self) -> LabelIndex:
        """The label index (built on first use, once per process)."""
        return self._index.get()

    # -- manifests ---------------------------------------------------------

    def _types(self) -> list[dict[str, Any]]:
        return [_type_json(t.id) for t in TYPES]

    def manifest_v02(self, urls: Urls) -> dict[str, Any]:
        """The 0.2 manifest (what OpenRefine reads)."""
        root = urls.root_v02
        service = lambda path: {"service_url": root, "service_path": path}  # noqa: E731
        return {
            "versions": ["0.2"],
            "name": NAME,
            "identifierSpace": self.base_iri,
            "schemaSpace": ontology_ns(self.base_iri),
            "documentation": f"{root}/about",
            "serviceVersion": __version__,
            "view": {"url": f"{urls.site}/{{{{id}}}}"},
            "feature_view": {"url": f"{root}/about#feature-{{{{id}}}}"},
            "preview": {"url": f"{root}/preview?id={{{{id}}}}", "width": PREVIEW_SIZE[0], "height": PREVIEW_SIZE[1]},
            "defaultTypes": self._types(),
            "suggest": {
                "entity": {**service("/suggest/entity"), "flyout_service_path": "/flyout/entity?id=${id}"},
                "type": service("/suggest/type"),
                "property": service("/suggest/property"),
            },
            "extend": {
                "propose_properties": service("/extend/propose"),
                "property_settings": [
                    {"type": "number", "name": "limit", "label": "Limit", "default": 0, "help_text": "Most values per row (0: all of them)"}
                ],
            },
            "batchSize": MAX_BATCH,
        }

    def manifest_v1(self, urls: Urls) -> dict[str, Any]:
        """The 1.0-draft manifest (routes follow from its root; URI templates are RFC 6570)."""
        return {
            "versions": ["1.0-draft"],
            "name": NAME,
            "lang": "en",
            "documentation": f"{urls.root_v02}/about",
            "serviceVersion": __version__,
            "view": {"url": f"{urls.site}/{{+id}}"},
            "featureView": {"url": f"{urls.root_v02}/about#feature-{{id}}"},
            "preview": {"width": PREVIEW_SIZE[0], "height": PREVIEW_SIZE[1]},
            "defaultTypes": self._types(),
            "suggest": {"entity": True, "property": True, "type": True},
            "extend": {
                "proposeProperties": True,
                "propertySettings": [
                    {"type": "number", "id": "limit", "name": "Limit", "default": 0, "helpText": "Most values per row (0: all of them)"}
                ],
            },
            "batchSize": MAX_BATCH,
            "standardizedScore": True,
        }

    # -- reconciliation queries ---------------------------------------------

    def reconcile_v02(self, batch: Any) -> dict[str, Any]:
        """Answer a 0.2 query batch (``{"q0": {"query": ...}, ...}``) with ``{"q0": {"result": [...]}}``."""
        if not isinstance(batch, dict):
            raise BadRequest("queries must be a JSON object of queries by key, e.g. {\"q0\": {\"query\": \"Aelita\"}}")
        _check_size(len(batch))
        return {key: {"result": [self._candidate(c) for c in self.index.search(self.query_v02(key, q))]} for key, q in batch.items()}

    def reconcile_one_v02(self, query: Any) -> dict[str, Any]:
        """Answer a single 0.1-style ``query=`` (a JSON query object, or plain text)."""
        if isinstance(query, str):
            query = {"query": query}
        return {"result": [self._candidate(c) for c in self.index.search(self.query_v02("query", query))]}

    def query_v02(self, key: str, q: Any) -> Query:
        """Turn one 0.2 query object into a :class:`Query`, or raise BadRequest naming the key."""
        if not isinstance(q, dict):
            raise BadRequest(f"query {key!r} must be a JSON object")
        unknown = set(q) - {"query", "type", "limit", "properties", "type_strict"}
        if unknown:
            raise BadRequest(f"query {key!r} has unknown fields: {', '.join(sorted(unknown))}")
        text = q.get("query", "")
        props = q.get("properties") or []
        if not isinstance(text, str) or not isinstance(props, list):
            raise BadRequest(f"query {key!r}: 'query' must be a string and 'properties' an array")
        if not text.strip() and not props:
            raise BadRequest(f"query {key!r} has neither a query string nor properties")
        types = q.get("type") or []
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list):
            raise BadRequest(f"query {key!r}: 'type' must be a type id or an array of them")
        conditions = []
        for p in props:
            if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
                raise BadRequest(f"query {key!r}: each property must be an object with 'pid' and 'v'")
            conditions.append((p["pid"], p["v"], False))
        return self._query(key, text, types, q.get("limit"), conditions)

    def reconcile_v1(self, body: Any) -> dict[str, Any]:
        """Answer a 1.0-draft batch (``{"queries": [{"conditions": [...]}]}``) with ``{"results": [...]}``."""
        if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
            raise BadRequest('the body must be a JSON object {"queries": [...]}')
        _check_size(len(body["queries"]))
        out = []
        for n, q in enumerate(body["queries"]):
            if not isinstance(q, dict) or not isinstance(q.get("conditions"), list) or not q["conditions"]:
                raise BadRequest(f"query {n} must be an object with a non-empty 'conditions' array")
            text, conditions = "", []
            for c in q["conditions"]:
                if not isinstance(c, dict) or c.get("matchType") not in ("name", "id", "property") or "propertyValue" not in c:
                    raise BadRequest(f"query {n}: each condition needs matchType (name, id or property) and propertyValue")
                value = c["propertyValue"]
                if c["matchType"] == "property":
                    if not isinstance(c.get("propertyId"), str):
                        raise BadRequest(f"query {n}: a property condition needs a propertyId")
                    conditions.append((c["propertyId"], value, bool(c.get("required", False))))
                else:
                    text = (value[0] if isinstance(value, list) and value else value) if not text else text
                    text = text.get("id", "") if isinstance(text, dict) else str(text)
            types = [q["type"]] if isinstance(q.get("type"), str) else []
            found = self.index.search(self._query(str(n), text, types, q.get("limit"), conditions))
            out.append({"candidates": [self._candidate(c) for c in found]})
        return {"results": out}

    def _query(self, key: str, text: str, types: Sequence[Any], limit: Any, conditions: list[tuple[str, Any, bool]]) -> Query:
        resolved = []
        for t in types:
            if not isinstance(t, str) or t not in self._aliases:
                raise BadRequest(f"query {key!r}: unknown type {t!r}; types are: {', '.join(x.id for x in TYPES)}")
            resolved.append(self._aliases[t])
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 1):
            raise BadRequest(f"query {key!r}: limit must be a positive number")
        year, year_required, imdb, others = None, False, "", []
        for pid, value, required in conditions:
            prop = PROPERTY_BY_ID.get(pid)
            if prop is None:
                raise BadRequest(f"query {key!r}: unknown property {pid!r}; properties are: {', '.join(p.id for p in PROPERTIES)}")
            values = value if isinstance(value, list) else [value]
            if prop.id == "year":
                year, year_required = _year(key, values), required
            elif prop.id == "imdb":
                imdb = _text(values[0]) if values else ""
            else:
                texts = tuple(_text(v) for v in values)
                keys = ("sameAs",) if prop.id in ("wikidata", "wikipedia") else prop.keys
                others.append((keys, tuple(_wd(t) if prop.id == "wikidata" else t for t in texts), required))
        n = min(int(limit), MAX_LIMIT) if limit is not None else 10
        return Query(text.strip(), tuple(resolved), year, year_required, imdb, tuple(others), n)

    def _candidate(self, c: Candidate) -> dict[str, Any]:
        entry = c.entry
        features: list[tuple[str, bool | float | int]] = [("name_similarity", c.similarity), ("name_exact", c.exact)]
        if c.id_match:
            features.append(("id_match", True))
        if entry.is_record:
            features.append(("via_identified_film", c.via_identified))
        if c.year_difference is not None:
            features += [("year_agrees", c.year_difference == 0), ("year_difference", c.year_difference)]
        if c.imdb_match is not None:
            features.append(("imdb_match", c.imdb_match))
        if c.properties_matched is not None:
            features.append(("properties_matched", c.properties_matched))
        features.append(("list_record", entry.is_record))
        if entry.is_record and entry.status in STATUS_FEATURES:
            features += [(fid, status == entry.status) for status, (fid, _) in STATUS_FEATURES.items()]
        return {
            "id": entry.id,
            "name": entry.name,
            "description": entry.description,
            "score": c.score,
            "match": c.match,
            "type": [_type_json(t, broader=False) for t in entry.types],
            "features": [{"id": fid, "name": FEATURES[fid], "value": value} for fid, value in features],
        }

    # -- suggest, flyout -----------------------------------------------------

    def suggest_entities(self, prefix: str, cursor: int = 0, limit: int = 10, type_id: str | None = None) -> dict[str, Any]:
        """Entities whose title starts with the prefix (``notable``: their types)."""
        types = (self._aliases[type_id],) if type_id in self._aliases else ()
        hits = self.index.suggest(prefix, types, cursor, limit)
        return {"result": [{"id": e.id, "name": e.name, "description": e.description, "notable": [_type_json(t, broader=False) for t in e.types]} for e in hits]}

    def suggest_types(self, prefix: str, cursor: int = 0, limit: int = 10) -> dict[str, Any]:
        """The service's types whose id or name contains the prefix."""
        key = plain_key(prefix)
        hits = [t for t in TYPES if key in plain_key(t.name) or key in plain_key(t.id) or any(key in plain_key(c) for c in t.classes)]
        return {"result": [_type_json(t.id) for t in hits][cursor: cursor + limit]}

    def suggest_properties(self, prefix: str, cursor: int = 0, limit: int = 10) -> dict[str, Any]:
        """The service's properties whose id, alias or name contains the prefix."""
        key = plain_key(prefix)
        hits = [p for p in PROPERTIES if key in plain_key(p.name) or key in plain_key(p.id) or any(key == plain_key(a) for a in p.aliases)]
        return {"result": [{"id": p.id, "name": p.name, "description": p.description} for p in hits][cursor: cursor + limit]}

    def resolve_type(self, name: str) -> str | None:
        """The type id a query's type names (an id, a class CURIE or IRI), or None when unknown."""
        return self._aliases.get(name)

    def entry(self, id: str) -> Entry | None:
        """The entity with this id (or full IRI), if the service knows it."""
        return self.index.by_id(id) if id else None


def _label_index(store: Store, site: SiteIndex | None, full_max: int) -> LabelIndex:
    if site is not None and matchable(site) > full_max:
        return ScaledLabelIndex(store, site)
    return LabelIndex(read_entries(store), store.base_iri)


def _type_json(type_id: str, broader: bool = True) -> dict[str, Any]:
    t = TYPE_BY_ID[type_id]
    out: dict[str, Any] = {"id": t.id, "name": t.name}
    if broader:
        out["description"] = t.description
        if t.broader:
            out["broader"] = [{"id": t.broader, "name": TYPE_BY_ID[t.broader].name}]
    return out


def _check_size(n: int) -> None:
    if n > MAX_BATCH:
        raise PayloadTooLarge(f"a batch holds at most {MAX_BATCH} queries (the manifest's batchSize); got {n}", limit="batchSize")


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or value.get("name") or "")
    return str(value).strip()


def _wd(text: str) -> str:
    return text if text.startswith("http") else "http://www.wikidata.org/entity/" + text


def _year(key: str, values: Sequence[Any]) -> int:
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return int(v)
        head = _text(v)[:4]
        year = ascii_int(head) if len(head) == 4 else None  # ASCII digits: int() reads any script's
        if year is not None:
            return year
    raise BadRequest(f"query {key!r}: a year must be a number (1959) or a date (1959-09-12)")
