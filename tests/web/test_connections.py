"""Connections that cost nothing while idle: idle, half-sent and stalled clients hold no thread of the server.

A real ``filmgraph serve`` (Granian, the default) on loopback; clients open
connections that send nothing, half a request line, or headers and part of a
body, and keep them open while probes ask for ``/healthz`` and a query that no
cache holds. Under gunicorn (a thread per connection) a few dozen such
connections froze the site; here every probe must be answered. The probes'
latencies go to ``test-artifacts/connections.json`` (a report, not a test:
this machine is shared and noisy). ``FILMGRAPH_ABUSE_SCALE`` multiplies the
number of connections (1: 64 idle, 24 half-sent headers, 24 stalled bodies;
the figures of bench/README.md come from scale 4 with 50 half-sent headers).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ..loopback import free_port
from .test_traffic import Server, built_store  # noqa: F401  (a fixture)

SCALE = int(os.environ.get("FILMGRAPH_ABUSE_SCALE", "1"))
IDLE, HALF_HEADERS, STALLED_BODIES = 64 * SCALE, 24 * SCALE, 24 * SCALE
PROBES = 40
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open(port: int, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


@pytest.fixture()
def server(built_store: Path, tmp_path: Path) -> Iterator[Server]:  # noqa: F811
    # Long read timeouts here: the connections must stay open while the probes run.
    srv = Server(built_store, free_port(), tmp_path / "serve.log", ("--header-timeout", "60", "--body-timeout", "60", "--result-cache-mb", "0"))
    yield srv
    srv.stop()


def test_idle_half_sent_and_stalled_connections_hold_no_thread(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    held = [_open(port, b"") for _ in range(IDLE)]
    held += [_open(port, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(HALF_HEADERS)]
    body = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK"
    held += [_open(port, body) for _ in range(STALLED_BODIES)]  # more than the server's 2 x 8 threads
    try:
        time.sleep(0.5)
        figures: dict[str, list[float]] = {"healthz": [], "query": []}
        failures = []
        for i in range(PROBES):
            for kind, url in (("healthz", f"{server.url}/healthz"), ("query", f"{server.url}/sparql?query=" + urllib.parse.quote(f"ASK {{ ?s ?p {i} }}"))):
                started = time.perf_counter()
                try:
                    status = requests.get(url, timeout=20).status_code
                except requests.RequestException as exc:
                    status, failures = 0, [*failures, f"{kind}: {exc}"]
                figures[kind].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures.append(f"{kind}: {status}")
        still_open = sum(1 for s in held if _is_open(s))
    finally:
        for s in held:
            s.close()
    report = {
        "connections": {"idle": IDLE, "half_headers": HALF_HEADERS, "stalled_bodies": STALLED_BODIES, "still_open_after_probes": still_open},
        **{kind: {"n": len(v), "p50_ms": round(statistics.median(v), 2), "p99_ms": round(sorted(v)[max(0, int(len(v) * 0.99) - 1)], 2), "max_ms": round(max(v), 2)} for kind, v in figures.items()},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "connections.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))
    assert not failures, failures[:5]
    assert still_open == len(held), report  # the connections were really held while the probes ran


def _is_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_a_stalled_body_gets_408_and_stalled_headers_are_closed(built_store: Path, tmp_path: Path) -> None:  # noqa: F811
    srv = Server(built_store, free_port(), tmp_path / "serve.log", ("--header-timeout", "2", "--body-timeout", "2"))
    try:
        port = int(srv.url.rsplit(":", 1)[1])
        half = _open(port, b"GET / HTTP/1.1\r\nHost: x\r\n")
        stalled = _open(port, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK")
        half.settimeout(20)
        stalled.settimeout(20)
        assert half.recv(100) == b""  # closed, unanswered, at the header timeout
        answer = b""
        while chunk := stalled.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"body_timeout" in answer
        half.close()
        stalled.close()
    finally:
        srv.stop()


def test_one_client_has_a_cap_on_requests_in_flight_and_others_are_served(built_store: Path, tmp_path: Path) -> None:  # noqa: F811
    """Client A (127.0.0.2) opens more stalled requests than its cap: its next request is a 429 at once,
    while client B (127.0.0.3) is served."""
    srv = Server(built_store, free_port(), tmp_path / "serve.log", ("--max-client-requests", "8", "--workers", "1", "--body-timeout", "30"))
    held = []
    try:
        port = int(srv.url.rsplit(":", 1)[1])
        stalled = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK"
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
            s.sendall(stalled)
            held.append(s)
        time.sleep(0.5)
        extra = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = extra.recv(4096)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 429"), answer[:200]
        assert b"retry-after: 1" in answer.lower() and b"max_client_requests" in answer
        other = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.3", 0))
        other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert other.recv(4096).startswith(b"HTTP/1.1 200")
        other.close()
    finally:
        for s in held:
            s.close()
        srv.stop()


def test_an_answer_kept_by_the_front_is_the_apps_answer(built_store: Path, tmp_path: Path) -> None:  # noqa: F811
    """The event loop answers a repeated query itself: the same status, headers and bytes as the app's first
    answer; a volatile query, a conditional request and another Accept are not answered from it."""
    srv = Server(built_store, free_port(), tmp_path / "serve.log", ("--workers", "1"))
    try:
        url = srv.url + "/sparql"
        query = {"query": "SELECT ?s WHERE { ?s a <https://w3id.org/filmgraph/ontology#FilmRecord> } ORDER BY ?s"}
        first = requests.get(url, params=query, headers={"Accept": "application/sparql-results+json"}, timeout=30)
        again = [requests.get(url, params=query, headers={"Accept": "application/sparql-results+json"}, timeout=30) for _ in range(3)]
        assert first.status_code == 200 and "x-filmgraph-front" not in {k.lower() for k in first.headers}
        for r in again:
            assert r.status_code == 200 and r.content == first.content
            assert {k: v for k, v in r.headers.items() if k.lower() != "date"} == {k: v for k, v in first.headers.items() if k.lower() != "date"}
        csv = requests.get(url, params=query, headers={"Accept": "text/csv"}, timeout=30)
        assert csv.headers["Content-Type"].startswith("text/csv") and csv.content != first.content
        assert requests.get(url, params=query, headers={"If-None-Match": first.headers["ETag"]}, timeout=30).status_code == 304
        volatile = {"query": "SELECT (STRUUID() AS ?u) {}"}
        a, b = (requests.get(url, params=volatile, headers={"Accept": "text/csv"}, timeout=30).text for _ in range(2))
        assert a != b
    finally:
        srv.stop()
