"""Fair shares of query time over real sockets (issue 13): one client's runaways use its share, not the site.

Each client is its own loopback source address (127.0.0.2, 127.0.0.3; the
server sees it as REMOTE_ADDR). The site runs with its query workers and a short
time limit; the runaway is the cartesian product of tests/sparql/test_runaway.py.
Latencies are written to ``test-artifacts/fair_share.json``: a report, not an
assertion.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from filmgraph.sparql.query import QueryService
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..artifacts import add_figures
from ..served import build_store, filmgraph_serve

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }} # {}"
A, B, C = "127.0.0.2", "127.0.0.3", "127.0.0.1"
LIMIT = 2.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    seconds: float
    started: float = 0.0

    @property
    def ended(self) -> float:
        return self.started + self.seconds


def query(url: str, source: str, text: str, accept: str = "application/sparql-results+json") -> Answer:
    """One query by POST from a client bound to ``source``, on its own connection."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    started = time.monotonic()
    try:
        conn.request("POST", "/sparql", body=urllib.parse.urlencode({"query": text}), headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        r = conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, body, time.monotonic() - started, started)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The shipped dataset on disk, shared by the sites of this module."""
    return EmbeddedStore.build(Settings(), tmp_path_factory.mktemp("fair") / "store")


@pytest.fixture()
def site(store: EmbeddedStore, serve_app) -> Iterator[Callable[..., tuple[str, Services]]]:  # type: ignore[no-untyped-def]
    """Factory: the site on a socket with these settings (query workers, no result cache unless asked)."""
    made: list[Services] = []

    def _site(**changes: object) -> tuple[str, Services]:
        settings = Settings(**{"query_timeout": LIMIT, "query_workers": 2, "result_cache_mb": 0, **changes})
        services = Services(settings, store, QueryService(store, settings))
        made.append(services)
        return serve_app(create_app(settings, services)).url, services

    yield _site
    for s in made:
        s.close()


def _report(name: str, figures: dict[str, object]) -> None:
    """Add figures to ``test-artifacts/fair_share.json`` under a name."""
    add_figures("fair_share.json", name, figures, title=f"fair shares, {name}")


def _until(test: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def test_a_client_running_eight_runaways_uses_its_share_while_others_get_their_answers(site) -> None:  # type: ignore[no-untyped-def]
    url, services = site()
    assert query(url, B, "ASK {}").status == 200  # the query workers are up
    runaways: list[Answer] = []
    stop = threading.Event()

    def runaway_client(n: int) -> None:  # one of client A's eight connections, sending runaways one after the other
        for i in range(1000):
            if stop.is_set():
                return
            answer = query(url, A, RUNAWAY.format(f"{n}.{i}"))
            runaways.append(answer)
            if "query_queue" in answer.text:
                stop.wait(0.2)  # told to come back: a moment, not the whole Retry-After, to keep the pressure on

    threads = [threading.Thread(target=runaway_client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    _until(lambda: services.query.admission.running >= 1)
    time.sleep(0.3)  # all eight sent: one runs, the rest wait their turn

    seen: dict[str, list[Answer]] = {B: [], C: []}

    def client(source: str, n: int) -> None:
        for i in range(n):  # uncached: each text is new; spread over more than one time limit of runaways
            seen[source].append(query(url, source, f"ASK {{ ?s ?p ?o }} # {source} {i}"))
            stop.wait(3 * LIMIT / n)

    # How many query workers are idle, sampled while B and C query: A's share leaves one free (or busy a moment
    # with B's or C's query, or being replaced after a kill); without shares A's runaways hold both.
    pool = services.query._workers()
    idle: list[int] = []
    others = [threading.Thread(target=client, args=(B, 20)), threading.Thread(target=client, args=(C, 10))]
    for t in others:
        t.start()
    while any(t.is_alive() for t in others) and len(idle) < 100_000:
        idle.append(len(pool.pids()))
        time.sleep(0.01)
    for t in others:
        t.join(timeout=120)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in others + threads)

    assert [a.status for a in seen[B]] == [200] * 20, [(a.status, a.text[:200]) for a in seen[B] if a.status != 200]
    assert [a.status for a in seen[C]] == [200] * 10, [(a.status, a.text[:200]) for a in seen[C] if a.status != 200]
    assert len(runaways) >= 8 and {a.status for a in runaways} <= {503, 429}, [(a.status, a.text[:200]) for a in runaways]
    assert any("query_timeout" in a.text for a in runaways)
    all_busy = sum(n == 0 for n in idle) / max(1, len(idle))
    assert all_busy < 0.5, f"every query worker was busy in {all_busy:.0%} of {len(idle)} samples: client A held them all"
    assert all(a.headers.get("retry-after", "").isdigit() for a in runaways)

    report = {
        "limit_s": LIMIT,
        "query_workers": 2,
        "client_a_runaways": len(runaways),
        "samples_with_every_worker_busy": round(all_busy, 3),
        "client_a_stopped_at_limit": sum("stopped at the time limit" in a.text for a in runaways),
        "client_a_waited_past_the_limit": sum("became free" in a.text for a in runaways),
        "client_a_queue_full": sum("query_queue" in a.text for a in runaways),
        "client_b_ask": {"n": len(seen[B]), "p50_ms": _ms([a.seconds for a in seen[B]], 0.5), "p99_ms": _ms([a.seconds for a in seen[B]], 0.99), "max_ms": _ms([a.seconds for a in seen[B]], 1.0)},
        "client_c_ask": {"n": len(seen[C]), "p50_ms": _ms([a.seconds for a in seen[C]], 0.5), "p99_ms": _ms([a.seconds for a in seen[C]], 0.99)},
    }
    _report("werkzeug", report)


def test_a_client_past_its_budget_gets_429_with_retry_after_and_cached_answers_still(site) -> None:  # type: ignore[no-untyped-def]
    url, _ = site(query_timeout=1.5, query_budget=2.0, query_budget_window=60.0, result_cache_mb=8)
    assert query(url, A, "ASK {}").status == 200  # now in the result cache
    for n in range(2):  # 1.5 s each: 3 s of a 2 s budget
        stopped = query(url, A, RUNAWAY.format(n))
        assert stopped.status == 503 and "query_timeout" in stopped.text, stopped.text
    refused = query(url, A, "ASK { ?s ?p ?o }", accept="application/json")
    assert refused.status == 429, refused.text
    wait = refused.headers.get("retry-after", "")
    assert wait.isdigit() and 1 <= int(wait) <= 60, refused.headers
    body = json.loads(refused.text)
    assert body["status"] == 429 and body["limit"] == "query_budget" and body["retry_after"] == int(wait)
    assert query(url, A, "ASK {}").status == 200  # a cached answer costs no budget
    assert query(url, B, "ASK { ?s ?p ?o }").status == 200  # another client has its own


def test_a_full_queue_is_503_with_retry_after_at_once(site) -> None:  # type: ignore[no-untyped-def]
    url, services = site(query_workers=1, query_queue=1, query_budget=0.0)
    admission = services.query.admission
    assert query(url, C, "ASK {}").status == 200
    held: list[Answer] = []
    running = threading.Thread(target=lambda: held.append(query(url, A, RUNAWAY.format("running"))))
    running.start()
    _until(lambda: admission.running == 1)
    waiting = threading.Thread(target=lambda: held.append(query(url, B, RUNAWAY.format("waiting"))))
    waiting.start()
    _until(lambda: admission.waiting == 1)
    full = query(url, C, "ASK { ?s ?p ?o }")
    answered_meanwhile = len(held)  # 0: the refusal came while both others were still running and waiting
    running.join(timeout=60)
    waiting.join(timeout=60)
    assert full.status == 503, full.text
    assert full.headers.get("retry-after", "").isdigit(), full.headers
    assert "query_queue" in full.text
    assert answered_meanwhile == 0  # at once: not after a wait for a worker
    assert query(url, C, "ASK { ?s ?p ?o }").status == 200  # and afterwards the site answers


def test_filmgraph_serve_answers_another_client_while_one_sends_eight_runaways_at_once(tmp_path: Path) -> None:
    """Issue 13's case on the production server (2 web workers, 2 query workers each): 4 runaways at once made an
    uncached ASK from anyone wait 9.7 s median, and some got 503. Here client A keeps eight runaways going."""
    store = build_store(tmp_path)
    limit = 3.0
    with filmgraph_serve(store, tmp_path / "serve.log", "--workers", "2", "--query-workers", "2", "--query-timeout", str(limit)) as (base, _):
        assert query(base, B, "ASK {}").status == 200
        stop = threading.Event()
        runaways: list[Answer] = []

        def runaway_client(n: int) -> None:
            for i in range(1000):
                if stop.is_set():
                    return
                answer = query(base, A, RUNAWAY.format(f"serve {n}.{i}"))
                runaways.append(answer)
                if "query_queue" in answer.text:
                    stop.wait(0.2)

        threads = [threading.Thread(target=runaway_client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        stop.wait(1.0)  # the runaways are in: each web worker runs one of A's, the rest wait or are refused
        asks: list[Answer] = []
        for i in range(30):  # spread over three time limits
            asks.append(query(base, B, f"ASK {{ ?s ?p ?o }} # serve {i}"))
            stop.wait(3 * limit / 30)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    seconds = [a.seconds for a in asks]
    # Did B's ASK have to wait for one of A's runaways to end (to be stopped at the limit, freeing its worker)?
    # Without fair shares nearly every one does; with them an ASK takes milliseconds and a runaway ends every
    # second or so, so few overlap one by chance.
    stopped = [a.ended for a in runaways if "stopped at the time limit" in a.text]
    waited_for_runaway = sum(any(a.started < end < a.ended for end in stopped) for a in asks) / len(asks)
    _report("filmgraph_serve", {
        "server": "filmgraph serve --workers 2 --query-workers 2",
        "limit_s": limit,
        "client_a_runaways_sent": len(runaways),
        "client_a_stopped_at_limit": sum("stopped at the time limit" in a.text for a in runaways),
        "client_b_ask": {"n": len(asks), "p50_ms": _ms(seconds, 0.5), "p99_ms": _ms(seconds, 0.99), "max_ms": _ms(seconds, 1.0)},
        "client_b_statuses": sorted({a.status for a in asks}),
        "client_b_asks_that_waited_for_a_runaway_to_end": round(waited_for_runaway, 3),
    })
    assert [a.status for a in asks] == [200] * 30, [(a.status, a.text[:200]) for a in asks if a.status != 200]
    assert runaways and {a.status for a in runaways} <= {503, 429}
    assert waited_for_runaway < 0.5, f"{waited_for_runaway:.0%} of client B's queries waited until one of A's runaways was stopped"


def _get(url: str, source: str, path: str, headers: dict[str, str] | None = None) -> Answer:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    started = time.monotonic()
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace"), time.monotonic() - started, started)
    finally:
        conn.close()


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget_and_pages_cost_none(site) -> None:  # type: ignore[no-untyped-def]
    """A budget of a microsecond: one uncached query spends it. The proxy is 127.0.0.4; 127.0.0.2 is not trusted."""
    url, _ = site(query_budget=1e-6, query_budget_window=60.0, trusted_proxies=("127.0.0.4",))
    proxy = "127.0.0.4"

    def ask(source: str, n: int, forwarded_for: str | None = None) -> Answer:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return _get(url, source, "/sparql?" + urllib.parse.urlencode({"query": f"ASK {{ ?s ?p ?o }} # {source} {forwarded_for} {n}"}), headers)

    assert ask(proxy, 1, "198.51.100.7").status == 200
    spent = ask(proxy, 2, "198.51.100.7")
    assert spent.status == 429 and spent.headers["retry-after"].isdigit(), spent.text
    assert ask(proxy, 3, "198.51.100.8").status == 200  # another client behind the same proxy
    assert ask(proxy, 4, "203.0.113.1, 198.51.100.8").status == 429  # what the client wrote on the left is not believed
    assert ask(A, 5, "198.51.100.9").status == 200  # not a proxy: its header is ignored, it is 127.0.0.2
    assert ask(A, 6, "198.51.100.10").status == 429
    page = _get(url, A, "/film/", {"Accept": "text/html"})
    assert page.status == 200  # the site's own pages are not client queries: no budget
