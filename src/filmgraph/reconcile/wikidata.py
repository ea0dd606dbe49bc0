"""The Wikidata side of linking: the proposed external-identifier property, and reviewed links as QuickStatements.

Everything a Wikidata editor needs is computed here from the settings and the
data (the ``/wikidata`` page shows it; docs/identifiers.md explains it): the
formatter URL ``{base}film/$1``, a URL match pattern for the site's film
addresses, the format of a film id, example values with their Wikidata items
(only the links the data holds, which are verified ones), the reconciliation
endpoint, the Mix'n'match catalog and the licence.

:func:`quickstatements` turns the candidates a person accepted in a link review
(``filmgraph link --endpoint``) into QuickStatements, V1 and CSV: on the matched
item, the film id statement under the property (created on Wikidata once the
proposal passes; its id is written into the review as ``"property"``), with a
reference to our page (reference URL, P854) and the day it was retrieved
(P813). Rejected and unreviewed candidates never appear; nor do missions,
people and works, for which no filmgraph property is proposed (their links go
into the data through ``--accept``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .. import formats as F
from ..core.errors import BadRequest
from ..core.namespaces import WD
from ..sparql.query import QueryService
from ..site.void import LICENSE, PUBLISHER_NAME
from .mixnmatch import FILENAME as MIXNMATCH_FILE
from .linking import REVIEW_FORMAT

FILM_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
"""The form of a film id (``nebo-zovyot``, ``sky-beckons-1959``): the format regex of the property."""
PROPERTY_LABEL = "filmgraph film ID"
REFERENCE_URL = "P854"
RETRIEVED = "P813"
FORMATTER_URL = "P1630"
FORMATTER_URI_RDF = "P1921"
FORMAT_REGEX = "P1793"
URL_MATCH_PATTERN = "P8966"
IMDB_ID = "P345"
"""Wikidata's IMDb ID property, which ``fg:imdbId`` mirrors (reference/facts.md)."""
_PID = re.compile(r"^P[1-9][0-9]*$")
_QID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True)
class Example:
    """An example value of the property: a film id, its page, and the Wikidata item the data links it to."""

    id: str
    url: str
    name: str = ""
    qid: str | None = None


@dataclass(frozen=True)
class Proposal:
    """The proposed external-identifier property and the services around it, for one site."""

    base_iri: str
    site: str
    formatter_url: str
    url_patterns: tuple[str, ...]
    replacement: str
    format_regex: str
    examples: tuple[Example, ...]
    reconcile: str
    mixnmatch: str
    license: str
    publisher: str
    label: str = PROPERTY_LABEL
    datatype: str = "external identifier"

    def as_json(self) -> dict[str, Any]:
        """The proposal as plain JSON (the ``/wikidata`` page's JSON form)."""
        return {
            "label": self.label,
            "datatype": self.datatype,
            "formatter_url": {"property": FORMATTER_URL, "value": self.formatter_url},
            "formatter_uri_for_rdf_resource": {"property": FORMATTER_URI_RDF, "value": self.formatter_url},
            "format_regex": {"property": FORMAT_REGEX, "value": self.format_regex},
            "url_match_patterns": [{"property": URL_MATCH_PATTERN, "value": p, "replacement": self.replacement} for p in self.url_patterns],
            "examples": [{"value": e.id, "url": e.url, "name": e.name, "item": e.qid} for e in self.examples],
            "reconciliation_endpoint": self.reconcile,
            "mixnmatch_catalog": self.mixnmatch,
            "license": self.license,
            "publisher": self.publisher,
            "mirrors": {"fg:imdbId": IMDB_ID},
        }


def url_pattern(prefix: str) -> str:
    """A URL match pattern for the film pages below a prefix: the thing and its documents, http or https."""
    rest = re.sub(r"^https?://", "", prefix)
    extensions = "|".join(re.escape(f.extension) for f in F.DOCUMENTS)
    return f"^https?://{re.escape(rest)}film/({FILM_ID})(?:\\.(?:{extensions}))?$"


def proposal(query: QueryService, site: str, found: list[Example] | None = None) -> Proposal:
    """The property proposal of this site: from the base IRI (a setting), the site's address and the data
    (``found``: the examples, when the caller keeps them)."""
    base = query.store.base_iri
    site = site.rstrip("/") + "/"
    prefixes = [base] + ([site] if site != base else [])
    return Proposal(
        base_iri=base,
        site=site,
        formatter_url=f"{base}film/$1",
        url_patterns=tuple(url_pattern(p) for p in prefixes),
        replacement="\\1",
        format_regex=FILM_ID,
        examples=tuple(examples(query) if found is None else found),
        reconcile=f"{site}reconcile",
        mixnmatch=f"{site}dumps/{MIXNMATCH_FILE}",
        license=LICENSE,
        publisher=PUBLISHER_NAME,
    )


def examples(query: QueryService) -> list[Example]:
    """Real films with the Wikidata item the data links them to; without any such link, a few films (no item)."""
    base = query.store.base_iri
    film = f"{base}film/"
    found: dict[str, Example] = {}
    for row in query.select("wikidata-linked-films"):
        iri, item = row["film"].value, row["item"].value  # type: ignore[union-attr]
        qid = item[len(WD):]
        if iri.startswith(film) and _QID.match(qid) and iri not in found:
            found[iri] = Example(iri[len(film):], iri, qid=qid)
    if not found:
        for row in query.select("wikidata-films"):
            iri = row["film"].value  # type: ignore[union-attr]
            if iri.startswith(film):
                found[iri] = Example(iri[len(film):], iri)
    names = _names(query, list(found))
    return [Example(e.id, e.url, names.get(e.url, ""), e.qid) for e in sorted(found.values(), key=lambda e: e.id)]


def _names(query: QueryService, iris: list[str]) -> dict[str, str]:
    from pyoxigraph import NamedNode

    out: dict[str, str] = {}
    for row in query.select_each("describe-inbound-names", "s", [NamedNode(i) for i in iris]) if iris else []:
        name = row.get("name")
        if name is not None and row["s"].value not in out:  # type: ignore[union-attr]
            out[row["s"].value] = name.value  # type: ignore[union-attr]
    return out


# -- QuickStatements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One statement to add: the film id on the matched item, referenced to our page."""

    qid: str
    property: str
    value: str
    url: str
    retrieved: date


def accepted_edits(review: Any, base_iri: str, today: date) -> list[Edit]:
    """The edits of the accepted film candidates of a review (``"accept": true`` only), in review order."""
    if not isinstance(review, dict) or review.get("format") != REVIEW_FORMAT or not isinstance(review.get("resources"), list):
        raise BadRequest(f"not a link review of this version (its \"format\" must be {REVIEW_FORMAT!r})")
    prop = review.get("property")
    accepted = [(res, cand) for res, cand in _accepted(review) if str(res.get("iri", "")).startswith(f"{base_iri}film/")]
    if accepted and not (isinstance(prop, str) and _PID.match(prop)):
        raise BadRequest(
            f"the review names no Wikidata property: the {PROPERTY_LABEL!r} property is proposed, not yet created; once it is, "
            "write its id into the review as \"property\": \"P...\" (see /wikidata)"
        )
    edits: list[Edit] = []
    for res, cand in accepted:
        iri = str(res["iri"])
        value = iri[len(f"{base_iri}film/"):]
        qid = str(cand.get("qid", ""))
        if not re.fullmatch(FILM_ID, value):
            raise BadRequest(f"{iri}: {value!r} is not a film id")
        if not _QID.match(qid):
            raise BadRequest(f"{iri}: {qid!r} is not a Wikidata item id (Q...)")
        if res.get("type") != "real-film":
            raise BadRequest(f"{iri} is not a real film: a film id belongs on the item of a real film, never of a record of the list")
        edits.append(Edit(qid, str(prop), value, iri, today))
    return edits


def _accepted(review: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    for res in review["resources"]:
        if not isinstance(res, dict):
            continue
        for cand in res.get("candidates", []):
            if isinstance(cand, dict) and cand.get("accept") is True:  # unreviewed (false) and rejected never pass
                yield res, cand


def skipped(review: Mapping[str, Any], base_iri: str) -> list[str]:
    """Accepted candidates that get no statement (missions, people, works: no filmgraph property covers them)."""
    return [f"{res.get('id')} -> {cand.get('qid')}" for res, cand in _accepted(review) if not str(res.get("iri", "")).startswith(f"{base_iri}film/")]


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _time(day: date) -> str:
    return f"+{day.isoformat()}T00:00:00Z/11"  # precision 11: a day


def v1(edits: list[Edit]) -> str:
    """QuickStatements V1: one tab-separated command per line, the reference on the same line."""
    return "".join(
        "\t".join((e.qid, e.property, _string(e.value), "S" + REFERENCE_URL[1:], _string(e.url), "S" + RETRIEVED[1:], _time(e.retrieved))) + "\n"
        for e in edits
    )


def csv_text(edits: list[Edit]) -> str:
    """QuickStatements CSV: a ``qid`` column, the property, then the reference columns (values in V1 syntax)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    prop = edits[0].property if edits else "P"
    writer.writerow(["qid", prop, "S" + REFERENCE_URL[1:], "S" + RETRIEVED[1:]])
    for e in edits:
        # Strings keep their V1 quotes inside the cell, or the importer reads an id that is not all digits as unknown.
        writer.writerow([e.qid, _string(e.value), _string(e.url), _time(e.retrieved)])
    return out.getvalue()
