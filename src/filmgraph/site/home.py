"""The home page's model: what the dataset is, how honest it is (computed from the data), the films, the timeline.

Every number on the home page is counted from the data (kept by the site index
when the store was built, :mod:`filmgraph.store.index`) or from the consistency
rules' report; nothing is typed in. Whatever the size of the data, the page
reads the first ``HOME_RECORDS`` records of the list (named queries with the
record bound) and draws at most ``TIMELINE_FILMS`` real films and
``TIMELINE_MISSIONS`` missions. No Flask here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from . import search, timeline
from .graphview import Value, bcp47, format_date
from ..store.index import SiteIndex
from ..core.iris import local_path
from ..core.namespaces import prefixes
from .claimview import ASSESSMENT_WORDS
from .page import STATUS_WORDS
from ..sparql.query import QueryService
from ..truth.rules import Finding, Report


@dataclass
class RecordRow:
    """One film of the list on the home page."""

    position: str | None
    record: Value
    year: str | None
    status: str
    status_label: str
    film: Value | None
    film_date: str | None
    assessments: Counter[str] = field(default_factory=Counter)
    impossible: int = 0


HOME_RECORDS = 20
"""Records of the list shown on the home page (in list order; the film list has them all)."""

TIMELINE_FILMS = 100
TIMELINE_MISSIONS = 100
"""Most real films and missions the timeline draws (the earliest)."""


@dataclass
class Home:
    """Everything the home template renders."""

    records: list[RecordRow]
    statuses: list[tuple[str, str, int]]
    assessments: list[tuple[str, str, int]]
    claims: int
    impossible: int
    suspicious: int
    rules: int
    timeline_svg: str
    total_records: int = 0


def _text(term: object) -> str | None:
    return term.value if isinstance(term, Literal | NamedNode) else None


def _local(iri: str | None, ns: str) -> str:
    return iri[len(ns):] if iri and iri.startswith(ns) else ""


def build(query: QueryService, index: SiteIndex, report: Report, root: str = "") -> Home:
    """Count, list and draw the dataset for the home page."""
    base = query.store.base_iri
    fg = prefixes(base)["fg"]

    def path(iri: str) -> str | None:
        return local_path(iri, base, root)

    shown = [item.iri for item in search.by_position(index, base, HOME_RECORDS) if "fg:FilmRecord" in item.types]
    rows = [row for iri in shown for row in query.select("home-records", {"record": NamedNode(iri)})]
    records: dict[str, RecordRow] = {}
    for row in rows:
        iri = row["record"].value  # type: ignore[union-attr]
        if iri in records:
            continue
        name = row.get("name")
        status_css, status_label, _ = STATUS_WORDS.get(_local(_text(row.get("status")), fg), ("unknown", "Not stated", ""))
        film = row.get("film")
        film_value = None
        if isinstance(film, NamedNode):
            film_name = row.get("filmName")
            film_value = Value(film_name.value if isinstance(film_name, Literal) else film.value, getattr(film_name, "language", None), path(film.value), iri=film.value)
        film_date = row.get("filmDate")
        records[iri] = RecordRow(
            position=_text(row.get("position")),
            record=Value(name.value if isinstance(name, Literal) else iri, name.language if isinstance(name, Literal) else None, path(iri), iri=iri),
            year=_text(row.get("year")),
            status=status_css,
            status_label=status_label,
            film=film_value,
            film_date=format_date(film_date) if isinstance(film_date, Literal) else None,
        )

    claim_record: dict[str, str] = {}
    for iri in records:
        for row in query.select("home-record-claims", {"record": NamedNode(iri)}):
            claim = _text(row.get("claim"))
            if claim is None or claim in claim_record:
                continue
            claim_record[claim] = iri
            css = ASSESSMENT_WORDS.get(_local(_text(row.get("assessment")), fg), ("unassessed", ""))[0]
            records[iri].assessments[css] += 1
    # The errors about the records shown and their claims (the report may hold a million: ask, do not scan).
    errors = [f for f in report.about([*records, *claim_record]) if f.severity == "error"]
    for finding in errors:
        record = claim_record.get(finding.concerns, finding.concerns)
        if record in records:
            records[record].impossible += 1

    status_counts = index.counts("status:")
    assessment_counts = index.counts("assessment:")
    statuses = [(css, label, status_counts.get(local, 0)) for local, (css, label, _) in STATUS_WORDS.items()]
    assessments = [(css, label, assessment_counts.get(local, 0)) for local, (css, label) in ASSESSMENT_WORDS.items()]
    svg = _timeline(query, index, errors, list(records.values()), claim_record, path)
    return Home(
        records=sorted(records.values(), key=lambda r: (int(r.position) if r.position and r.position.isdigit() else 999, r.record.text)),
        statuses=statuses,
        assessments=assessments,
        claims=index.count("type:fg:Claim"),
        impossible=report.error_count,
        suspicious=report.warning_count,
        rules=len(report.rules),
        timeline_svg=svg,
        total_records=index.count("type:fg:FilmRecord"),
    )


def _timeline(query: QueryService, index: SiteIndex, errors: Sequence[Finding], records: list[RecordRow], claim_record: dict[str, str],
              to_path: Callable[[str], str | None]) -> str:
    """Marks for records (listed year), real films, missions and the things impossible claims point at."""
    base = query.store.base_iri
    marks: dict[str, timeline.Mark] = {}
    for r in records:
        if r.year and r.year[:4].isdigit() and r.record.iri:
            classes = ("status-" + r.status,) + (("impossible",) if r.impossible else ()) + (("contradicted",) if r.assessments["contradicted"] else ())
            note = f"listed as {r.year}; {r.status_label.lower()}"
            marks[r.record.iri] = timeline.Mark(r.record.iri, "record", r.record.text, r.year, r.record.href, classes, note, r.record.lang)
    for item, date in search.by_date(index, base, "fg:Film", TIMELINE_FILMS):
        if date[:4].isdigit() and item.iri not in marks:
            lang = bcp47(item.lang) if item.lang else None
            marks[item.iri] = timeline.Mark(item.iri, "film", item.label or item.iri, date, to_path(item.iri), (), None, lang)
    missions = search.by_date(index, base, "fg:SpaceMission", TIMELINE_MISSIONS) + search.by_date(index, base, "fg:Programme", TIMELINE_MISSIONS)
    for item, date in sorted(missions, key=lambda m: (m[1], m[0].iri))[:TIMELINE_MISSIONS]:
        if date[:4].isdigit() and item.iri not in marks:
            marks[item.iri] = timeline.Mark(item.iri, "mission", item.label or item.iri, date, to_path(item.iri))
    conflicts = []
    for finding in errors:
        record = claim_record.get(finding.concerns)
        related = finding.related
        if not record or record not in marks or not related or related.startswith("_:"):
            continue
        # The rules compare the earliest known date (conception before launch): point at that date.
        rows = query.select("home-thing-date", {"iri": NamedNode(related)})
        date = next((_text(r.get("date")) for r in rows if r.get("date") is not None), None)
        if not date or not date[:4].isdigit():
            continue
        key = related
        if related not in marks or marks[related].when[:7] != date[:7]:
            title = next((_text(r.get("name")) for r in rows if r.get("name") is not None), None) or related
            what = next((_text(r.get("what")) for r in rows if r.get("what") is not None), None) or "start"
            key = related if related not in marks else f"{related} {date}"
            label = title if what == "start" or related not in marks else f"{title} ({what})"
            marks[key] = timeline.Mark(key, "mission", label, date, to_path(related), ("related",), what)
        old = marks[key]
        marks[key] = timeline.Mark(old.key, old.lane, old.label, old.when, old.href, tuple(dict.fromkeys(old.classes + ("conflict-target",))), old.note, old.lang)
        conflicts.append(timeline.Conflict(record, key, finding.message))
    description = (
        f"{sum(1 for m in marks.values() if m.lane == 'record')} films of the list at their listed years, "
        f"{sum(1 for m in marks.values() if m.lane == 'film')} real films and "
        f"{sum(1 for m in marks.values() if m.lane == 'mission')} missions and events at their dates; "
        f"{len(conflicts)} impossible timings are drawn as red dashed arrows from the film to the later event it claims to follow."
    )
    return timeline.render(list(marks.values()), conflicts, "Timeline of the films of the list, real films and space missions", description)
