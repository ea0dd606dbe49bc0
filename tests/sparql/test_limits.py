"""The query time limit really stops the work, and other requests are served meanwhile."""

from __future__ import annotations

import threading
import time

import psutil
import requests

from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
QUICK = "ASK { ?s a <https://w3id.org/filmgraph/ontology#FilmRecord> }"


def test_slow_query_is_503_near_the_limit_while_others_are_served(serve_app, tmp_path) -> None:
    settings = Settings(query_timeout=2.0, query_workers=2)
    services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "store"))
    server = serve_app(create_app(settings, services))
    url = server.url + "/sparql"
    requests.get(url, params={"query": QUICK}, timeout=30)  # start the workers
    pool = services.query._workers()
    workers_before = set(pool.pids())

    outcome: dict[str, object] = {}

    def slow() -> None:
        started = time.monotonic()
        r = requests.get(url, params={"query": SLOW}, timeout=60)
        outcome["status"], outcome["text"], outcome["elapsed"] = r.status_code, r.text, time.monotonic() - started

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    quick_answers = []
    while t.is_alive():
        r = requests.get(url, params={"query": QUICK}, timeout=30)
        quick_answers.append(r.status_code)
        time.sleep(0.1)
    t.join()

    assert outcome["status"] == 503
    assert "time limit" in str(outcome["text"]) and "query_timeout" in str(outcome["text"])
    # Near the limit: not before it, and not long after.
    assert 2.0 <= float(outcome["elapsed"]) < 2.0 + 3.0  # type: ignore[arg-type]
    assert quick_answers and set(quick_answers) == {200}
    # The worker that ran the slow query was killed (its CPU work stopped) and replaced.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(pool.pids()) < 2:
        time.sleep(0.1)
    assert pool.killed == 1
    killed = workers_before - set(pool.pids())
    assert len(killed) == 1
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in killed)
    # The server is fine afterwards.
    assert requests.get(url, params={"query": QUICK}, timeout=30).json()["boolean"] is True
    services.close()
