"""Claims on pages: each claim of the list with its assessment, note, evidence, deciding dates and rule findings.

Reads the claims graph (``resource-claims.rq``) through a :class:`GraphView`;
wording for the assessment values and the list's fields lives here. No Flask here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from .graphview import GraphView, Presenter, Value
from ..core.namespaces import SCHEMA
from ..truth.rules import Finding

ASSESSMENT_WORDS = {
    "Supported": ("supported", "Supported"),
    "Contradicted": ("contradicted", "Contradicted"),
    "Unverified": ("unverified", "Unverified"),
}
"""Assessment value (local name) -> (CSS class, badge text)."""

SOURCE_WORDS = {"TitleField": "the title", "YearField": "the year", "DescriptionField": "the description", "FactField": "the fact"}
"""Claim source (local name) -> the part of the list's entry, in words."""

FIELD_ORDER = ("TitleField", "YearField", "DescriptionField", "FactField")

_IRI_IN_TEXT = re.compile(r"<(https?://[^<>\s]+)>")
_HOME_PAGE = re.compile(r"^https?://[^/?#]+/?$")

DEFINING_DATES = (SCHEMA + "startDate", SCHEMA + "datePublished", SCHEMA + "foundingDate", SCHEMA + "birthDate")
"""A thing's defining event (docs/rules.md): a launch or start, a publication, a founding, a birth."""

NAMED_DATES = {"Planning": "conceivedDate", "End": SCHEMA + "endDate", "Publication": SCHEMA + "datePublished",
               "Founding": SCHEMA + "foundingDate", "Birth": SCHEMA + "birthDate", "Launch": SCHEMA + "startDate",
               "Start": SCHEMA + "startDate"}
"""An event a claim names (fg:claimEvent) that a thing states by a date of its own."""


def home_page(url: str) -> bool:
    """True for a site's home page (``https://dhm.de/``): a source, but no page about the claim."""
    return bool(_HOME_PAGE.match(url))


@dataclass(frozen=True)
class FindingView:
    """A consistency finding shown on the claim or record it concerns; IRIs in its message become links."""

    severity: str
    label: str
    message: list[Value]
    related: Value | None = None


@dataclass(frozen=True)
class DatedThing:
    """A thing in a claim's evidence with its dates, so a contradiction can be seen."""

    thing: Value
    dates: list[tuple[str, str]]


@dataclass
class ClaimView:
    """One claim with its assessment, note, evidence and findings."""

    anchor: str
    href: str | None
    text: Value | None
    source: str | None
    assessment: str
    assessment_label: str
    note: Value | None = None
    about: Value | None = None
    relation: str | None = None
    relation_object: Value | None = None
    mentions: list[Value] = field(default_factory=list)
    sources: list[Value] = field(default_factory=list)
    evidence: list[Value] = field(default_factory=list)
    dates: list[DatedThing] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)
    event: str | None = None
    """The event of the object the relation concerns, when the claim names it (fg:claimEvent), in words."""
    truncated: bool = False
    """The list's text the claim comes from is cut off (fg:sourceTruncated)."""
    no_evidence: Value | None = None
    """Why the claim has no evidence (fg:noEvidenceNote)."""
    weak_evidence: bool = False
    """Its only sources are sites' home pages: a source named, no page about the claim."""
    foresight: str | None = None
    """For a film that anticipates a real event: how long before the event the film came out."""

    @property
    def impossible(self) -> bool:
        """True when a rule found the claim impossible (an error finding)."""
        return any(f.severity == "error" for f in self.findings)


class ClaimReader:
    """Turns claims (and the rules' findings) of a page's graph into claim views."""

    def __init__(self, view: GraphView, presenter: Presenter, findings: Iterable[Finding] = ()) -> None:
        self.v = view
        self.p = presenter
        self.fg = presenter.fg
        self._findings = list(findings)

    def _local(self, iri: str | None) -> str:
        return iri[len(self.fg):] if iri and iri.startswith(self.fg) else ""

    def _one(self, subject: str, predicate: str) -> Value | None:
        found = self.p.values(subject, predicate)
        return found[0] if found else None

    def findings(self, iri: str) -> list[FindingView]:
        """The rules' findings that concern a claim or record."""
        out = []
        for f in self._findings:
            if f.concerns == iri:
                related = self.p.link(f.related) if f.related and not f.related.startswith("_:") else None
                out.append(FindingView(f.severity, f.label, self._message(f.message), related))
        return out

    def _message(self, message: str) -> list[Value]:
        """Split a finding's message into text and links for the IRIs it names (``<https://...>``)."""
        parts: list[Value] = []
        for i, piece in enumerate(_IRI_IN_TEXT.split(message)):
            if i % 2 == 0:
                if piece:
                    parts.append(Value(piece))
            elif self.p.path(piece):
                parts.append(self.p.link(piece))
            else:
                parts.append(Value(piece, None, piece, True, piece, piece))
        return parts

    def claim(self, iri: str) -> ClaimView:
        """One claim, with the dates that decide it when it is contradicted or impossible."""
        v, p, fg = self.v, self.p, self.fg
        css, badge = ASSESSMENT_WORDS.get(self._local(next(iter(v.iris(iri, fg + "assessment")), None)), ("unassessed", "Not assessed"))
        predicate = next(iter(v.iris(iri, fg + "claimPredicate")), None)
        evidence = [e for e in v.objects(iri, fg + "evidence") if isinstance(e, NamedNode)]
        local = [e.value for e in evidence if p.path(e.value) is not None]
        view = ClaimView(
            anchor=f"claim-{iri.rsplit('/', 1)[-1]}",
            href=p.path(iri),
            text=self._one(iri, fg + "claimText"),
            source=SOURCE_WORDS.get(self._local(next(iter(v.iris(iri, fg + "claimSource")), None))),
            assessment=css,
            assessment_label=badge,
            note=self._one(iri, fg + "assessmentNote"),
            about=self._one(iri, fg + "about"),
            relation=p.term_label(predicate) if predicate else None,
            relation_object=self._one(iri, fg + "claimObject"),
            mentions=p.values(iri, fg + "mentions"),
            sources=[p.value(e) for e in evidence if p.path(e.value) is None],
            evidence=[p.link(e) for e in local],
            findings=self.findings(iri),
            truncated=any(lit.value in ("true", "1") for lit in v.literals(iri, fg + "sourceTruncated")),
            no_evidence=self._one(iri, fg + "noEvidenceNote"),
            weak_evidence=bool(evidence) and all(home_page(e.value) for e in evidence if p.path(e.value) is None)
            and any(p.path(e.value) is None for e in evidence),
        )
        named = next(iter(v.iris(iri, fg + "claimEvent")), None)
        if named:
            view.event = p.term_label(named)
        if predicate == fg + "anticipates":
            view.foresight = self._foresight(iri, self._local(named))
        if css == "contradicted" or view.impossible:
            # What the claim relates the film to and the local evidence decide it; what it
            # merely mentions (a person named in passing) only when nothing else is dated.
            view.dates = self._dated(v.iris(iri, fg + "claimObject") + local) or self._dated(v.iris(iri, fg + "mentions"))
        return view

    def _foresight(self, iri: str, named: str) -> str | None:
        """'1955, six years before it happened (1961-04-12)' when the event came after the film's year."""
        v, fg = self.v, self.fg
        record = next(iter(v.iris(iri, fg + "about")), None)
        target = next(iter(v.iris(iri, fg + "claimObject")), None)
        if record is None or target is None:
            return None
        years = [int(lit.value[:4]) for lit in v.literals(record, SCHEMA + "datePublished") if lit.value[:4].isdigit()]
        props = [NAMED_DATES[named]] if named in NAMED_DATES else ([] if named else list(DEFINING_DATES))
        props = [fg + p if ":" not in p else p for p in props]
        dates = sorted(lit.value for p in props for lit in v.literals(target, p) if lit.value[:4].isdigit())
        if not years or not dates or int(dates[0][:4]) <= years[0]:
            return None
        gap = int(dates[0][:4]) - years[0]
        when = dates[0][:10] if len(dates[0]) >= 10 else dates[0]
        return f"The film ({years[0]}) showed it {gap} year{'' if gap == 1 else 's'} before it happened ({when})."

    def _dated(self, things: list[str]) -> list[DatedThing]:
        out = []
        for thing in dict.fromkeys(things):
            dates = self.p.dates(thing)
            if dates:
                out.append(DatedThing(self._event_link(thing), dates))
        return out

    def _event_link(self, iri: str) -> Value:
        link = self.p.link(iri)
        mission = self.v.iris(iri, self.fg + "eventOf")
        if mission:
            owner = self.p.link(mission[0])
            return Value(link.text, link.lang, link.href, link.external, link.title, iri, note=f"an event of {owner.text}")
        return link

    def claims(self, iri: str) -> list[ClaimView]:
        """The claims about a record (or the claim ``iri`` itself), in the list's field order, then by IRI."""
        fg = self.fg
        found = [s for s in self.v.subjects() if self.v.has_type(s, fg + "Claim") and (iri in self.v.iris(s, fg + "about") or s == iri)]
        order = {fg + n: i for i, n in enumerate(FIELD_ORDER)}
        found.sort(key=lambda s: (min((order.get(x, 9) for x in self.v.iris(s, fg + "claimSource")), default=9), s))
        return [self.claim(s) for s in found]
