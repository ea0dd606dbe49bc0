"""A web developer's first try, in Chromium: fetch a film's JSON-LD and read it as plain JSON."""

from __future__ import annotations

from playwright.sync_api import Page

READ_A_FILM = """
async () => {
  const film = await fetch('/film/sky-beckons-1959.jsonld').then(r => r.json());
  const moon = film.claims.find(c => c.id.endsWith('/claim/sky-beckons-1959-race-to-the-moon'));
  return {
    name: film.name,
    datePublished: film.datePublished,
    status: film.identificationStatus,
    identifiedAs: film.identifiedAs.name,
    claims: film.claims.length,
    assessment: moon.assessment,
    claimText: moon.claimText,
    assessments: film.claims.map(c => c.assessment),
  };
}
"""


def test_a_web_developer_reads_a_film_with_fetch_and_json(page: Page, page_errors: list[str]) -> None:
    page.goto("/")  # same origin as the live server
    film = page.evaluate(READ_A_FILM)
    assert film["name"] == "The Sky Beckons"
    assert film["datePublished"] == "1959"
    assert film["status"] == "Identified"
    assert isinstance(film["identifiedAs"], str) and film["identifiedAs"]
    assert film["claims"] >= 5
    assert film["assessment"] == "Contradicted"
    assert film["claimText"] == "the race to the Moon between the USSR and the USA"
    assert set(film["assessments"]) <= {"Supported", "Contradicted", "Unverified"}
    assert page_errors == []

