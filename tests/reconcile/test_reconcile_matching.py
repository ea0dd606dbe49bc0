"""Matching a person can trust: titles in every language, years, types, and ``match`` only when obvious."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from filmgraph.reconcile.matching import loose_key, plain_key, split_year
from filmgraph.reconcile.service import ReconcileService
from filmgraph.site.services import Services


@pytest.fixture(scope="module")
def recon(services: Services) -> Iterator[ReconcileService]:
    """The reconciliation service over the shipped dataset (no web layer)."""
    yield ReconcileService(services.store)


def _ask(recon: ReconcileService, query: str, **fields: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = recon.reconcile_v02({"q": {"query": query, **fields}})["q"]["result"]
    return result


def _features(candidate: dict[str, Any]) -> dict[str, Any]:
    return {f["id"]: f["value"] for f in candidate["features"]}


# -- normalisation --------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Небо зовёт", "Nebo zovyot"),
    ("Небо зовёт", "Nebo zovet"),
    ("Nebo zovyot", "NEBO ZOVYOT!"),
    ("Туманность Андромеды", "Tumannost' Andromedy"),
    ("Космический рейс", "Kosmicheskiy reys"),
    ("Kosmicheskij rejs", "Kosmicheskii reis"),
    ("Укрощение огня", "Ukroshcheniye ognya"),
    ("Первый рейс к звёздам", "Pervyy reys k zvyozdam"),
    ("Milcząca Gwiazda", "Milczaca gwiazda"),
    ("Stanisław Lem", "Stanislaw Lem"),
    ("Евгений Шерстобитов", "Yevgeny Sherstobitov"),
    ("The Sky Beckons", "sky beckons"),
])
def test_titles_in_other_scripts_and_spellings_meet(a: str, b: str) -> None:
    assert loose_key(a) == loose_key(b)


@pytest.mark.parametrize("a, b", [("Luna 1", "Luna 2"), ("The Star", "The Silent Star"), ("Aelita", "Alita")])
def test_different_titles_stay_apart(a: str, b: str) -> None:
    assert loose_key(a) != loose_key(b)


def test_the_plain_key_transliterates_and_drops_punctuation() -> None:
    assert plain_key("Небо зовёт!") == "nebo zovyot"
    assert plain_key("Planeta bur'") == "planeta bur"


def test_a_trailing_year_is_read_as_the_year() -> None:
    assert split_year("The Sky Beckons (1959)") == ("The Sky Beckons", 1959)
    assert split_year("2001") == ("2001", None)


# -- the same record first ----------------------------------------------------------

@pytest.mark.parametrize("title", ["The Sky Beckons", "Nebo zovyot", "Небо зовёт", "Nebo zovet", "Kosmos wzywa", "sky beckons"])
@pytest.mark.parametrize("type_id", [None, "film"])
def test_every_title_of_the_sky_beckons_finds_the_same_record_first(recon: ReconcileService, title: str, type_id: str | None) -> None:
    fields = {"type": type_id} if type_id else {}
    result = _ask(recon, title, **fields)
    assert [c["id"] for c in result[:2]] == ["film/sky-beckons-1959", "film/nebo-zovyot"]
    assert result[0]["score"] == result[1]["score"]


def test_the_record_carries_how_it_matched(recon: ReconcileService) -> None:
    record = _ask(recon, "Небо зовёт")[0]
    f = _features(record)
    assert f["name_exact"] is True and f["via_identified_film"] is True and f["identified"] is True and f["list_record"] is True
    assert "identified as the film The Sky Calls" in record["description"]


def test_the_cosmos_is_calling_finds_its_own_record_as_a_probable_duplicate(recon: ReconcileService) -> None:
    first = _ask(recon, "The Cosmos is Calling", type="film")[0]
    assert first["id"] == "film/cosmos-is-calling-1965"
    f = _features(first)
    assert f["probable_duplicate"] is True
    assert f["identified"] is False and f["no_match_found"] is False
    assert "probable duplicate of The Sky Beckons (1959)" in first["description"]


def test_records_that_match_no_film_are_still_matchable(recon: ReconcileService) -> None:
    for title, record in [("The Red Planet", "film/red-planet-1964"), ("The Star of the East", "film/star-of-the-east-1966"), ("The First Flight", "film/first-flight-1961")]:
        first = _ask(recon, title)[0]
        assert first["id"] == record
        assert _features(first)["no_match_found"] is True
        assert first["type"] == [{"id": "film-record", "name": "Film record of the list"}]


# -- year ---------------------------------------------------------------------

@pytest.mark.parametrize("pid", ["year", "P577"])
def test_a_year_that_agrees_raises_the_score_and_one_that_does_not_lowers_it(recon: ReconcileService, pid: str) -> None:
    plain = _ask(recon, "The Space Voyage")
    scores = {c["id"]: c["score"] for c in plain}
    with_1936 = {c["id"]: c for c in _ask(recon, "The Space Voyage", properties=[{"pid": pid, "v": 1936}])}
    with_1963 = {c["id"]: c for c in _ask(recon, "The Space Voyage", properties=[{"pid": pid, "v": "1963"}])}
    film, record = "film/kosmicheskiy-reys", "film/space-voyage-1963"
    assert with_1936[film]["score"] > scores[film] > with_1963[film]["score"]
    assert with_1963[record]["score"] > scores[record] > with_1936[record]["score"]
    assert _features(with_1936[film])["year_agrees"] is True and _features(with_1936[record])["year_difference"] == 27


def test_the_year_decides_between_a_record_and_its_film(recon: ReconcileService) -> None:
    assert _ask(recon, "The Space Voyage", properties=[{"pid": "year", "v": 1936}])[0]["id"] == "film/kosmicheskiy-reys"
    assert _ask(recon, "The Space Voyage", properties=[{"pid": "year", "v": 1963}])[0]["id"] == "film/space-voyage-1963"
    assert _ask(recon, "The Space Voyage (1936)")[0]["id"] == "film/kosmicheskiy-reys"


def test_an_imdb_id_finds_its_film(recon: ReconcileService) -> None:
    out = recon.reconcile_v02({"q": {"properties": [{"pid": "P345", "v": "tt0056352"}]}})["q"]["result"]
    assert out[0]["id"] == "film/planeta-bur" and _features(out[0])["imdb_match"] is True


# -- types --------------------------------------------------------------------

@pytest.mark.parametrize("type_id, query, expected", [
    ("film-record", "The Sky Beckons", ["film/sky-beckons-1959"]),
    ("real-film", "The Sky Beckons", ["film/nebo-zovyot"]),
    ("fg:Film", "The Sky Beckons", ["film/nebo-zovyot"]),
    ("mission", "Luna 2", ["mission/luna-2"]),
    ("person", "Stanislaw Lem", ["person/stanislaw-lem"]),
    ("work", "The Astronauts", ["work/astronauci"]),
    ("work", "Astronauci", ["work/astronauci"]),
])
def test_a_type_keeps_other_kinds_out(recon: ReconcileService, type_id: str, query: str, expected: list[str]) -> None:
    result = _ask(recon, query, type=type_id)
    assert [c["id"] for c in result[: len(expected)]] == expected
    wanted = {"fg:Film": "real-film"}.get(type_id, type_id)
    assert all(wanted in {t["id"] for t in c["type"]} for c in result)


def test_the_film_type_covers_records_and_real_films(recon: ReconcileService) -> None:
    kinds = {t["id"] for c in _ask(recon, "A Dream Come True", type="film") for t in c["type"]}
    assert kinds == {"film-record", "real-film"}


# -- match --------------------------------------------------------------------

@pytest.mark.parametrize("query, fields, expected", [
    ("The Red Planet", {}, "film/red-planet-1964"),
    ("The Cosmos is Calling", {}, "film/cosmos-is-calling-1965"),
    ("The Sky Beckons", {"type": "real-film"}, "film/nebo-zovyot"),
    ("The Sky Beckons", {"type": "film-record", "properties": [{"pid": "year", "v": 1959}]}, "film/sky-beckons-1959"),
    ("Mechte navstrechu", {"properties": [{"pid": "year", "v": 1963}]}, "film/mechte-navstrechu"),
    ("Yuri Gagarin", {"type": "person"}, "person/yuri-gagarin"),
    ("film/aelita", {}, "film/aelita"),
])
def test_match_where_a_person_would_agree_without_looking(recon: ReconcileService, query: str, fields: dict[str, Any], expected: str) -> None:
    result = _ask(recon, query, **fields)
    assert result[0]["id"] == expected and result[0]["match"] is True
    assert not any(c["match"] for c in result[1:])


@pytest.mark.parametrize("query, fields, why", [
    ("The Sky Beckons", {}, "the record and its real film tie"),
    ("The Sky Beckons", {"type": "film-record", "properties": [{"pid": "year", "v": 1965}]}, "the year disagrees"),
    ("Sky Beckon", {"type": "film-record"}, "not an exact title"),
    ("Gagarin", {}, "not an exact name"),
    ("Luna", {"type": "mission"}, "several missions"),
    ("Mechte navstrechu", {"type": "film-record"}, "only the real film's title, with a year and plot that differ"),
])
def test_no_match_where_a_person_would_look(recon: ReconcileService, query: str, fields: dict[str, Any], why: str) -> None:
    assert not any(c["match"] for c in _ask(recon, query, **fields)), why


def test_scores_are_sorted_and_standardized(recon: ReconcileService) -> None:
    for query in ("The Star", "Luna", "Kosmos", "A"):
        scores = [c["score"] for c in _ask(recon, query, limit=50)]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)


# -- suggest, extension -----------------------------------------------------------

def test_suggest_finds_entities_by_a_prefix_in_any_script(recon: ReconcileService) -> None:
    ids = [r["id"] for r in recon.suggest_entities("Небо")["result"]]
    assert set(ids[:2]) == {"film/nebo-zovyot", "film/sky-beckons-1959"}
    assert [r["id"] for r in recon.suggest_entities("film/cosmos")["result"]][0] == "film/cosmos-is-calling-1965"
    assert len(recon.suggest_entities("", limit=100)["result"]) > 40


# -- speed ----------------------------------------------------------------------

def test_a_batch_of_100_queries_over_http(live_server, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    titles = ["The Sky Beckons", "Nebo zovyot", "Небо зовёт", "Kosmos wzywa", "The Cosmos is Calling", "Luna 2", "Yuri Gagarin", "Planeta bur'", "Aelita", "The Silent Star"]
    queries = {f"q{i}": {"query": titles[i % 10] + ("" if i < 10 else f" {i}"), "type": "film" if i % 2 else None} for i in range(100)}
    queries = {k: {f: v for f, v in q.items() if v is not None} for k, q in queries.items()}
    body = {"queries": json.dumps(queries, ensure_ascii=False)}
    requests.post(f"{live_server.url}/reconcile", data=body, timeout=60)  # the index is built on first use
    started = time.perf_counter()
    resp = requests.post(f"{live_server.url}/reconcile", data=body, timeout=60)
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200 and len(resp.json()) == 100
    with capsys.disabled():
        print(f"\n[reconcile] a batch of 100 queries answered over HTTP in {elapsed * 1000:.0f} ms")


def test_another_base_iri_changes_the_identifier_space_not_the_ids(settings) -> None:  # type: ignore[no-untyped-def]
    from filmgraph.reconcile.service import Urls
    from filmgraph.store.embedded import EmbeddedStore

    store = EmbeddedStore.build(settings.replace(base_iri="http://example.org/films/", validate=False))
    other = ReconcileService(store)
    first = _ask(other, "Небо зовёт", type="fg:FilmRecord")[0]
    assert first["id"] == "film/sky-beckons-1959" and _features(first)["identified"] is True
    manifest = other.manifest_v02(Urls("http://site", "http://site/reconcile", "http://site/reconcile/v1"))
    assert manifest["identifierSpace"] == "http://example.org/films/"
    assert manifest["schemaSpace"] == "http://example.org/films/ontology#"
