"""Memory has a ceiling (issue 13): one answer is held to max_result_bytes, the result cache counts its keys.

Over real sockets: answers of long strings built by repeated CONCAT are cut at
a whole row (or triple) and marked, in every format; one row over the limit
alone is a 422 naming the setting. ``filmgraph serve`` answers 400 rows of
1 MiB as CSV with the default limit while the memory of its process tree is
sampled. A soak of distinct long queries (``FILMGRAPH_SOAK_QUERIES``, 300 by
default; the issue's case is 10,000) keeps the result cache within its budget.
Memory figures go to ``test-artifacts/memory.json``: a report, not an assertion.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from filmgraph.sparql.query import QueryService
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..artifacts import add_figures
from ..served import build_store, filmgraph_serve, rss_by_process, tree_rss

LIMIT = 64 * 1024
SOAK = int(os.environ.get("FILMGRAPH_SOAK_QUERIES", "300"))


def long_rows(rows: int, doublings: int) -> str:
    """A SELECT of ``rows`` rows, each a string of 1 KiB doubled ``doublings`` times by CONCAT."""
    binds = " ".join(f"BIND(CONCAT(?s{k}, ?s{k}) AS ?s{k + 1})" for k in range(doublings))
    values = " ".join(str(i) for i in range(rows))
    return f'SELECT ?i ?s{doublings} WHERE {{ VALUES ?i {{ {values} }} BIND(CONCAT(STR(?i), "{"x" * 1024}") AS ?s0) {binds} }}'


def long_triples(rows: int, doublings: int) -> str:
    """A CONSTRUCT of ``rows`` triples whose objects are such strings."""
    binds = " ".join(f"BIND(CONCAT(?s{k}, ?s{k}) AS ?s{k + 1})" for k in range(doublings))
    values = " ".join(str(i) for i in range(rows))
    return (
        f'CONSTRUCT {{ ?r <http://example.org/v> ?s{doublings} }} WHERE {{ VALUES ?i {{ {values} }} '
        f'BIND(IRI(CONCAT("http://example.org/r", STR(?i))) AS ?r) BIND(CONCAT(STR(?i), "{"x" * 1024}") AS ?s0) {binds} }}'
    )


def whole(value: str, doublings: int) -> bool:
    """True when a value is a whole string of :func:`long_rows` (digits and 1 KiB of x, doubled), not a cut one."""
    seed = value[: len(value) >> doublings]
    return seed.endswith("x" * 1024) and seed[:-1024].isdigit() and value == seed * (1 << doublings)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The shipped dataset on disk, shared by the sites of this module."""
    return EmbeddedStore.build(Settings(), tmp_path_factory.mktemp("memory") / "store")


@pytest.fixture(scope="module")
def small_answers(store: EmbeddedStore, serve_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The site with answers of at most 64 KiB, on a socket."""
    settings = Settings(query_timeout=10.0, query_workers=2, result_cache_mb=0, max_result_bytes=LIMIT)
    services = Services(settings, store, QueryService(store, settings))
    yield serve_app(create_app(settings, services)).url + "/sparql"
    services.close()


def _post(url: str, query: str, accept: str) -> requests.Response:
    return requests.post(url, data={"query": query}, headers={"Accept": accept}, timeout=60)


@pytest.mark.parametrize("accept", ["text/csv", "text/tab-separated-values", "application/sparql-results+json", "application/sparql-results+xml"])
def test_a_long_select_answer_is_cut_at_a_whole_row_and_marked(small_answers: str, accept: str) -> None:
    r = _post(small_answers, long_rows(400, 3), accept)  # 400 rows of 8 KiB: 3.2 MiB
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) <= LIMIT
    assert r.headers["X-Result-Truncated"] == f"true; max_result_bytes={LIMIT}"
    if accept == "text/csv":
        rows = list(csv.reader(io.StringIO(r.text)))[1:]
        values = [row[1] for row in rows]
    elif accept == "text/tab-separated-values":
        values = [line.split("\t")[1].strip('"') for line in r.text.splitlines()[1:]]
    elif accept == "application/sparql-results+json":
        doc = r.json()
        assert doc["filmgraph"]["setting"] == "max_result_bytes" and doc["filmgraph"]["truncated"] is True
        assert doc["head"]["link"] == ["urn:filmgraph:truncated"]
        values = [b["s3"]["value"] for b in doc["results"]["bindings"]]
    else:
        ns = "{http://www.w3.org/2005/sparql-results#}"
        tree = ET.fromstring(r.content)
        assert tree.find(f"{ns}head/{ns}link").get("href") == "urn:filmgraph:truncated"  # type: ignore[union-attr]
        values = [b.findtext(f"{ns}literal") or "" for b in tree.iter(f"{ns}binding") if b.get("name") == "s3"]
    assert 1 <= len(values) < 400
    assert all(whole(v, 3) for v in values)  # whole rows only


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"])
def test_a_long_graph_answer_is_cut_at_a_whole_triple_and_marked(small_answers: str, accept: str) -> None:
    r = _post(small_answers, long_triples(400, 3), accept)
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) <= LIMIT
    assert r.headers["X-Result-Truncated"] == f"true; max_result_bytes={LIMIT}"
    fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}[accept]
    triples = list(ox.parse(r.content, format=fmt))
    assert 1 <= len(triples) < 400
    assert all(whole(t.object.value, 3) for t in triples)
    if accept in ("text/turtle", "application/n-triples"):
        assert r.text.startswith("# result truncated to ") and "max_result_bytes" in r.text.splitlines()[0]


@pytest.mark.parametrize("query", [long_rows(1, 7), long_triples(1, 7)], ids=["select", "construct"])
def test_one_row_over_the_limit_alone_is_422_naming_the_setting(small_answers: str, query: str) -> None:
    r = _post(small_answers, query, "text/csv, text/turtle;q=0.9, application/json;q=0.1")  # one row of 128 KiB
    assert r.status_code == 422, r.text[:300]
    assert "max_result_bytes" in r.text


def test_a_short_answer_is_not_marked(small_answers: str) -> None:
    r = _post(small_answers, long_rows(3, 1), "text/csv")
    assert r.status_code == 200 and "X-Result-Truncated" not in r.headers
    assert len(list(csv.reader(io.StringIO(r.text)))) == 4


# -- the production server: 400 rows of 1 MiB as CSV ---------------------------


def test_the_production_server_answers_a_gigantic_csv_within_its_byte_limit(tmp_path: Path) -> None:
    """Issue 13: this answer was 200 with 400 MiB; its query worker peaked at 1.24 GB, its web worker at 865 MB."""
    store = build_store(tmp_path)
    peaks: dict[int, int] = {}
    peak_tree = 0
    with filmgraph_serve(store, tmp_path / "serve.log", "--workers", "2", "--query-timeout", "30") as (base, server):
        url = base + "/sparql"
        assert requests.get(url, params={"query": "ASK {}"}, timeout=60).status_code == 200
        before = tree_rss(server.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.is_set():
                now = rss_by_process(server.pid)
                for pid, rss in now.items():
                    peaks[pid] = max(peaks.get(pid, 0), rss)
                peak_tree = max(peak_tree, sum(now.values()))
                done.wait(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            r = _post(url, long_rows(400, 10), "text/csv")  # 400 rows of 1 MiB
        finally:
            done.set()
            sampler.join(timeout=30)
        after = tree_rss(server.pid)

    default = Settings().max_result_bytes
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) <= default
    assert r.headers["X-Result-Truncated"] == f"true; max_result_bytes={default}"
    rows = [line.split(",", 1) for line in r.text.split("\r\n")[1:-1]]  # no quoting in these values
    assert 1 <= len(rows) < 400 and all(whole(row[1], 10) and row[1].startswith(row[0]) for row in rows)
    _report("gigantic_csv", {
        "rows_asked": 400,
        "row_bytes": 2**20,
        "max_result_bytes": default,
        "rows_answered": len(rows),
        "body_bytes": len(r.content),
        "tree_rss_before_mb": round(before / 2**20, 1),
        "tree_rss_peak_mb": round(peak_tree / 2**20, 1),
        "tree_rss_after_mb": round(after / 2**20, 1),
        "largest_process_peak_mb": round(max(peaks.values(), default=0) / 2**20, 1),
    })


# -- the soak: distinct long queries, short answers ------------------------------


def _report(name: str, figures: dict[str, object]) -> None:
    add_figures("memory.json", name, figures)


def test_distinct_long_queries_keep_the_result_cache_within_its_budget(store: EmbeddedStore, serve_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: 7,500 distinct 60 KB queries with --result-cache-mb 1 grew a web worker from 79 to 523 MiB."""
    settings = Settings(query_timeout=10.0, query_workers=2, result_cache_mb=1, query_budget=0.0)
    services = Services(settings, store, QueryService(store, settings))
    url = serve_app(create_app(settings, services)).url + "/sparql"
    cache = services.query.cache
    assert cache is not None
    me = os.getpid()
    pad = "x" * 60_000
    try:
        with requests.Session() as s:
            def ask(n: int) -> None:
                r = s.post(url, data=f"ASK {{}} # {n} {pad}".encode(), headers={"Content-Type": "application/sparql-query"}, timeout=60)
                assert r.status_code == 200 and r.json()["boolean"] is True, r.text[:300]

            for n in range(50):  # warm up: workers started, allocator settled
                ask(-1 - n)
            before = tree_rss(me)
            highest = 0
            for n in range(SOAK):
                ask(n)
                highest = max(highest, cache.size)
                assert cache.size <= cache.budget, (n, cache.size, cache.budget)
            after = tree_rss(me)
    finally:
        services.close()
    assert len(cache) <= cache.budget // 60_000
    _report("soak", {
        "queries": SOAK,
        "query_bytes": len(pad) + 12,
        "result_cache_budget_bytes": cache.budget,
        "result_cache_highest_bytes": highest,
        "result_cache_entries_at_end": len(cache),
        "tree_rss_before_mb": round(before / 2**20, 1),
        "tree_rss_after_mb": round(after / 2**20, 1),
    })
