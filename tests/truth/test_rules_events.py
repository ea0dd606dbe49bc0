"""The cases of issue 15, by name: events of a kind, depiction, duplicates from the data, rules on a publisher's list.

Each flagged case here was missed by the rules before events of a kind; each control is not flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from filmgraph.cli import main
from filmgraph.truth.duplicates import MAX_YEARS, title_key
from filmgraph.core.namespaces import ontology_ns
from filmgraph.reconcile.matching import similarity
from filmgraph.truth.rules import Report, run_rules
from filmgraph.core.settings import DEFAULT_BASE
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.store.loader import read_all

ROOT = Path(__file__).resolve().parents[2]
RULES_DATA = Path(__file__).parents[1] / "data" / "rules"
EXAMPLE = ROOT / "docs" / "examples" / "space-films.ttl"
BASE = DEFAULT_BASE


def claim(slug: str) -> str:
    return f"{BASE}claim/{slug}"


def film(slug: str) -> str:
    return f"{BASE}film/{slug}"


def flagged(report: Report) -> set[str]:
    return {f.concerns for f in report.findings}


def message(report: Report, concerns: str) -> str:
    [m] = [f.message for f in report.findings if f.concerns == concerns]
    return m


@pytest.fixture()
def events_store() -> Iterator[EmbeddedStore]:
    """tests/data/rules/events.ttl in memory."""
    oxi = ox.Store()
    graph = next(iter(read_all([RULES_DATA / "events.ttl"], BASE).values()))
    oxi.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph)
    store = EmbeddedStore(oxi, BASE)
    yield store
    store.close()


@pytest.fixture()
def shipped() -> Iterator[tuple[ox.Store, EmbeddedStore]]:
    """The ontology and data/*.ttl in memory (the raw store too, to take a triple out)."""
    oxi = ox.Store()
    for path in [ROOT / "ontology" / "filmgraph.ttl", *sorted((ROOT / "data").glob("*.ttl"))]:
        oxi.load(path=str(path), format=ox.RdfFormat.TURTLE)
    store = EmbeddedStore(oxi, BASE)
    yield oxi, store
    store.close()


# -- released after: a launch, not a plan --------------------------------------------------


def test_released_after_a_station_planned_before_but_launched_after_the_film_is_flagged(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["released-after-later-event"])
    assert claim("station-film-1970-after") in flagged(report)
    text = message(report, claim("station-film-1970-after"))
    assert "launched on 1971-04-19 (1971 > 1970)" in text
    assert "the claim names no event, so its defining event is used: its launch" in text


def test_released_after_the_launch_named_by_the_claim_is_flagged(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["released-after-later-event"])
    assert "the event the claim names, its launch" in message(report, claim("station-film-1970-after-launch"))


def test_released_after_a_key_event_named_by_its_kind_compares_that_event(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["released-after-later-event"])
    text = message(report, claim("reentry-after-film-1971-after-reentry"))
    assert f"whose re-entry (<{BASE}mission/orbital-station#reentry>) happened on 1972-01-11 (1972 > 1971)" in text


def test_released_after_the_plan_the_claim_names_compares_the_plan(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["released-after-later-event"])
    assert "first planned in 1966 (1966 > 1965)" in message(report, claim("plan-film-1965-after-planning"))


def test_released_after_a_launch_that_happened_is_fine_and_a_plan_still_inspires(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store)
    assert claim("station-film-1972-after-launch") not in flagged(report)
    assert claim("plan-inspired-film-1967-inspired") not in flagged(report)


def test_a_claim_naming_an_event_its_object_has_no_date_for_is_a_warning(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["claim-event-undated"])
    assert flagged(report) == {claim("arrival-film-1961-after-arrival")}
    finding = report.findings[0]
    assert finding.severity == "warning"
    assert "names its arrival (fg:claimEvent), but First Crewed Flight has no dated arrival" in finding.message
    assert claim("arrival-film-1961-after-arrival") not in flagged(run_rules(events_store, ["released-after-later-event"]))


# -- same year: the event the claim means ---------------------------------------------------


def test_same_year_as_a_mission_is_not_met_by_its_approval_or_its_reentry(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["same-year-mismatch"])
    assert {claim("approval-year-film-1968-year-of"), claim("reentry-year-film-1972-year-of")} <= flagged(report)
    assert "(1971, not 1968)" in message(report, claim("approval-year-film-1968-year-of"))
    assert "(1971, not 1972)" in message(report, claim("reentry-year-film-1972-year-of"))


def test_same_year_as_the_launch_or_as_the_named_reentry_is_fine(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["same-year-mismatch"])
    assert claim("launch-year-film-1971-year-of") not in flagged(report)
    assert claim("reentry-named-film-1972-year-of") not in flagged(report)


def test_entry_2_same_year_as_luna_compares_the_launch_and_holds(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    report = run_rules(shipped[1], ["same-year-mismatch"])
    assert claim("sky-beckons-1959-same-year-as-luna") not in flagged(report)


# -- depiction ---------------------------------------------------------------------------------


def test_a_1955_film_showing_the_first_crewed_flight_as_history_is_flagged(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store, ["depicts-later-event"])
    assert flagged(report) == {claim("history-film-1955-depicts")}
    finding = report.findings[0]
    assert finding.severity == "error" and finding.related == f"{BASE}mission/first-crewed-flight"
    assert "launched on 1961-04-12 (1961 > 1955)" in finding.message and "fg:anticipates" in finding.message


def test_anticipating_a_later_flight_or_depicting_it_in_its_year_is_fine(events_store: EmbeddedStore) -> None:
    report = run_rules(events_store)
    assert claim("vision-film-1955-anticipates") not in flagged(report)
    assert claim("docu-film-1961-depicts") not in flagged(report)


def test_entry_3_focusing_on_gagarins_launch_in_1960_is_flagged(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    report = run_rules(shipped[1], ["depicts-later-event"])
    text = message(report, claim("dream-come-true-1960-gagarin-launch"))
    assert "'A Dream Come True (1960)'" in text and "1961-04-12 (1961 > 1960)" in text
    assert "the event the claim names, its launch" in text


def test_entry_2_depicting_the_first_crewed_flight_in_1959_is_flagged_and_entry_4_is_not(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    report = run_rules(shipped[1], ["depicts-later-event"])
    assert claim("sky-beckons-1959-first-crewed-flight") in flagged(report)
    assert claim("first-flight-1961-dramatization") not in flagged(report)  # 1961, the year of the flight


# -- duplicates from the data -----------------------------------------------------------------


def test_the_moon_is_calling_and_the_moon_calls_are_one_film() -> None:
    assert title_key("The Moon Is Calling") == title_key("The Moon Calls")
    assert title_key("The Cosmos is Calling") == title_key("The Cosmos Calls")
    assert title_key("Небо зовёт") == title_key("Nebo zovet")


def test_entry_8_is_found_a_duplicate_of_entry_2_without_the_curated_link(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    oxi, store = shipped
    fg = ontology_ns(BASE)
    for quad in list(oxi.quads_for_pattern(None, ox.NamedNode(fg + "duplicateOf"), None)):
        oxi.remove(quad)
    report = run_rules(store, ["probable-duplicate-title"])
    assert {(f.concerns, f.related) for f in report.findings} == {(film("cosmos-is-calling-1965"), film("sky-beckons-1959"))}
    text = report.findings[0].message
    assert "'The Cosmos Calls'@en" in text and f"<{film('nebo-zovyot')}>" in text
    assert "6 years apart" in text and "no fg:duplicateOf states it" in text


def test_the_rule_and_the_curator_agree_on_the_shipped_duplicates(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    oxi, store = shipped
    fg = ontology_ns(BASE)
    curated = {(q.subject.value, q.object.value) for q in oxi.quads_for_pattern(None, ox.NamedNode(fg + "duplicateOf"), None)}
    report = run_rules(store, ["probable-duplicate-title"])
    found = {frozenset((f.concerns, f.related)) for f in report.findings}
    assert found == {frozenset(pair) for pair in curated}
    assert all("the curated data agrees" in f.message for f in report.findings)


def test_no_false_pair_among_the_real_films(shipped: tuple[ox.Store, EmbeddedStore]) -> None:
    """Every title of every real film against every title of every other one within the rule's years: none is a pair."""
    oxi, _ = shipped
    rows = oxi.query(
        "PREFIX fg: <https://w3id.org/filmgraph/ontology#> PREFIX schema: <https://schema.org/> "
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?f ?t ?y WHERE { ?f a fg:Film ; schema:name|fg:originalTitle|skos:altLabel ?t ; fg:releaseYear/fg:yearNumber ?y }"
    )
    titles = [(r["f"].value, title_key(r["t"].value), int(r["y"].value)) for r in rows]  # type: ignore[index]
    assert len({f for f, _, _ in titles}) >= 10
    pairs = {
        (a, b) for a, ka, ya in titles for b, kb, yb in titles
        if a < b and abs(ya - yb) <= MAX_YEARS and similarity(ka, kb) >= 0.9
    }
    assert pairs == set()


def test_a_remake_decades_later_is_not_a_duplicate() -> None:
    oxi = ox.Store()
    graph = next(iter(read_all([RULES_DATA / "duplicate-titles.ttl"], BASE).values()))
    oxi.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph)
    store = EmbeddedStore(oxi, BASE)
    try:
        report = run_rules(store, ["probable-duplicate-title"])
    finally:
        store.close()
    assert film("red-star-1990") not in {n for f in report.findings for n in (f.concerns, f.related)}


# -- a publisher's own list -----------------------------------------------------------------


def test_check_runs_on_a_publishers_own_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--data", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "[released-after-later-event] claim <https://example.org/films/station-dreams-1970-after-launch>" in out
    assert "[depicts-later-event] claim <https://example.org/films/gagarins-morning-1960-depicts>" in out
    assert "[probable-duplicate-title] records <https://example.org/films/moon-calls-1961>" in out
    assert "tomorrows-orbit" not in out and "red-planet-summer" not in out
    assert out.rstrip().endswith("2 errors, 1 warning from 11 rules")


def test_each_finding_names_the_claim_the_dates_compared_the_event_and_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--data", str(EXAMPLE)]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "station-dreams" in x]
    assert line.startswith("  [released-after-later-event] claim <https://example.org/films/station-dreams-1970-after-launch>")
    assert "'Station Dreams (1970)' was released after Salyut 1" in line
    assert "1971-04-19 (1971 > 1970)" in line and "Event compared: the event the claim names, its launch" in line
