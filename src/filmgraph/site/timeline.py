"""A server-side SVG timeline: films of the list, real films and missions by year, with impossible timings drawn.

Years run down the picture, one row per year that has something (long empty
stretches are folded into a gap row); three lanes side by side: the list's
films at their LISTED year, the real films at their real date, missions and
events at their dates. A conflict (a claim whose timing the rules found
impossible) is a red dashed line from the record to the later thing it claims
to follow. The picture is plain inline SVG (``role="img"`` with a title and a
description); it needs no script. No Flask here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

LANES: tuple[tuple[str, str], ...] = (
    ("record", "Films of the list, at their listed year"),
    ("film", "Real films, at their real date"),
    ("mission", "Missions and events"),
)

YEAR_WIDTH = 64
LANE_WIDTH = 330
LINE = 20
TOP = 48
GAP_ROW = 22
MAX_LABEL = 38


@dataclass(frozen=True)
class Mark:
    """One thing on the timeline: which lane, its label, its date (lexical), where it links."""

    key: str
    lane: str
    label: str
    when: str
    href: str | None = None
    classes: tuple[str, ...] = ()
    note: str | None = None
    lang: str | None = None

    @property
    def year(self) -> int:
        """The year of the date (first four digits of the lexical form)."""
        return int(self.when[:4])

    @property
    def position(self) -> float:
        """A sortable fraction of the year (month and day when known)."""
        parts = self.when[:10].split("-")
        month = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1
        day = int(parts[2][:2]) if len(parts) > 2 and parts[2][:2].isdigit() else 1
        return self.year + (month - 1) / 12 + (day - 1) / 372


@dataclass(frozen=True)
class Conflict:
    """An impossible timing: the record (source) claims to come after the target."""

    source: str
    target: str
    message: str


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def _rows(marks: Sequence[Mark]) -> list[tuple[str, int | tuple[int, int], int]]:
    """Rows top to bottom: ("year", year, height) or ("gap", (first, last), height)."""
    years = sorted({m.year for m in marks})
    rows: list[tuple[str, int | tuple[int, int], int]] = []
    for i, year in enumerate(years):
        if i and year - years[i - 1] > 2:
            rows.append(("gap", (years[i - 1] + 1, year - 1), GAP_ROW))
        elif i and year - years[i - 1] == 2:
            rows.append(("year", year - 1, LINE))
        per_lane = max(sum(1 for m in marks if m.year == year and m.lane == lane) for lane, _ in LANES)
        rows.append(("year", year, max(per_lane, 1) * LINE + 6))
    return rows


def render(marks: Sequence[Mark], conflicts: Sequence[Conflict], title: str, description: str) -> str:
    """Return the timeline as an inline ``<svg>`` element."""
    width = YEAR_WIDTH + LANE_WIDTH * len(LANES)
    lane_x = {lane: YEAR_WIDTH + i * LANE_WIDTH + 14 for i, (lane, _) in enumerate(LANES)}
    out: list[str] = []
    place: dict[str, tuple[float, float]] = {}
    labels = {m.key: m.label for m in marks}
    y = TOP
    body: list[str] = []
    for kind, value, height in _rows(marks):
        if kind == "gap":
            first, last = value  # type: ignore[misc]
            body.append(f'<g class="gap"><text x="8" y="{y + 15}">{first}–{last}</text>'
                        f'<line x1="{YEAR_WIDTH}" y1="{y + 11}" x2="{width - 8}" y2="{y + 11}"/></g>')
            y += height
            continue
        year = value
        body.append(f'<g class="year" id="timeline-{year}"><line x1="0" y1="{y}" x2="{width}" y2="{y}"/>'
                    f'<text x="8" y="{y + 15}">{year}</text></g>')
        for lane, _ in LANES:
            here = sorted((m for m in marks if m.year == year and m.lane == lane), key=lambda m: (m.position, m.label))
            for i, m in enumerate(here):
                cy = y + 12 + i * LINE
                cx = lane_x[lane]
                place[m.key] = (cx, cy)
                body.append(_mark(m, cx, cy))
        y += height
    height = y + 12
    for c in conflicts:
        if c.source in place and c.target in place:
            (x1, y1), (x2, y2) = place[c.source], place[c.target]
            x1 += 16 + _text_width(_short(labels[c.source]))  # start after the label, not through it
            mid = (x1 + x2) / 2
            body.append(f'<path class="conflict" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2 - 7:.0f},{y2:.0f}" '
                        f'marker-end="url(#timeline-arrow)"><title>{escape(c.message)}</title></path>')
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
               f'width="{width}" height="{height}" role="img" aria-labelledby="timeline-title timeline-desc">')
    out.append(f'<title id="timeline-title">{escape(title)}</title>')
    out.append(f'<desc id="timeline-desc">{escape(description)}</desc>')
    out.append('<defs><marker id="timeline-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" '
               'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="conflict-head"/></marker></defs>')
    for i, (lane, label) in enumerate(LANES):
        out.append(f'<text class="lane-title" x="{YEAR_WIDTH + i * LANE_WIDTH + 4}" y="24">{escape(label)}</text>')
    out.extend(body)
    out.append("</svg>")
    return "\n".join(out)


def _text_width(text: str) -> float:
    """A rough width of a label at the timeline's font size (no font metrics on the server)."""
    return sum(4.0 if ch in "iljtfI.,;:'!| " else 9.5 if ch in "mwMW" else 7.2 if ch.isupper() else 6.6 for ch in text)


def _mark(m: Mark, cx: float, cy: float) -> str:
    classes = " ".join(("mark", m.lane, *m.classes))
    lang = f' lang="{_attr(m.lang)}"' if m.lang else ""
    tip = f"{m.label} ({m.when[:10]})" + (f": {m.note}" if m.note else "")
    label = f'<text x="{cx + 10}" y="{cy + 4}"{lang}>{escape(_short(m.label))}</text>'
    inner = f'<circle cx="{cx}" cy="{cy}" r="5"/>{label}'
    if m.href:
        inner = f'<a href="{_attr(m.href)}">{inner}</a>'
    return f'<g class="{_attr(classes)}"><title>{escape(tip)}</title>{inner}</g>'
