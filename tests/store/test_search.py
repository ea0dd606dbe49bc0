"""The site index: listings page by page, search in any script, reconciliation at scale, and an index that matches its store."""

from __future__ import annotations

import collections
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmgraph.store import index_build
from filmgraph.site import search
from filmgraph.core.errors import InvalidData
from filmgraph.store.index import INDEX_FILE, SiteIndex
from filmgraph.store.index_keys import sort_key
from filmgraph.reconcile.scaled import ScaledLabelIndex
from filmgraph.reconcile.service import ReconcileService
from filmgraph.truth.rules import run_rules
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import MARKER, EmbeddedStore
from filmgraph.web import create_app

from ..htmltree import parse
from ..oxigraph_server import OxigraphServer, oxigraph_server  # noqa: F401  (fixture)

BASE = "https://w3id.org/filmgraph/"
FG = BASE + "ontology#"
BENCH = Path(__file__).resolve().parents[2] / "bench"
NAMES = "<https://schema.org/name>|<http://www.w3.org/2004/02/skos/core#altLabel>|<" + FG + "originalTitle>"


def _films(services: Services) -> set[str]:
    rows = services.store.select(f"SELECT DISTINCT ?f WHERE {{ VALUES ?t {{ <{FG}FilmRecord> <{FG}Film> }} ?f a ?t }}")
    return {r["f"].value for r in rows if r["f"].value.startswith(BASE + "film/")}  # type: ignore[union-attr]


def _pages(client, path: str) -> Iterator[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every page of a JSON listing, following rel=next."""
    while path:
        resp = client.get(path, headers={"Accept": "application/json"})
        assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:300])
        page = json.loads(resp.get_data())
        link = resp.headers.get("Link", "")
        if page["next"]:
            assert f'<{page["next"]}>; rel="next"' in link
        else:
            assert 'rel="next"' not in link
        yield page
        path = page["next"]


def _assert_sorted(items: list[dict[str, object]]) -> None:
    keys = [(sort_key(str(i["label"])) or sort_key(str(i["id"]).split("/", 1)[1]), str(i["iri"])) for i in items]
    assert keys == sorted(keys)


# -- the shipped data -----------------------------------------------------------------------


def test_every_film_appears_exactly_once_across_pages_in_label_order(services: Services) -> None:
    seen: list[search.Item] = []
    after = None
    while True:
        page = search.list_page(services.index, BASE, "film", after, size=4)
        assert len(page.items) <= 4 and page.total == len(_films(services))
        seen += page.items
        if page.next_after is None:
            break
        after = page.next_after
    assert [i.iri for i in seen] == list(dict.fromkeys(i.iri for i in seen))
    assert {i.iri for i in seen} == _films(services)
    keys = [(sort_key(i.label) if i.label else "", i.iri) for i in seen]
    assert keys == sorted(keys)


def test_the_film_list_over_http_has_every_film_once_with_its_types(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    items = [i for page in _pages(client, "/film/?format=json") for i in page["items"]]  # type: ignore[attr-defined]
    assert {i["iri"] for i in items} == _films(services) and len(items) == len(_films(services))
    _assert_sorted(items)
    by_id = {i["id"]: i for i in items}
    assert by_id["film/silent-star-1960"]["types"] == ["fg:FilmRecord"]
    assert by_id["film/nebo-zovyot"]["types"] == ["fg:Film"] and by_id["film/nebo-zovyot"]["href"] == "/film/nebo-zovyot"


def test_a_type_filter_lists_only_that_type(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    items = [i for page in _pages(client, "/film/?type=fg:FilmRecord&format=json") for i in page["items"]]  # type: ignore[attr-defined]
    assert len(items) == 10 and all(i["types"] == ["fg:FilmRecord"] for i in items)


def test_a_year_filter_lists_the_films_of_that_year(client) -> None:  # type: ignore[no-untyped-def]
    items = [i for page in _pages(client, "/film/?year=1961") for i in page["items"]]  # type: ignore[attr-defined]
    assert {i["id"] for i in items} >= {"film/first-flight-1961"} and all(i["year"] == 1961 for i in items)


def test_the_year_page_lists_its_films(client) -> None:  # type: ignore[no-untyped-def]
    page = parse(client.get("/year/1961.html").get_data(as_text=True))
    hrefs = {a.attrs["href"] for a in page.find(id="films-of-year").find_all("a")}
    assert "/film/first-flight-1961" in hrefs


@pytest.mark.parametrize("path", ["/film/?after=no-such-film", "/film/?after=Bad%20Id", "/film/?year=soon", "/film/?type=fg:Claim", "/search?q=x&kind=planet"])
def test_bad_paging_and_filter_parameters_are_400_saying_which(client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(path, headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert any(word in resp.get_json()["message"] for word in ("after", "year", "type", "kind"))


@pytest.mark.parametrize("text", ["nebo zovyot", "небо", "Небо зовёт", "NEBO ZOVET", "Kosmos wzywa", "der himmel ruft", "the sky calls"])
def test_search_finds_the_sky_calls_by_any_title_in_any_script(client, text: str) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/search", query_string={"q": text, "format": "json"}).get_json()
    ids = [i["id"] for i in found["items"]]
    assert ids[:2] == ["film/nebo-zovyot", "film/sky-beckons-1959"] or ids[:2] == ["film/sky-beckons-1959", "film/nebo-zovyot"]


def test_search_finds_every_film_by_each_of_its_titles(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    rows = services.store.select(f"SELECT ?f ?t WHERE {{ ?f {NAMES} ?t }}")
    titles = [(r["f"].value, r["t"].value) for r in rows if r["f"].value in _films(services)]  # type: ignore[union-attr]
    assert len(titles) > 30
    for iri, title in titles:
        found = client.get("/search", query_string={"q": title, "kind": "film", "format": "json"}).get_json()
        assert iri in [i["iri"] for i in found["items"]], (title, found)
        assert found["items"][0]["iri"] in {iri for iri, t in titles if sort_key(t) == sort_key(title)} | {i["iri"] for i in found["items"] if i.get("matched", {}).get("label") == title}


def test_search_shows_which_title_it_matched_and_keeps_to_a_kind(client) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/search?q=Небо+зовёт&format=json").get_json()
    assert found["items"][0]["matched"] == {"label": "Небо зовёт", "lang": "ru"}
    missions = client.get("/search?q=luna&kind=mission&format=json").get_json()
    assert missions["items"] and all(i["id"].startswith("mission/") for i in missions["items"])


def test_search_page_is_a_search_landmark_linked_from_every_page(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/film/", "/film/silent-star-1960.html"):
        forms = parse(client.get(path).get_data(as_text=True)).find_all("form")
        assert any(f.attrs.get("role") == "search" and f.attrs.get("action") == "/search" for f in forms), path
    page = parse(client.get("/search?q=luna").get_data(as_text=True))
    assert "/mission/luna-2" in {a.attrs["href"] for a in page.find(id="results").find_all("a")}
    assert client.get("/search").status_code == 200


def test_the_rules_findings_kept_at_build_are_the_rules_findings(services: Services) -> None:
    kept = services.index.report()
    assert kept is not None and kept.findings == run_rules(services.store).findings


def test_the_index_is_read_only(services: Services) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        services.index.connection().execute("DELETE FROM resource")


def test_a_forked_process_opens_its_own_connection(services: Services) -> None:
    before = services.index.count("kind:film")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, str(search.list_page(services.index, BASE, "film").total).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert int(os.read(read, 100)) == before
    os.close(read)


# -- consistency with the store -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two pre-built stores of the shipped data (each with its own build id)."""
    root = tmp_path_factory.mktemp("stores")
    settings = Settings(validate=False, index_rules=False)
    for name in ("a", "b"):
        EmbeddedStore.build(settings, root / name)
    return root / "a", root / "b"


def test_a_store_opens_with_its_own_index(two_stores: tuple[Path, Path]) -> None:
    store = EmbeddedStore.open(two_stores[0])
    meta = json.loads((two_stores[0] / MARKER).read_text())
    assert store.index is not None and store.index.build_id == meta["build_id"] and store.index.triples == meta["triples"] == len(store)


def test_an_index_of_another_build_is_refused_naming_both_files(two_stores: tuple[Path, Path]) -> None:
    a, b = two_stores
    build_a = json.loads((a / MARKER).read_text())["build_id"]
    with pytest.raises(InvalidData) as caught:
        SiteIndex.open(b / INDEX_FILE, build_a, a / MARKER)
    assert str(b / INDEX_FILE) in caught.value.message and str(a / MARKER) in caught.value.message
    assert build_a in caught.value.message


def test_a_store_with_a_swapped_index_does_not_open(two_stores: tuple[Path, Path], tmp_path: Path) -> None:
    stale = tmp_path / "stale"
    shutil.copytree(two_stores[0], stale)
    shutil.copy(two_stores[1] / INDEX_FILE, stale / INDEX_FILE)
    with pytest.raises(InvalidData) as caught:
        EmbeddedStore.open(stale)
    assert str(stale / INDEX_FILE) in caught.value.message


def test_a_store_built_before_the_index_gets_a_temporary_one(two_stores: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old"
    shutil.copytree(two_stores[0], old)
    (old / INDEX_FILE).unlink()
    marker = json.loads((old / MARKER).read_text())
    marker = {k: v for k, v in marker.items() if k not in ("build_id", "index", "checksums")}  # what an older build wrote
    (old / MARKER).write_text(json.dumps(marker))
    svc = Services.build(Settings(store_path=str(old)))
    try:
        assert "no site index" in capsys.readouterr().err
        assert svc.index.temporary and svc.index.count("kind:film") == 21
    finally:
        svc.close()


class _Capped:
    """A store reached only by query text that answers at most 7 rows unless asked for ordered pages."""

    def __init__(self, store: EmbeddedStore) -> None:
        self._store = store
        self.base_iri = store.base_iri

    def select(self, query: str, bindings=None):  # type: ignore[no-untyped-def]
        rows = self._store.select(query, bindings)
        return rows if "COUNT(" in query or "OFFSET" in query else rows[:7]

    def __len__(self) -> int:
        return len(self._store)


def _dump(index: SiteIndex) -> list[object]:
    """What an index holds, by IRI (row ids follow the order the store answered in)."""
    return [index.execute(sql) for sql in (
        "SELECT iri, kind, label, lang, sort_key, year, date, position, status FROM resource ORDER BY iri",
        "SELECT type, sort_key, iri FROM member ORDER BY 1, 2, 3",
        "SELECT name, n FROM count WHERE name NOT LIKE 'finding:%' ORDER BY 1",  # the rules ran for one of them
        "SELECT type, date, iri FROM dated ORDER BY 1, 2, 3",
        "SELECT parent, iri FROM hash_child ORDER BY 1, 2",
        "SELECT i.scheme, i.value, r.iri FROM identifier i JOIN resource r ON r.id = i.resource ORDER BY 1, 2, 3",
        "SELECT r.iri, l.text, l.lang, l.source, l.plain, l.loose FROM label l JOIN resource r ON r.id = l.resource ORDER BY 1, 2, 3, 4",
    )]


def test_an_index_read_from_a_store_that_caps_its_answers_is_whole(services: Services) -> None:
    capped = SiteIndex.build_temporary(_Capped(services.store), len(services.store))  # type: ignore[arg-type]
    assert _dump(capped) == _dump(services.index)


def test_a_file_that_is_no_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InvalidData, match="not a filmgraph site index"):
        SiteIndex.open(tmp_path / "x.sqlite")


# -- a generated graph of 2,000 films --------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A pre-built store of bench/generate.py's graph with 2,000 films, its rules' findings in its index."""
    sys.path.insert(0, str(BENCH))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH))
    root = tmp_path_factory.mktemp("generated")
    data = root / "films.nt"
    with data.open("w", encoding="utf-8") as out:
        generate(2000, out)
    settings = Settings(validate=False, data=(data,), query_workers=0)
    EmbeddedStore.build(settings, root / "store")
    svc = Services.build(settings.replace(store_path=str(root / "store")))
    yield svc
    svc.close()


def test_a_large_film_list_pages_through_every_film_once(generated: Services) -> None:
    client = create_app(generated.settings, generated).test_client()
    pages = list(_pages(client, "/film/"))
    items = [i for page in pages for i in page["items"]]  # type: ignore[attr-defined]
    assert len(pages) == 60 and all(len(p["items"]) == 50 for p in pages)  # type: ignore[arg-type]
    assert len(items) == 3000 and {i["iri"] for i in items} == _films(generated)
    _assert_sorted(items)
    records = [i for page in _pages(client, "/film/?type=fg:FilmRecord") for i in page["items"]]  # type: ignore[attr-defined]
    assert len(records) == 2000 == len({i["iri"] for i in records})


def test_a_year_of_a_large_graph_lists_exactly_its_films(generated: Services) -> None:
    client = create_app(generated.settings, generated).test_client()
    rows = generated.store.select(f"SELECT ?f WHERE {{ ?f <{FG}releaseYear> <{BASE}year/1960> }}")
    items = [i for page in _pages(client, "/film/?year=1960") for i in page["items"]]  # type: ignore[attr-defined]
    assert sorted(i["iri"] for i in items) == sorted(r["f"].value for r in rows)  # type: ignore[union-attr]


def test_a_large_graph_is_searched_by_its_russian_titles(generated: Services) -> None:
    found = search.search(generated.index, BASE, "Фильм 1232")  # r1232 is identified as f1232, so it has that title too
    assert sorted(i.id for i in found.items[:2]) == ["f1232", "r1232"]
    assert found.items[0].matched == "Фильм 1232"
    assert search.search(generated.index, BASE, "Film").more


def test_the_home_page_of_a_large_graph_counts_from_the_index(generated: Services) -> None:
    client = create_app(generated.settings, generated).test_client()
    page = parse(client.get("/").get_data(as_text=True))
    statuses = {e.attrs["data-status"]: int(e.text()) for e in page.find_all(where=lambda e: "data-status" in e.attrs)}
    assert statuses == {"identified": 500, "title-match-only": 500, "probable-duplicate": 500, "no-match": 500}
    assert len(page.find(id="films").find("tbody").find_all("tr")) == 20


def test_reconciliation_of_a_large_graph_proposes_from_the_index(generated: Services) -> None:
    recon = ReconcileService(generated.store, lambda: generated.index, full_max=0)
    result = recon.reconcile_v02({"q": {"query": "Фильм 1234", "type": "real-film"}})["q"]["result"]
    assert result[0]["id"] == "film/f1234" and result[0]["match"] is True
    suggested = recon.suggest_entities("film/r123")["result"]
    assert suggested and all(s["id"].startswith("film/r123") for s in suggested)


def test_reconciliation_candidates_are_not_ranked_by_words_too_common_to_tell_apart(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 10^6 generated films, "film" is in 1.5 million labels: ranking them all took a second a query."""
    assert search.candidates(services.index, "zzzz star", kind="film")  # "star" alone finds films when it is rare enough
    monkeypatch.setattr(index_build, "COMMON_WORD", 3)
    small = SiteIndex.build_temporary(services.store, len(services.store))
    try:
        assert "star" in small.common_words and "beckons" not in small.common_words
        assert search.candidates(small, "zzzz star", kind="film") == []
        assert BASE + "film/nebo-zovyot" in search.candidates(small, "zzzz star beckons", kind="film")
    finally:
        small.close()


def test_a_graph_of_thousands_of_films_is_reconciled_through_the_site_index(generated: Services) -> None:
    """Reading every entity into memory took 4.3 s per process at 10^4 films, and scoring them all 14 ms a query."""
    recon = ReconcileService(generated.store, lambda: generated.index)
    assert isinstance(recon.index, ScaledLabelIndex)


# -- reconciliation through the index gives the full index's answers -------------------------

SAME = ["The Sky Beckons", "Nebo zovyot", "Небо зовёт", "Nebo zovet", "Kosmos wzywa", "sky beckons", "The Cosmos is Calling", "The Red Planet",
        "The Star of the East", "The First Flight", "The Space Voyage (1936)", "A Dream Come True", "Luna 2", "Stanislaw Lem", "Astronauci",
        "Yuri Gagarin", "film/aelita", "Sky Beckon", "Gagarin", "Luna", "The Star", "Kosmos", "The Silent Star"]


@pytest.mark.parametrize("type_id", [None, "film", "film-record", "real-film", "mission", "person", "work"])
def test_reconciling_through_the_site_index_answers_as_the_full_index(services: Services, type_id: str | None) -> None:
    full = ReconcileService(services.store, lambda: services.index)
    scaled = ReconcileService(services.store, lambda: services.index, full_max=0)
    assert type(full.index).__name__ == "LabelIndex" and type(scaled.index).__name__ == "ScaledLabelIndex"
    batch = {f"q{n}": {"query": q, **({"type": type_id} if type_id else {})} for n, q in enumerate(SAME)}
    assert scaled.reconcile_v02(batch) == full.reconcile_v02(batch)
    for prefix in ("Небо", "film/cosmos", "Lu", ""):
        assert scaled.suggest_entities(prefix, type_id=type_id)["result"] == full.suggest_entities(prefix, type_id=type_id)["result"]


# -- a remote store is indexed at startup --------------------------------------------------------


def test_a_remote_store_is_indexed_at_startup_and_lists_and_finds_the_same(client, settings: Settings, oxigraph_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from filmgraph.cli import main

    server: OxigraphServer = oxigraph_server()
    assert main(["load", "--into", server.query_url]) == 0
    remote = Services.build(settings.replace(store_url=server.query_url))
    try:
        assert remote.index.temporary and remote.index.counts("kind:") == client.application.extensions["filmgraph"].index.counts("kind:")
        remote_client = create_app(remote.settings, remote).test_client()
        for path in ("/film/?format=json", "/film/?type=fg:Film&format=json", "/search?q=небо&format=json", "/search?q=luna&kind=mission&format=json"):
            assert remote_client.get(path).get_json() == client.get(path).get_json(), path
    finally:
        remote.close()


def test_the_dataset_description_of_a_large_graph_lists_a_bounded_sample_of_findings(generated: Services) -> None:
    """Thousands of findings: each rule lists at most FINDINGS_LISTED and states how many it made."""
    import pyoxigraph as ox

    from filmgraph.site.void import FINDINGS_LISTED

    report = generated.index.report()
    assert report is not None
    made = collections.Counter(f.rule for f in report.findings)
    assert max(made.values()) > FINDINGS_LISTED  # the case this is about
    client = create_app(generated.settings, generated).test_client()
    turtle = client.get("/dataset.ttl")
    assert turtle.status_code == 200
    g = ox.Store()
    g.load(turtle.data, ox.RdfFormat.TURTLE)
    fg = FG
    listed = collections.Counter(
        row["rule"].value.rsplit("/", 1)[-1]  # type: ignore[index]
        for row in g.query(f"SELECT ?rule WHERE {{ ?r <{fg}finding> ?f . ?f <{fg}rule> ?rule }}")
    )
    assert listed == {rule: min(n, FINDINGS_LISTED) for rule, n in made.items()}
    counted = {row["rule"].value.rsplit("/", 1)[-1]: int(row["n"].value)  # type: ignore[index]
               for row in g.query(f"SELECT ?rule ?n WHERE {{ ?rule <{fg}findingCount> ?n }}")}
    assert counted == {r.name: made.get(r.name, 0) for r in report.rules}
    html = client.get("/dataset.html")
    assert html.status_code == 200 and len(html.data) < 2_000_000
    assert f"{sum(listed.values())} of {len(report.findings)}" in html.get_data(as_text=True)


def test_a_sampled_report_counts_and_finds_every_finding(generated: Services) -> None:
    """Pages read a sample of each rule's findings, the counts of all, and ask for the findings about a resource."""
    from filmgraph.site.void import FINDINGS_LISTED

    whole, sample = generated.index.report(), generated.index.report(FINDINGS_LISTED)
    assert whole is not None and sample is not None
    assert len(sample.findings) < len(whole.findings) == sample.total
    assert (sample.error_count, sample.warning_count) == (len(whole.errors), len(whole.warnings))
    assert sample.findings == whole.listed(FINDINGS_LISTED)
    assert {r.name: sample.made(r.name) for r in whole.rules} == {r.name: whole.made(r.name) for r in whole.rules}
    late = whole.findings[-1]  # not in the sample of its rule
    assert late not in sample.findings
    for iris in ([late.concerns], [late.concerns, late.related or ""], [f.concerns for f in whole.findings[::97]]):
        assert sample.about(iris) == whole.about(iris)
    client = create_app(generated.settings, generated).test_client()
    home = client.get("/").get_data(as_text=True)
    assert f"{len(whole.errors):,}" in home or str(len(whole.errors)) in home
    # The page of what the last finding concerns (its claim's record shows it too) lists it, from the index.
    page = client.get("/" + late.concerns[len(BASE):] + ".html")
    assert page.status_code == 200
    shown = page.get_data(as_text=True).count(f'<li class="finding {late.severity}">')
    assert shown == sum(1 for f in whole.findings if f.concerns == late.concerns and f.severity == late.severity) > 0
