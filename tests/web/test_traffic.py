"""A bounded load test of the production server: mixed traffic, no good request fails, memory stays flat.

``filmgraph build`` makes a store and ``filmgraph serve`` (gunicorn) serves it
on a free loopback port, as in production. Twelve clients (each from its own loopback address) then send a
fixed number of requests, drawn with a fixed seed: SPARQL queries (SELECT, ASK,
CONSTRUCT, DESCRIBE; GET, POST form, POST direct), resource pages in every
format (the 303 and then the document), the dumps, reconciliation batches, and
about a fifth of bad requests (malformed queries, unknown formats, unknown ids,
oversized bodies, SERVICE and update attempts, broken JSON). Every good request
gets its 2xx/3xx, every bad one its 4xx; nothing reaches the loopback listener
that the SERVICE attempts name. p50 and p99 are printed and written to
``test-artifacts/load.json`` with the memory (RSS) of the server's process tree
after warm-up and at the end, which must stay within a generous bound: a leak
check, not a timing.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyoxigraph as ox
import pytest
import requests

from filmgraph.site.examples import list_examples
from filmgraph.core.settings import DEFAULT_BASE, Settings

from ..loopback import Loopback, free_port, port_is_open, session_from

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TOTAL = int(os.environ.get("FILMGRAPH_LOAD_REQUESTS", "3000"))
WARMUP = 300
CLIENTS = 12
MAX_BODY = 100_000
SEED = 7
FG = DEFAULT_BASE + "ontology#"


@dataclass(frozen=True)
class Call:
    """One request of the mix and the statuses it must get."""

    kind: str
    method: str
    path: str
    expect: frozenset[int]
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    body: bytes | None = None
    follow: bool = False  # a 303 whose Location is fetched next (and must be 200)

    @property
    def bad(self) -> bool:
        return all(400 <= s < 500 for s in self.expect)


def _ids() -> dict[str, list[str]]:
    """Resource ids by kind, read from the shipped data files."""
    out: dict[str, set[str]] = {}
    for path in Settings().data:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            s = quad.subject
            if isinstance(s, ox.NamedNode) and s.value.startswith(DEFAULT_BASE):
                kind, _, rest = s.value[len(DEFAULT_BASE):].partition("/")
                if rest and "/" not in rest and "#" not in rest and kind in ("film", "mission", "theme", "year", "person", "work", "claim"):
                    out.setdefault(kind, set()).add(rest)
    return {k: sorted(v) for k, v in out.items()}


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _mix(n: int, listener: str, seed: int) -> list[Call]:
    """n calls drawn with a fixed seed: about 80% good, 20% bad."""
    rnd = random.Random(seed)
    ids = _ids()
    examples = [ex.sparql(DEFAULT_BASE) for ex in list_examples()]
    ok, see_other = frozenset({200}), frozenset({303})
    films = ids["film"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def good() -> Call:
        kind = rnd.choices(["select", "ask", "construct", "describe", "page", "document", "dump", "reconcile", "home"], [18, 8, 8, 5, 20, 12, 5, 12, 4])[0]
        if kind == "select":
            q = rnd.choice(examples + [f"SELECT ?s ?n WHERE {{ ?s <https://schema.org/name> ?n }} LIMIT {rnd.randint(1, 50)}"])
            how = rnd.choice(["get", "form", "direct"])
            accept = {"Accept": rnd.choice(["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"])}
            if how == "get":
                return Call("select", "GET", f"/sparql?query={_q(q)}", ok, accept)
            if how == "form":
                return Call("select", "POST", "/sparql", ok, {**accept, **form}, ("query=" + _q(q)).encode())
            return Call("select", "POST", "/sparql", ok, {**accept, "Content-Type": "application/sparql-query"}, q.encode())
        if kind == "ask":
            q = f"ASK {{ <{DEFAULT_BASE}film/{rnd.choice(films)}> a <{FG}FilmRecord> }}"
            return Call("ask", "GET", f"/sparql?query={_q(q)}", ok)
        if kind == "construct":
            q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} LIMIT {rnd.randint(1, 300)}"
            return Call("construct", "POST", "/sparql", ok, {"Accept": rnd.choice(["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]), **form}, ("query=" + _q(q)).encode())
        if kind == "describe":
            q = f"DESCRIBE <{DEFAULT_BASE}film/{rnd.choice(films)}>"
            return Call("describe", "GET", f"/sparql?query={_q(q)}", ok, {"Accept": "text/turtle"})
        if kind == "page":
            k = rnd.choice(list(ids))
            accept = rnd.choice(["text/html", "text/turtle", "application/ld+json", "application/n-triples"])
            return Call("page", "GET", f"/{k}/{rnd.choice(ids[k])}", see_other, {"Accept": accept}, follow=True)
        if kind == "document":
            k = rnd.choice(list(ids))
            return Call("document", "GET", f"/{k}/{rnd.choice(ids[k])}.{rnd.choice(['html', 'ttl', 'jsonld', 'nt'])}", ok)
        if kind == "dump":
            return Call("dump", "GET", rnd.choice(["/dumps/filmgraph.ttl", "/dumps/filmgraph.nt.gz", "/dumps/"]), ok)
        if kind == "reconcile":
            names = ["Aelita", "The Silent Star", "Nebo zovyot", "Planeta Bur", "Luna 2", "Space Voyage", "First Flight to the Stars"]
            batch = {f"q{i}": {"query": rnd.choice(names), "limit": 3} for i in range(rnd.randint(1, 10))}
            return Call("reconcile", "POST", "/reconcile", ok, form, ("queries=" + _q(json.dumps(batch))).encode())
        return Call("home", "GET", rnd.choice(["/", "/sparql", "/film/", "/ontology", "/dataset.html", "/healthz"]), ok, {"Accept": "text/html"})

    def bad() -> Call:
        kind = rnd.choice(["malformed", "format", "accept", "missing", "extension", "oversized", "service", "update", "json", "method"])
        if kind == "malformed":
            return Call(kind, "GET", f"/sparql?query={_q(rnd.choice(['SELEKT * {}', 'SELECT * WHERE { ?s ?p }', 'ASK {', '']))}x", frozenset({400}))
        if kind == "format":
            return Call(kind, "GET", f"/sparql?query={_q('ASK {}')}&format=nope", frozenset({406}))
        if kind == "accept":
            return Call(kind, "GET", f"/sparql?query={_q('SELECT * {}')}", frozenset({406}), {"Accept": "image/png"})
        if kind == "missing":
            return Call(kind, "GET", f"/film/no-such-film-{rnd.randint(0, 10**6)}", frozenset({404}), {"Accept": rnd.choice(["text/html", "text/turtle"])})
        if kind == "extension":
            return Call(kind, "GET", f"/film/{rnd.choice(films)}.exe", frozenset({404}))
        if kind == "oversized":
            # A keep-alive client: the 413 says Connection: close (the body is left unread), so the session reconnects.
            return Call(kind, "POST", "/sparql", frozenset({413}), {"Content-Type": "application/sparql-query"}, b"ASK {} #" + b"x" * (MAX_BODY + 1000))
        if kind == "service":
            q = f"SELECT * WHERE {{ SERVICE <{listener}/sparql> {{ ?s ?p ?o }} }}"
            return Call(kind, "GET", f"/sparql?query={_q(q)}", frozenset({403}))
        if kind == "update":
            return Call(kind, "POST", "/sparql", frozenset({403}), {"Content-Type": "application/sparql-update"}, b"DELETE WHERE { ?s ?p ?o }")
        if kind == "json":
            return Call(kind, "POST", "/reconcile", frozenset({400}), form, b"queries=%7B%22q0%22%3A")
        return Call(kind, "DELETE", "/sparql", frozenset({405}))

    return [bad() if rnd.random() < 0.2 else good() for _ in range(n)]


@dataclass
class Outcome:
    call: Call
    status: int
    seconds: float
    error: str = ""


class Server:
    """``filmgraph serve`` on a free loopback port over a store built by ``filmgraph build``; stopped by ``stop()``."""

    def __init__(self, store: Path, port: int, log: Path, extra: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        args = [sys.executable, "-m", "filmgraph.cli", "serve", "--store-path", str(store), "--port", str(port),
                "--max-body", str(MAX_BODY), "--workers", "2", "--threads", "8", "--query-timeout", "10", *extra]
        self._log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while not port_is_open(port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"filmgraph serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        """The end of the server's output (for failure messages)."""
        self._log.flush()
        return self._log_path.read_text(errors="replace")[-3000:]

    def tree(self) -> list[psutil.Process]:
        """The server's processes: gunicorn's master, its workers, their query workers and forkservers."""
        try:
            master = psutil.Process(self.process.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident memory of the whole process tree, bytes."""
        total = 0
        for p in self.tree():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        """SIGTERM to gunicorn (graceful), then make sure every process of the tree is gone."""
        tree = self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        _, alive = psutil.wait_procs(tree, timeout=10)
        for p in alive:  # only processes this server started
            p.kill()
        self._log.close()


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made by ``filmgraph build``, shared by the servers of this module."""
    store = tmp_path_factory.mktemp("built") / "store"
    built = subprocess.run([sys.executable, "-m", "filmgraph.cli", "build", str(store)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    return store


@pytest.fixture(scope="module")
def production(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The production server (gunicorn) over a pre-built store."""
    work = tmp_path_factory.mktemp("load")
    server = Server(built_store, free_port(), work / "serve.log")
    yield server
    server.stop()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in server.tree())


def _send(session: requests.Session, base: str, call: Call) -> Outcome:
    started = time.monotonic()
    try:
        r = session.request(call.method, base + call.path, headers=call.headers, data=call.body, allow_redirects=False, timeout=60)
        r.content  # read it all (dumps included)
        status = r.status_code
        if call.follow and status == 303:
            r = session.get(base + r.headers["Location"], headers=call.headers, allow_redirects=False, timeout=60)
            r.content
            if r.status_code != 200:
                return Outcome(call, r.status_code, time.monotonic() - started, f"document {r.headers.get('Location')}: {r.status_code}")
        return Outcome(call, status, time.monotonic() - started, "" if status in call.expect else r.text[:300])
    except requests.RequestException as exc:
        return Outcome(call, 0, time.monotonic() - started, repr(exc))


def _run(base: str, calls: list[Call]) -> list[Outcome]:
    """Send the calls from CLIENTS threads, each its own connection pool and loopback address; return every outcome.

    Each thread is another user to the server: its fair shares of query time are per client address, and one
    address sending twelve queries at once would be one client over its share of the query workers.
    """
    queue = list(reversed(calls))
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def client(n: int) -> None:
        with session_from(f"127.0.0.{10 + n}") as session:
            while True:
                with lock:
                    if not queue:
                        return
                    call = queue.pop()
                got = _send(session, base, call)
                with lock:
                    outcomes.append(got)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def test_mixed_traffic_gets_every_good_request_answered_and_memory_stays_flat(production: Server) -> None:
    listener = Loopback()
    try:
        warmup = _run(production.url, _mix(WARMUP, listener.url, SEED + 1))
        assert all(o.status in o.call.expect for o in warmup), ([o for o in warmup if o.status not in o.call.expect][:3], production.log_tail())
        rss_start = production.rss()
        calls = _mix(TOTAL, listener.url, SEED)
        started = time.monotonic()
        outcomes = _run(production.url, calls)
        elapsed = time.monotonic() - started
        rss_end = production.rss()
    finally:
        listener.close()

    assert len(outcomes) == TOTAL
    good = [o for o in outcomes if not o.call.bad]
    bad = [o for o in outcomes if o.call.bad]
    failed_good = [o for o in good if o.status not in o.call.expect or o.error]
    wrong_bad = [o for o in bad if o.status not in o.call.expect]
    latencies = [o.seconds for o in outcomes]
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({o.call.kind for o in outcomes}):
        mine = [o.seconds for o in outcomes if o.call.kind == kind]
        by_kind[kind] = {"n": len(mine), "p50_ms": _ms(mine, 0.5), "p99_ms": _ms(mine, 0.99)}
    report = {
        "requests": TOTAL,
        "warmup_requests": WARMUP,
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(TOTAL / elapsed, 1),
        "good_requests": len(good),
        "bad_requests": len(bad),
        "good_failed": len(failed_good),
        "bad_answered_wrongly": len(wrong_bad),
        "p50_ms": _ms(latencies, 0.5),
        "p99_ms": _ms(latencies, 0.99),
        "max_ms": round(max(latencies) * 1000, 1),
        "by_kind": by_kind,
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "server_processes": len(production.tree()),
        "outbound_hits": len(listener.hits),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\nload test:", json.dumps(report, indent=2))

    assert failed_good == [], ([(o.call.method, o.call.path[:120], o.status, o.error[:200]) for o in failed_good[:5]], production.log_tail())
    assert wrong_bad == [], [(o.call.kind, o.call.path[:120], o.status, o.error[:200]) for o in wrong_bad[:5]]
    assert len(bad) > TOTAL // 10
    assert listener.hits == []
    # A leak check, not a timing: the tree's memory after the run is within a generous bound of the warmed-up one.
    assert rss_end < 1.5 * rss_start + 50 * 2**20, (rss_start, rss_end)


CRASH = re.compile(r"\bSIG[A-Z]+\b|terminate called|Traceback|core dumped|Segmentation fault|Worker \(pid:\d+\) was sent")


def test_sigterm_stops_every_process_cleanly(built_store: Path, tmp_path: Path) -> None:
    """SIGTERM after real work (query workers forked, index and dumps read): exit 0, no process left, no crash logged.

    The store is RocksDB: torn down during interpreter exit, or across a fork, it used to abort
    ("terminate called after throwing std::system_error") or segfault a worker.
    """
    server = Server(built_store, free_port(), tmp_path / "serve.log")
    try:
        with requests.Session() as s:
            for _ in range(6):  # over both web workers and their query workers
                assert s.get(server.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, timeout=60).status_code == 200
            assert s.get(server.url + "/search", params={"q": "sky"}, timeout=60).status_code == 200
            assert s.get(server.url + "/dumps/filmgraph.nt", timeout=60).status_code == 200
        tree = server.tree()
        assert len(tree) >= 4, [p.name() for p in tree]  # master, 2 web workers, their query workers
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log_tail()
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Shutting down" in log, log[-3000:]
    assert not CRASH.search(log), log[-3000:]


def test_an_oversized_body_is_refused_and_the_client_told_to_reconnect(production: Server) -> None:
    """413 with ``Connection: close`` (gunicorn will not read the body), and the client's next request works."""
    with requests.Session() as s:
        for _ in range(3):  # the session reuses its connection unless told otherwise
            r = s.post(production.url + "/sparql", data=b"ASK {} #" + b"x" * (MAX_BODY * 3), headers={"Content-Type": "application/sparql-query"}, timeout=60)
            assert r.status_code == 413, r.text
            assert r.headers.get("Connection", "").lower() == "close", dict(r.headers)
            assert "max_body" in r.text
            ok = s.get(production.url + "/sparql", params={"query": "ASK {}"}, timeout=60)
            assert ok.status_code == 200 and ok.headers.get("Connection", "").lower() != "close"
