"""Defence in depth: with the query scan switched off, a SERVICE query still reaches nobody.

The scan (``filmgraph.sparql.querytext``) is the first guard; the kernel is the second.
Here the first is switched off (``check_services`` lets everything through and
``shape`` reports no SERVICE), and SERVICE queries of every kind go to the real
endpoint over a real socket, run by real query workers. The listener must see
zero connections, and the client must get a 403 that says the query was
refused, never a 500. The control cases switch the sandbox off too (an
allow-list of another endpoint) and the same queries do reach the listener, so
the test could fail. The allow-list compares IRIs after the engine's own
processing: an escaped, relative or prefixed spelling of an allowed endpoint
is let through, and a failing allowed endpoint is a 502.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from filmgraph.sparql import query as query_module, querytext, sandbox
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from .test_outbound import Listener

PATTERNS = [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",  # the engine swallows SILENT's errors: the kill is still seen
    "PREFIX x: <{url}> ASK {{ SERVICE x: {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX ex: <https://schema.org/Movie> SELECT * WHERE {{ ?s a ex:.SERVICE <{url}> {{ ?a ?b ?c }} }}",
]


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture()
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch the first guard off: every SERVICE passes the scan unseen."""
    real_shape = querytext.shape

    def blind_shape(text: str) -> querytext.QueryShape:
        return dataclasses.replace(real_shape(text), services=(), service_terms=())

    monkeypatch.setattr(query_module, "shape", blind_shape)
    monkeypatch.setattr(query_module, "check_services", lambda found, allowed, base=None: ())


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "store"
    EmbeddedStore.build(Settings(), path)
    return path


def _serve(serve_app, store_dir: Path, **options: object):  # type: ignore[no-untyped-def]
    settings = Settings(query_timeout=10, query_workers=1, result_cache_mb=0, **options)  # type: ignore[arg-type]
    services = Services.build(settings, EmbeddedStore.open(store_dir))
    return services, serve_app(create_app(settings, services))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_with_the_scan_off_the_kernel_stops_every_service_call(serve_app, store_dir: Path, listener: Listener, no_scan: None, pattern: str) -> None:
    services, server = _serve(serve_app, store_dir)
    try:
        for _ in range(2):  # the replaced worker is confined too
            r = requests.get(server.url + "/sparql", params={"query": pattern.format(url=listener.url)}, timeout=30)
            assert r.status_code == 403, r.text
            assert "no network access" in r.text, r.text
        r = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert r.status_code == 200, r.text  # the endpoint goes on answering
    finally:
        services.close()
    assert listener.hits == 0


def test_a_service_variable_is_a_client_error_and_calls_nobody(serve_app, store_dir: Path, listener: Listener, no_scan: None) -> None:
    """The engine evaluates SERVICE ?e before ?e is bound: a 400 with its message (it was a 500)."""
    services, server = _serve(serve_app, store_dir)
    try:
        query = f"SELECT * WHERE {{ VALUES ?e {{ <{listener.url}> }} SERVICE ?e {{ ?s ?p ?o }} }}"
        r = requests.get(server.url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 400, r.text
        assert "unbound" in r.text
    finally:
        services.close()
    assert listener.hits == 0


@pytest.mark.parametrize("pattern", PATTERNS)
def test_control_without_the_sandbox_the_same_queries_do_reach_the_listener(serve_app, store_dir: Path, listener: Listener, no_scan: None, pattern: str) -> None:
    """An allow-list (of some other endpoint) takes the sandbox off: now the listener sees the call."""
    services, server = _serve(serve_app, store_dir, service_allow=("http://127.0.0.1:9/elsewhere",))
    try:
        requests.get(server.url + "/sparql", params={"query": pattern.format(url=listener.url)}, timeout=30)
    finally:
        services.close()
    assert listener.hits >= 1


def _in_child(target) -> int | None:  # type: ignore[no-untyped-def]
    process = multiprocessing.get_context("fork").Process(target=target)
    process.start()
    process.join(timeout=30)
    return process.exitcode


def _confined_connect() -> None:
    sandbox.deny_network()
    with socket.socket() as s:
        s.connect(("127.0.0.1", 9))
    raise SystemExit(0)


def _confined_file_work() -> None:
    sandbox.deny_network()
    Path("/proc/self/status").read_text()
    raise SystemExit(7)


def test_a_confined_process_dies_at_its_first_socket_and_can_still_read_files() -> None:
    assert _in_child(_confined_connect) == -sandbox.KILLED_BY
    assert _in_child(_confined_file_work) == 7


@pytest.mark.parametrize(
    "spelling",
    ["<{url}>", "<{escaped}>", "<{relative}>", "e:{last}", "e:"],
)
def test_an_allow_listed_endpoint_matches_in_any_spelling_the_engine_reads_as_it(serve_app, store_dir: Path, listener: Listener, spelling: str) -> None:
    base, last = listener.url.rsplit("/", 1)
    escaped = listener.url.replace("sparql", "\\u0073parql")
    services, server = _serve(serve_app, store_dir, service_allow=(listener.url,))
    try:
        target = spelling.format(url=listener.url, escaped=escaped, relative=listener.url, last=last)
        if spelling == "e:":
            query = f"PREFIX e: <{listener.url}> SELECT * WHERE {{ SERVICE {target} {{ ?s ?p ?o }} }}"
        else:
            query = f"BASE <{base}/> PREFIX e: <{base}/> SELECT * WHERE {{ SERVICE {target} {{ ?s ?p ?o }} }}"
        if spelling == "<{relative}>":
            query = f"BASE <{base}/> SELECT * WHERE {{ SERVICE <{last}> {{ ?s ?p ?o }} }}"
        r = requests.get(server.url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 200, r.text
        other = query.replace("sparql", "other").replace("parql", "other")
        r = requests.get(server.url + "/sparql", params={"query": other}, timeout=30)
        assert r.status_code == 403, r.text
    finally:
        services.close()
    assert listener.hits == 1


def test_a_failing_allow_listed_endpoint_is_a_bad_gateway(serve_app, store_dir: Path) -> None:
    failing = Listener("500 Internal Server Error")
    services, server = _serve(serve_app, store_dir, service_allow=(failing.url,))
    try:
        r = requests.get(server.url + "/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{failing.url}> {{ ?s ?p ?o }} }}"}, timeout=30)
        assert r.status_code == 502, r.text
    finally:
        services.close()
        failing.close()
    assert failing.hits == 1
