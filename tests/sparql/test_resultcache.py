"""The result cache: same request, same bytes, without reaching the store; bounded in bytes."""

from __future__ import annotations

import requests

from filmgraph import formats as F
from filmgraph.sparql.execute import Job
from filmgraph.sparql.resultcache import ResultCache, entry_size
from filmgraph.sparql.results import Rendered
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app


def rendered(size: int) -> Rendered:
    return Rendered(b"x" * size, F.SPARQL_JSON, False, 1)


def test_cache_returns_what_was_put_and_counts_hits() -> None:
    cache = ResultCache(100_000)
    assert cache.get("a") is None
    cache.put("a", rendered(10))
    assert cache.get("a") == rendered(10)
    assert (cache.hits, cache.misses) == (1, 1)


def test_cache_drops_the_least_recently_used_past_its_budget() -> None:
    cache = ResultCache(16 * entry_size(0, rendered(100)))  # room for 16 entries of 100 bytes
    for key in range(16):
        cache.put(key, rendered(100))
    cache.get(0)  # 0 is now the most recently used
    cache.put(99, rendered(100))
    assert cache.get(1) is None
    assert cache.get(0) is not None and cache.get(99) is not None


def test_cache_refuses_entries_over_a_sixteenth_of_its_budget() -> None:
    cache = ResultCache(16 * entry_size("big", rendered(100)))
    cache.put("big", rendered(101))
    assert cache.get("big") is None


def test_cache_counts_keys_so_long_queries_with_short_answers_keep_to_the_budget() -> None:
    """Issue 13: 7,500 distinct 60 KB queries with 100-byte answers grew a 1 MiB cache to 440 MiB."""
    budget = 2**20
    cache = ResultCache(budget)
    for n in range(200):
        job = Job(f"ASK {{}} # {n} " + "x" * 60_000, "sparql-json", 10_000, "https://w3id.org/filmgraph/")
        cache.put(job, rendered(100))
        assert cache.size <= budget
    assert 0 < len(cache) <= budget // 60_000  # a 60 KB key costs 60 KB


def test_repeated_query_is_answered_from_the_cache_with_the_same_bytes(serve_app, tmp_path) -> None:
    settings = Settings(result_cache_mb=8)
    services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "s"))
    server = serve_app(create_app(settings, services))
    query = "SELECT ?f WHERE { ?f a <https://w3id.org/filmgraph/ontology#FilmRecord> } ORDER BY ?f"
    url = server.url + "/sparql"
    first = requests.get(url, params={"query": query}, timeout=30)
    second = requests.get(url, params={"query": query}, timeout=30)
    as_csv = requests.get(url, params={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
    assert first.content == second.content
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    cache = services.query.cache
    assert cache is not None and cache.hits == 1 and cache.misses == 2
    services.close()


def test_remote_stores_are_never_cached() -> None:
    from filmgraph.sparql.query import QueryService

    service = QueryService(object(), Settings(store_url="http://127.0.0.1:9/sparql", result_cache_mb=8))  # type: ignore[arg-type]
    assert service.cache is None
