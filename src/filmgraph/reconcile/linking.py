"""Link discovery: ask a Wikidata-like SPARQL endpoint for candidate items, for a person to review.

:func:`discover` proposes, for every real film, mission, person and work,
the items found by three methods: the English Wikipedia article title the
data links to (``wikipedia``), the IMDb id (``imdb``, Wikidata's P345) and the
labels with the year (``label``: titles and names in their languages; for films
and works an item whose publication date P577 is more than a year off is
dropped). The result is a *review*: JSON, one entry per local resource, each
candidate with its evidence and ``"accept": false``. Nothing reaches the data
from here: :func:`accept` turns the candidates a person set to ``true`` into
Turtle (``owl:sameAs`` and ``schema:sameAs``, each with its provenance) that
the person then adds to ``data/`` themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from .. import formats as F
from ..core.errors import BadRequest, Unavailable
from ..core.namespaces import DCTERMS, OWL, PROV, RDF, RDFS, SCHEMA, WD, XSD
from ..core.progress import Progress
from ..sparql.query import named_query
from .index import Entry, article_title

REVIEW_FORMAT = "filmgraph-link-review/1"
KINDS = ("real-film", "mission", "person", "work")
METHODS = {"wikipedia": "reconcile-link-wikipedia", "imdb": "reconcile-link-imdb", "label": "reconcile-link-label"}
CHUNK = 40
_QID = re.compile(r"^Q[1-9][0-9]*$")
_MARKER = re.compile(r"^\s*#VALUES \(\?key \?value\)#\s*$", re.MULTILINE)


class SparqlClient:
    """Runs SELECT queries on a remote endpoint through SPARQLWrapper; returns SPARQL JSON bindings."""

    def __init__(self, endpoint: str, timeout: float = 60.0, agent: str = "filmgraph-link (link discovery for review)") -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.agent = agent

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        """Run one SELECT; raise Unavailable naming the endpoint when it cannot answer."""
        from SPARQLWrapper import JSON, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        client = SPARQLWrapper(self.endpoint, agent=self.agent)
        client.setQuery(query)
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        client.setTimeout(int(self.timeout))
        try:
            # Read as JSON here: SPARQLWrapper's convert() picks a parser by the answer's media type,
            # and for JSON-LD that is rdflib's, which fetches remote contexts.
            with client.query().response as response:
                media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if media not in (F.SPARQL_JSON.media_type, *F.SPARQL_JSON.also_accepts):
                    raise Unavailable(f"the endpoint {self.endpoint} answered with {media or 'no media type'}, not SPARQL JSON results", endpoint=self.endpoint)
                result = json.loads(response.read())
        except (OSError, ValueError, SPARQLWrapperException) as exc:
            raise Unavailable(f"the endpoint {self.endpoint} did not answer the link query: {exc}", endpoint=self.endpoint) from exc
        if not isinstance(result, dict) or not isinstance(result.get("results"), dict) or "bindings" not in result["results"]:
            raise Unavailable(f"the endpoint {self.endpoint} did not return SPARQL JSON results", endpoint=self.endpoint)
        return list(result["results"]["bindings"])


def with_values(name: str, pairs: Sequence[tuple[NamedNode, Literal]]) -> str:
    """The named query with its VALUES line filled with (key, value) pairs, serialized as RDF terms."""
    rows = " ".join(f"({key} {value})" for key, value in pairs)
    text, n = _MARKER.subn(lambda _: f"  VALUES (?key ?value) {{ {rows} }}", named_query(name))
    assert n == 1, f"{name}.rq has no VALUES marker"
    return text


def inputs(entry: Entry, method: str) -> list[Literal]:
    """The values one method looks up for a resource (article titles, IMDb ids, labels)."""
    if method == "wikipedia":
        return [Literal(article_title(u), language="en") for u in entry.wikipedia()]
    if method == "imdb":
        return [Literal(v.text) for v in entry.facts.get("imdbId", ())]
    out: dict[tuple[str, str], Literal] = {}
    for key in ("name", "originalTitle", "altLabel"):
        for v in entry.facts.get(key, ()):
            lang = v.lang or "en"
            langs = [lang, "en"] if lang.lower().endswith("-latn") else [lang]
            for tag in langs:
                if "-latn" not in tag.lower():
                    out[(v.text, tag)] = Literal(v.text, language=tag)
    return list(out.values())


def _chunks(pairs: list[tuple[NamedNode, Literal]]) -> Iterator[list[tuple[NamedNode, Literal]]]:
    for i in range(0, len(pairs), CHUNK):
        yield pairs[i: i + CHUNK]


def _year(date: str) -> int | None:
    m = re.match(r"^\+?(-?\d{4})", date)
    return int(m.group(1)) if m else None


def discover(entries: Mapping[str, Entry], client: SparqlClient, now: datetime | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Ask the endpoint for candidates of every real film, mission, person and work; return the review (``progress``: the queries)."""
    progress = progress if progress is not None else Progress.off()
    resources = sorted((e for e in entries.values() if set(KINDS) & set(e.types) and not e.is_record), key=lambda e: e.id)
    by_iri = {e.iri: e for e in resources}
    found: dict[str, dict[str, dict[str, Any]]] = {e.iri: {} for e in resources}
    asked = {method: [(NamedNode(e.iri), lit) for e in resources for lit in inputs(e, method)] for method in METHODS}
    total = sum(len(pairs) for pairs in asked.values())
    with progress.phase(f"asking {getattr(client, 'endpoint', 'the endpoint')}", total=total, unit="values") as phase:
        for method, query in METHODS.items():
            for chunk in _chunks(asked[method]):
                for row in client.select(with_values(query, chunk)):
                    _collect(found, by_iri, method, row)
                phase.advance(len(chunk))
    review = []
    for e in resources:
        linked = e.wikidata()
        cands = [_finish(c, e, linked) for c in found[e.iri].values()]
        cands = [c for c in cands if c["evidence"]]
        cands.sort(key=lambda c: (-len(c["methods"]), int(c["qid"][1:])))
        review.append({"id": e.id, "iri": e.iri, "type": next(t for t in e.types if t in KINDS), "name": e.name,
                       "year": e.year, "linked": linked, "candidates": cands})
    stamp = (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    return {
        "format": REVIEW_FORMAT,
        "created": stamp,
        "endpoint": client.endpoint,
        "instructions": "Check each candidate; set \"accept\": true on those that are the same thing as the resource. "
                        "Then run: filmgraph link --accept THIS-FILE --output links.ttl, and add links.ttl to data/ yourself. "
                        "For Wikidata: once the filmgraph film ID property exists, write its id as \"property\" and run "
                        "filmgraph link --quickstatements THIS-FILE (statements for the accepted real films only). "
                        "Nothing in this file is in the data.",
        "property": None,
        "resources": review,
    }


def _collect(found: dict[str, dict[str, dict[str, Any]]], by_iri: Mapping[str, Entry], method: str, row: Mapping[str, Mapping[str, str]]) -> None:
    key, item = row.get("key", {}).get("value", ""), row.get("item", {}).get("value", "")
    if key not in by_iri or not item.startswith(WD) or not _QID.match(item[len(WD):]):
        return
    qid = item[len(WD):]
    cand = found[key].setdefault(qid, {"qid": qid, "item": item, "label": "", "dates": set(), "classes": set(), "hits": {}})
    if "label" in row and not cand["label"]:
        cand["label"] = row["label"]["value"]
    if "date" in row:
        cand["dates"].add(row["date"]["value"])
    if "class" in row and row["class"]["value"].startswith(WD):
        cand["classes"].add(row["class"]["value"][len(WD):])
    value = row.get("value", {})
    cand["hits"].setdefault(method, {})[value.get("value", "")] = value.get("xml:lang", "")


def _finish(cand: dict[str, Any], entry: Entry, linked: Sequence[str]) -> dict[str, Any]:
    years = sorted({y for y in (_year(d) for d in cand["dates"]) if y is not None})
    evidence = []
    for method, hits in cand["hits"].items():
        for value, lang in sorted(hits.items()):
            values: dict[str, Any] = {}
            if method == "wikipedia":
                values = {"title": value, "article": "https://en.wikipedia.org/wiki/" + value.replace(" ", "_")}
            elif method == "imdb":
                values = {"imdb": value}
            else:
                values = {"label": value, "lang": lang, "year": entry.year, "item_years": years}
                dated = entry.year is not None and ("real-film" in entry.types or "work" in entry.types)
                if dated and years and all(abs(y - entry.year) > 1 for y in years):  # type: ignore[operator]
                    continue  # same title, another year: another film or edition
                values["year_agrees"] = (entry.year in years or any(abs(y - entry.year) <= 1 for y in years)) if dated and years else None  # type: ignore[operator]
            evidence.append({"method": method, "values": values})
    return {
        "qid": cand["qid"],
        "item": cand["item"],
        "label": cand["label"],
        "instance_of": sorted(cand["classes"], key=lambda q: int(q[1:]) if q[1:].isdigit() else 0),
        "dates": sorted(cand["dates"]),
        "methods": sorted({ev["method"] for ev in evidence}),
        "evidence": evidence,
        "already_linked": cand["qid"] in linked,
        "accept": False,
    }


def accept(review: Any, entries: Mapping[str, Entry], base_iri: str, now: datetime | None = None) -> list[Triple]:
    """The links a person accepted in a review, with provenance, as triples (nothing is written anywhere)."""
    if not isinstance(review, dict) or review.get("format") != REVIEW_FORMAT or not isinstance(review.get("resources"), list):
        raise BadRequest(f"not a link review of this version (its \"format\" must be {REVIEW_FORMAT!r})")
    when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    created = str(review.get("created", ""))
    node = NamedNode(f"{base_iri}dataset#link-review-{re.sub(r'[^0-9]', '', created)[:14] or 'undated'}")
    triples: list[Triple] = []
    for res in review["resources"]:
        for cand in res.get("candidates", []) if isinstance(res, dict) else []:
            if not isinstance(cand, dict) or cand.get("accept") is not True:
                continue
            triples += _link(entries, res, cand, node, when)
    if triples:
        endpoint = str(review.get("endpoint", ""))
        triples += [
            Triple(node, NamedNode(RDF + "type"), NamedNode(PROV + "Entity")),
            Triple(node, NamedNode(RDFS + "label"), Literal(f"Link review of {created}, candidates from {endpoint}", language="en")),
        ]
        if re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", created):
            triples.append(Triple(node, NamedNode(DCTERMS + "created"), Literal(created, datatype=NamedNode(XSD + "dateTime"))))
        if endpoint.startswith(("http://", "https://")):
            triples.append(Triple(node, NamedNode(DCTERMS + "source"), NamedNode(endpoint)))
    return triples


def _link(entries: Mapping[str, Entry], res: Mapping[str, Any], cand: Mapping[str, Any], review: NamedNode, when: datetime) -> Iterable[Triple]:
    entry = entries.get(str(res.get("id", "")))
    qid = str(cand.get("qid", ""))
    if entry is None:
        raise BadRequest(f"the review names {res.get('id')!r}, which is not in the data")
    if entry.is_record or not set(KINDS) & set(entry.types):
        raise BadRequest(f"{entry.id} is a record of the list: identity links belong to the real film, never to a record")
    if not _QID.match(qid):
        raise BadRequest(f"{entry.id}: {qid!r} is not a Wikidata item id (Q...)")
    if qid in entry.wikidata():
        return []
    subject, item = NamedNode(entry.iri), NamedNode(WD + qid)
    statement = NamedNode(f"{entry.iri}#wikidata-{qid}")
    methods = ", ".join(str(m) for m in cand.get("methods", [])) or "none recorded"
    return [
        Triple(subject, NamedNode(OWL + "sameAs"), item),
        Triple(subject, NamedNode(SCHEMA + "sameAs"), item),
        Triple(statement, NamedNode(RDF + "type"), NamedNode(RDF + "Statement")),
        Triple(statement, NamedNode(RDF + "type"), NamedNode(PROV + "Entity")),
        Triple(statement, NamedNode(RDF + "subject"), subject),
        Triple(statement, NamedNode(RDF + "predicate"), NamedNode(OWL + "sameAs")),
        Triple(statement, NamedNode(RDF + "object"), item),
        Triple(statement, NamedNode(PROV + "wasDerivedFrom"), review),
        Triple(statement, NamedNode(PROV + "generatedAtTime"), Literal(when.isoformat(), datatype=NamedNode(XSD + "dateTime"))),
        Triple(statement, NamedNode(DCTERMS + "description"),
               Literal(f"Proposed by filmgraph link (methods: {methods}) and accepted by a person in review.", language="en")),
    ]
