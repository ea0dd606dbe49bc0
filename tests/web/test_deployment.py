"""The tested deployment: two ``filmgraph serve --store-url`` processes behind HAProxy, one store, all on loopback.

The remote store's site index is built once (``filmgraph build DIR --store-url``)
and both processes open it. HAProxy (Debian's ``haproxy``; ``scripts/setup --test``
installs it) checks ``/healthz``, retries safe requests (all of filmgraph's) on another
process when one fails to answer (``retry-on`` transport failures, ``option redispatch``; no
retry of unsafe methods), as docs/deploy.md describes. 3,000 mixed requests go
through it while one filmgraph process is killed (SIGKILL, its whole process
group) and started again: every response is the one a single process gives for
that request (no good request lost, bad ones still their 4xx). Afterwards each
``/dumps/*`` file has the same bytes and ETag from both processes.

Every process is started by the test and stopped by its pid (a filmgraph
process by its own process group). ``FILMGRAPH_DEPLOY_REQUESTS`` changes the
number of requests (default 3,000).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ..oxigraph_server import OxigraphServer, oxigraph, oxigraph_server  # noqa: F401  (fixtures)

REQUESTS = int(os.environ.get("FILMGRAPH_DEPLOY_REQUESTS", "3000"))
CLIENTS = 8
START_SECONDS = 120.0
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

HAPROXY_CFG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    retries 3
    option redispatch 1
    # Retry where the request did not get an answer (refused, reset, closed empty): never on an answer the
    # site gave (a 503 for a query over its time limit is the answer).
    retry-on conn-failure empty-response junk-response response-timeout
    # A request is retried from HAProxy's buffer: its body must be there whole before it goes to a server.
    option http-buffer-request

frontend site
    bind 127.0.0.1:{port}
    default_backend filmgraph

backend filmgraph
    balance roundrobin
    # Only safe requests are retried: GET and HEAD, SPARQL queries by POST (filmgraph refuses updates) and
    # reconciliation queries (read-only). filmgraph has no unsafe route; this keeps it so if one is added.
    http-request disable-l7-retry unless METH_GET || METH_HEAD || {{ path /sparql }} || {{ path_beg /reconcile }}
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2
    server a 127.0.0.1:{port_a} check
    server b 127.0.0.1:{port_b} check
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {START_SECONDS:g} s: {log.read_text()[-3000:]}")
        time.sleep(0.1)


class Site:
    """One ``filmgraph serve`` process (a group of its own: Granian's workers die with it)."""

    def __init__(self, name: str, store_url: str, index: Path, workdir: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.command = [str(Path(sys.executable).parent / "filmgraph"), "serve", "--store-url", store_url, "--store-path", str(index),
                        "--port", str(self.port), "--workers", "1", "--threads", "8"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        _wait(self.url + "/healthz", self.proc, self.log)

    def kill(self) -> None:
        """SIGKILL to the process group it leads (its own pid): no drain, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Deployment:
    front: str
    sites: list[Site]


@pytest.fixture(scope="module")
def deployment(oxigraph: OxigraphServer) -> Iterator[Deployment]:
    """The index built once, two sites opening it, HAProxy in front; all stopped by their pids."""
    if not Path(HAPROXY).is_file():
        pytest.skip("haproxy is not installed (scripts/setup --test installs Debian's haproxy)")
    from filmgraph.cli import main

    workdir = Path(tempfile.mkdtemp(prefix="filmgraph-deploy-"))
    index = workdir / "index"
    assert main(["build", str(index), "--store-url", oxigraph.query_url, "--quiet"]) == 0
    sites = [Site(name, oxigraph.query_url, index, workdir) for name in ("a", "b")]
    haproxy = None
    try:
        for site in sites:
            site.start()
        port = _free_port()
        cfg = workdir / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(port=port, port_a=sites[0].port, port_b=sites[1].port))
        check = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        log = workdir / "haproxy.log"
        with log.open("wb") as out:
            haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _wait(f"http://127.0.0.1:{port}/healthz", haproxy, log)
        yield Deployment(f"http://127.0.0.1:{port}", sites)
    finally:
        if haproxy is not None and haproxy.poll() is None:
            haproxy.terminate()
            haproxy.wait(timeout=30)
        for site in sites:
            site.stop()
        shutil.rmtree(workdir, ignore_errors=True)


FILM = "film/silent-star-1960"
SELECT = "PREFIX schema: <https://schema.org/> SELECT ?f ?t WHERE { ?f schema:name ?t } ORDER BY ?f ?t LIMIT 20"
MIX: list[tuple[str, str, dict[str, str], dict[str, str] | None]] = [
    # (method, path, headers, form body)
    ("GET", "/", {"Accept": "text/html"}, None),
    ("GET", "/film/", {"Accept": "text/html"}, None),
    ("GET", f"/{FILM}.html", {}, None),
    ("GET", f"/{FILM}.ttl", {}, None),
    ("GET", f"/{FILM}.jsonld", {}, None),
    ("GET", f"/{FILM}", {"Accept": "text/turtle"}, None),  # 303 to the document
    ("GET", "/mission/luna-2.html", {}, None),
    ("GET", "/film/no-such-film.html", {}, None),  # 404
    ("GET", "/search?q=star", {"Accept": "text/html"}, None),
    ("GET", "/sparql?query=" + requests.utils.quote(SELECT), {"Accept": "application/sparql-results+json"}, None),
    ("POST", "/sparql", {"Accept": "text/csv"}, {"query": SELECT}),
    ("GET", "/sparql?query=SELECT%20%3Fx%20WHERE%20%7B", {"Accept": "application/json"}, None),  # 400
    ("GET", "/dataset", {"Accept": "text/turtle"}, None),
    ("GET", "/healthz", {}, None),
    ("POST", "/reconcile", {}, {"queries": '{"q0": {"query": "The Silent Star"}}'}),
]


def _send(session: requests.Session, base: str, item: tuple[str, str, dict[str, str], dict[str, str] | None]) -> tuple[int, str]:
    method, path, headers, form = item
    r = session.request(method, base + path, headers=headers, data=form, allow_redirects=False, timeout=60)
    return r.status_code, r.headers.get("Content-Type", "")


def test_no_good_request_is_lost_when_a_process_is_killed_and_restarted(deployment: Deployment) -> None:
    with requests.Session() as s:
        expected = {i: _send(s, deployment.sites[0].url, item) for i, item in enumerate(MIX)}
    assert {code for code, _ in expected.values()} >= {200, 303, 400, 404}
    plan = [i % len(MIX) for i in range(REQUESTS)]
    done = 0
    lock = threading.Lock()
    local = threading.local()
    victim = deployment.sites[1]
    killed_at = REQUESTS // 3

    def one(i: int) -> tuple[int, tuple[int, str] | str]:
        nonlocal done
        if not hasattr(local, "session"):
            local.session = requests.Session()
        try:
            got: tuple[int, str] | str = _send(local.session, deployment.front, MIX[i])
        except requests.RequestException as exc:
            got = f"{type(exc).__name__}: {exc}"
        with lock:
            done += 1
        return i, got

    def chaos() -> None:
        while done < killed_at:
            time.sleep(0.01)
        victim.kill()
        time.sleep(1.0)  # requests keep coming while it is down
        victim.start()

    side = threading.Thread(target=chaos)
    side.start()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, plan))
    side.join(timeout=START_SECONDS + 30)
    assert not side.is_alive()
    lost = [(MIX[i][:2], got, expected[i]) for i, got in results if got != expected[i]]
    assert not lost, f"{len(lost)} of {REQUESTS} requests did not get the answer one process gives: {lost[:5]}"
    assert done == REQUESTS
    assert victim.proc is not None and victim.proc.poll() is None  # restarted and serving
    assert requests.get(victim.url + "/healthz", timeout=10).json()["ready"] is True


def test_dumps_are_the_same_bytes_and_etag_from_both_processes(deployment: Deployment) -> None:
    listing = requests.get(deployment.sites[0].url + "/dumps/", headers={"Accept": "text/html"}, timeout=60)
    assert listing.status_code == 200
    names = ["filmgraph.ttl", "filmgraph.nt", "filmgraph.jsonld", "filmgraph.nt.gz"]
    for name in names:
        got = [requests.get(f"{site.url}/dumps/{name}", timeout=120) for site in deployment.sites]
        assert all(r.status_code == 200 for r in got), name
        assert got[0].headers["ETag"] == got[1].headers["ETag"], name
        assert hashlib.sha256(got[0].content).digest() == hashlib.sha256(got[1].content).digest(), name
        assert got[0].headers["Last-Modified"] == got[1].headers["Last-Modified"], name
        # Revalidation through the balancer answers 304 whichever process it reaches.
        again = [requests.get(f"{deployment.front}/dumps/{name}", headers={"If-None-Match": got[0].headers["ETag"]}, timeout=60) for _ in range(4)]
        assert [r.status_code for r in again] == [304] * 4, name
