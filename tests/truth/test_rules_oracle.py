"""The rules on claims against an independent oracle, on generated records, events and claims.

A hypothesis strategy writes film records, missions with key events of a kind,
programmes, works, organizations, people and claims relating them, with random
dates and relations, in the public vocabulary (docs/rules.md). The oracle below
is written from what the relations *mean* (docs/rules.md, "What the rules
check"), not from the SPARQL: it says which claims are impossible, and the rules
must report exactly those.

``FILMGRAPH_RULES_EXAMPLES`` sets how many graphs to try (default 300, a few
seconds; CI uses the default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmgraph.core.namespaces import RDF, ontology_ns
from filmgraph.truth.rules import run_rules
from filmgraph.core.settings import DEFAULT_BASE
from filmgraph.store.embedded import EmbeddedStore

EXAMPLES = int(os.environ.get("FILMGRAPH_RULES_EXAMPLES", "300"))

BASE = DEFAULT_BASE
FG = ontology_ns(BASE)
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"

KINDS = ("Planning", "Launch", "Start", "Arrival", "Milestone", "End", "Reentry", "Birth", "Publication", "Founding")
RULE_OF = {
    "releasedAfter": "released-after-later-event",
    "inspiredBy": "inspired-by-later-thing",
    "depicts": "depicts-later-event",
    "basedOn": "based-on-later-work",
    "madeWithCooperationOf": "cooperation-with-later-organization",
    "releasedInYearOf": "same-year-mismatch",
    "anticipates": None,  # never an error
}
CLASSES = {
    "mission": FG + "SpaceMission",
    "programme": FG + "Programme",
    "work": SCHEMA + "CreativeWork",
    "organization": SCHEMA + "Organization",
    "person": SCHEMA + "Person",
}
OWN_DATES = {  # what dates a thing of each class may carry (property -> kind of event it states)
    "mission": ("startDate", "conceivedDate", "endDate"),
    "programme": ("startDate", "conceivedDate", "endDate"),
    "work": ("datePublished",),
    "organization": ("foundingDate",),
    "person": ("birthDate",),
}


# -- the model the strategy draws, and the oracle over it -------------------------------


@dataclass(frozen=True)
class Date:
    year: int
    month: int
    day: int
    form: str  # gYear, gYearMonth, date, dateTime

    def literal(self) -> ox.Literal:
        text = {
            "gYear": f"{self.year}",
            "gYearMonth": f"{self.year}-{self.month:02d}",
            "date": f"{self.year}-{self.month:02d}-{self.day:02d}",
            "dateTime": f"{self.year}-{self.month:02d}-{self.day:02d}T12:00:00Z",
        }[self.form]
        return ox.Literal(text, datatype=ox.NamedNode(XSD + self.form))


@dataclass
class KeyEvent:
    iri: str
    date: Date
    kind: str | None


@dataclass
class Thing:
    iri: str
    cls: str
    dates: dict[str, Date]
    key_events: list[KeyEvent] = field(default_factory=list)


@dataclass
class Claim:
    iri: str
    record: int
    predicate: str
    target: str  # a thing's IRI or a key event's IRI
    event: str | None


@dataclass
class World:
    record_years: list[int]
    things: list[Thing]
    claims: list[Claim]


def events_of(world: World, target: str) -> list[tuple[str, int, bool]]:
    """(kind, year, defining) of every event of a claim's object, as docs/rules.md defines them."""
    for thing in world.things:
        if thing.iri == target:
            out = []
            for prop, date in thing.dates.items():
                if prop == "startDate":
                    out.append(("Launch" if thing.cls == "mission" else "Start", date.year, True))
                else:
                    kind = {"conceivedDate": "Planning", "endDate": "End", "datePublished": "Publication",
                            "foundingDate": "Founding", "birthDate": "Birth"}[prop]
                    out.append((kind, date.year, prop not in ("conceivedDate", "endDate")))
            out += [(e.kind, e.date.year, False) for e in thing.key_events if e.kind is not None]
            return out
        for event in thing.key_events:
            if event.iri == target:  # a key event as the object: its own date is its only event
                return [(event.kind or "Milestone", event.date.year, True)]
    raise AssertionError(target)


def impossible(world: World, claim: Claim) -> bool:
    """Whether the claim's timing is impossible, from the meaning of its relation."""
    film_year = world.record_years[claim.record]
    events = events_of(world, claim.target)
    if claim.event is not None:
        years = [y for kind, y, _ in events if kind == claim.event]
    elif claim.predicate == "inspiredBy":  # it existed, at least as a plan
        years = [y for kind, y, defining in events if defining or kind == "Planning"]
    else:
        years = [y for _, y, defining in events if defining]
    if not years or claim.predicate == "anticipates":
        return False
    if claim.predicate == "releasedInYearOf":
        return film_year not in years
    return min(years) > film_year


# -- the strategy ---------------------------------------------------------------------


dates = st.builds(Date, st.integers(1950, 1975), st.integers(1, 12), st.integers(1, 28),
                  st.sampled_from(("gYear", "gYearMonth", "date", "dateTime")))


@st.composite
def things(draw: st.DrawFn, n: int) -> Thing:
    cls = draw(st.sampled_from(sorted(CLASSES)))
    iri = f"{BASE}thing/t{n}"
    props = OWN_DATES[cls]
    dated = {p: draw(dates) for p in props if draw(st.booleans()) or p in ("startDate", "datePublished")}
    events = []
    if cls in ("mission", "programme"):
        for i in range(draw(st.integers(0, 3))):
            kind = draw(st.one_of(st.none(), st.sampled_from(KINDS)))
            events.append(KeyEvent(f"{iri}#e{i}", draw(dates), kind))
    return Thing(iri, cls, dated, events)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    years = draw(st.lists(st.integers(1950, 1975), min_size=1, max_size=3))
    made = [draw(things(i)) for i in range(draw(st.integers(1, 3)))]
    targets = [t.iri for t in made] + [e.iri for t in made for e in t.key_events]
    claims = []
    for i in range(draw(st.integers(1, 6))):
        claims.append(Claim(
            f"{BASE}claim/c{i}",
            draw(st.integers(0, len(years) - 1)),
            draw(st.sampled_from(sorted(RULE_OF))),
            draw(st.sampled_from(targets)),
            draw(st.one_of(st.none(), st.sampled_from(KINDS))),
        ))
    return World(years, made, claims)


def store_of(world: World) -> EmbeddedStore:
    """The world as RDF in the public vocabulary."""
    oxi = ox.Store()
    a = ox.NamedNode(RDF + "type")

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        oxi.add(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o))

    for i, year in enumerate(world.record_years):
        record, year_node = f"{BASE}film/r{i}", f"{BASE}year/{year}"
        add(record, a.value, ox.NamedNode(FG + "FilmRecord"))
        add(record, SCHEMA + "name", ox.Literal(f"Record {i}", language="en"))
        add(record, FG + "releaseYear", ox.NamedNode(year_node))
        add(year_node, FG + "yearNumber", ox.Literal(str(year), datatype=ox.NamedNode(XSD + "integer")))
    for thing in world.things:
        add(thing.iri, a.value, ox.NamedNode(CLASSES[thing.cls]))
        add(thing.iri, SCHEMA + "name", ox.Literal(f"Thing {thing.iri[-2:]}", language="en"))
        for prop, date in thing.dates.items():
            add(thing.iri, (FG if prop == "conceivedDate" else SCHEMA) + prop, date.literal())
        for event in thing.key_events:
            add(thing.iri, FG + "keyEvent", ox.NamedNode(event.iri))
            add(event.iri, a.value, ox.NamedNode(FG + "MissionEvent"))
            add(event.iri, FG + "eventOf", ox.NamedNode(thing.iri))
            add(event.iri, SCHEMA + "startDate", event.date.literal())
            if event.kind:
                add(event.iri, FG + "eventKind", ox.NamedNode(FG + event.kind))
    for claim in world.claims:
        add(claim.iri, a.value, ox.NamedNode(FG + "Claim"))
        add(claim.iri, FG + "about", ox.NamedNode(f"{BASE}film/r{claim.record}"))
        add(claim.iri, FG + "claimPredicate", ox.NamedNode(FG + claim.predicate))
        add(claim.iri, FG + "claimObject", ox.NamedNode(claim.target))
        if claim.event:
            add(claim.iri, FG + "claimEvent", ox.NamedNode(FG + claim.event))
    return EmbeddedStore(oxi, BASE)


RULES = sorted({r for r in RULE_OF.values() if r} | {"claim-event-undated"})


def undated(world: World, claim: Claim) -> bool:
    """Whether the claim names an event (fg:claimEvent) of which its object has no dated one."""
    return claim.event is not None and all(kind != claim.event for kind, _, _ in events_of(world, claim.target))


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_rules_report_exactly_the_claims_the_oracle_finds_impossible(world: World) -> None:
    store = store_of(world)
    try:
        report = run_rules(store, RULES)
    finally:
        store.close()
    expected = {(RULE_OF[c.predicate], c.iri) for c in world.claims if impossible(world, c)}
    expected |= {("claim-event-undated", c.iri) for c in world.claims if undated(world, c)}
    assert {(f.rule, f.concerns) for f in report.findings} == expected
    for f in report.findings:  # each finding explains itself: the claim, the event compared
        assert f.message.startswith(f"claim <{f.concerns}> says ")
        assert "Event compared: " in f.message or f.rule == "claim-event-undated"


def test_the_oracle_sees_the_cases_of_the_issue() -> None:
    """The oracle itself, on the named cases (so that it is not vacuous)."""
    station = Thing(f"{BASE}thing/t0", "mission", {"conceivedDate": Date(1966, 1, 1, "gYear"), "startDate": Date(1971, 4, 19, "date")},
                    [KeyEvent(f"{BASE}thing/t0#e0", Date(1968, 2, 1, "gYearMonth"), "Planning"),
                     KeyEvent(f"{BASE}thing/t0#e1", Date(1972, 1, 11, "date"), "Reentry")])
    world = World([1970, 1968, 1972], [station], [])

    def verdict(record: int, predicate: str, event: str | None = None) -> bool:
        return impossible(world, Claim("c", record, predicate, station.iri, event))

    assert verdict(0, "releasedAfter") and verdict(0, "releasedAfter", "Launch")
    assert not verdict(0, "inspiredBy")
    assert verdict(1, "releasedInYearOf") and verdict(2, "releasedInYearOf")
    assert not verdict(2, "releasedInYearOf", "Reentry")
    assert verdict(0, "depicts") and not verdict(0, "anticipates")
