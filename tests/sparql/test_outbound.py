"""No outbound request caused by a client: proven with a loopback listener that must see no hit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app


class Listener:
    """A TCP listener on loopback that counts connections and answers an empty SPARQL result (or ``status``)."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        self.hits = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            try:
                conn.settimeout(1)
                conn.recv(65536)
                body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
                conn.sendall(b"HTTP/1.1 " + self.status.encode() + b"\r\nContent-Type: application/sparql-results+json\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def test_service_is_refused_and_nothing_goes_out(live_server, listener: Listener) -> None:
    for query in (
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}",
        f"PREFIX x: <{listener.url}> SELECT * WHERE {{ SERVICE x: {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{listener.url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    ):
        r = requests.get(live_server.url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 403, r.text
        assert "SERVICE" in r.text
    assert listener.hits == 0


def test_from_and_from_named_never_fetch(live_server, listener: Listener) -> None:
    for query in (
        f"SELECT * FROM <{listener.url}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{listener.url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{listener.url}?x.ttl> WHERE {{ ?s ?p ?o }}",
    ):
        r = requests.get(live_server.url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 200, r.text
    r = requests.get(live_server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": listener.url, "named-graph-uri": listener.url}, timeout=30)
    assert r.status_code == 200 and r.json()["boolean"] is False
    assert listener.hits == 0


def test_an_allow_listed_service_is_called_so_the_listener_can_see_hits(serve_app, tmp_path, listener: Listener) -> None:
    """The control case: the listener does register a request when SERVICE is allowed."""
    settings = Settings(service_allow=(listener.url,), query_timeout=10)
    services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "s"))
    server = serve_app(create_app(settings, services))
    r = requests.get(server.url + "/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert listener.hits >= 1
    services.close()


def test_an_allow_listed_service_answers_are_not_cached(serve_app, tmp_path, listener: Listener) -> None:
    """The result cache holds only this store's answers: each SERVICE query goes out again."""
    settings = Settings(service_allow=(listener.url,), query_timeout=10)
    assert settings.result_cache_mb > 0
    services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "s"))
    server = serve_app(create_app(settings, services))
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    for expected in (1, 2):
        r = requests.get(server.url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 200, r.text
        assert listener.hits == expected
        assert "ETag" not in r.headers  # another server's answer: no validator either
    services.close()


@pytest.mark.parametrize("status", ["500 Internal Server Error", "404 Not Found"])
def test_a_failing_allow_listed_service_is_a_bad_gateway(serve_app, tmp_path, status: str) -> None:
    """The remote's failure is a 502 naming the SERVICE, not a 500 of ours; the endpoint goes on answering."""
    failing = Listener(status)
    try:
        settings = Settings(service_allow=(failing.url,), query_timeout=10)
        services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "s"))
        server = serve_app(create_app(settings, services))
        r = requests.get(server.url + "/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{failing.url}> {{ ?s ?p ?o }} }}"},
                         headers={"Accept": "application/json"}, timeout=30)
        assert r.status_code == 502, r.text
        assert failing.hits == 1
        assert r.json()["error"] == "Bad gateway" and failing.url in r.json()["message"]
        assert requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30).json()["boolean"] is True
        services.close()
    finally:
        failing.close()


def test_an_unreachable_allow_listed_service_is_a_bad_gateway(serve_app, tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"  # bound, never listening: connection refused
        settings = Settings(service_allow=(closed,), query_timeout=10)
        services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "s"))
        server = serve_app(create_app(settings, services))
        r = requests.get(server.url + "/sparql", params={"query": f"ASK {{ SERVICE <{closed}> {{ ?s ?p ?o }} }}"}, timeout=30)
        assert r.status_code == 502, r.text
        services.close()
