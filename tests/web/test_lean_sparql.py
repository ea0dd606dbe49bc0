"""The lean /sparql path (web/lean.py) answers as the app does, byte for byte, and leaves it what it does not read.

Two real ``filmgraph serve`` (Granian) on loopback over one built store, the
lean path on and off, get the same requests: the common ones (GET, POST form,
direct POST; every result and graph format; Accept and ``format=``; a cut
answer; a relative IRI), errors found before a query runs (a syntax error, an
update, an unknown format, a charset, SERVICE) and while it runs (an engine's
refusal, the time limit), and what the lean path leaves to the app (HEAD,
If-None-Match, a dataset). Status, headers (but Date) and body must be the
same. In process, the lean path is shown to answer the common requests itself
and to pass the others on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from filmgraph.core.errors import QueryTimeout
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.web.asgi import Answer
from filmgraph.web.lean import LeanSparql
from filmgraph.web.sparql import FAILED

from ..loopback import free_port
from .test_traffic import Server, built_store  # noqa: F401  (a fixture)

FG = "https://w3id.org/filmgraph/ontology#"
FILMS = f"SELECT ?f ?t WHERE {{ ?f a <{FG}FilmRecord> ; <https://schema.org/name> ?t }} ORDER BY ?t"
ASK = f"ASK {{ ?f a <{FG}FilmRecord> }}"
GRAPH = f"CONSTRUCT {{ ?f a <{FG}FilmRecord> ; <https://schema.org/name> ?t }} WHERE {{ ?f a <{FG}FilmRecord> ; <https://schema.org/name> ?t }}"
LONG = "SELECT (GROUP_CONCAT(CONCAT(STR(?s), STR(?p), STR(?o))) AS ?all) (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) }"
"""One row of a hundred KB and more: read from the worker's pipe in more than one piece."""
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } # lean"
JSON, XML, CSV, TSV = "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"
FLAGS = ("--workers", "1", "--max-rows", "4", "--query-timeout", "2", "--query-budget", "0")


def _requests() -> list[tuple[str, str, dict[str, object]]]:
    """(name, method, requests' keyword arguments) of every request sent to both servers."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    direct = {"Content-Type": "application/sparql-query"}
    out: list[tuple[str, str, dict[str, object]]] = []
    for accept in (JSON, XML, CSV, TSV, "*/*", f"{CSV};q=0.5, {JSON}"):
        out.append((f"GET select {accept}", "GET", {"params": {"query": FILMS}, "headers": {"Accept": accept}}))
    for accept in ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"):
        out.append((f"POST direct construct {accept}", "POST", {"data": GRAPH.encode(), "headers": {**direct, "Accept": accept}}))
    out += [
        ("GET format=csv", "GET", {"params": {"query": FILMS, "format": "csv"}}),
        ("POST form ask", "POST", {"data": {"query": ASK}, "headers": {**form, "Accept": XML}}),
        ("POST form, format in the URL", "POST", {"params": {"format": "tsv"}, "data": {"query": FILMS}, "headers": form}),
        ("POST direct ask, charset", "POST", {"data": ASK.encode(), "headers": {"Content-Type": "application/sparql-query; charset=UTF-8"}}),
        ("a long answer", "POST", {"data": LONG.encode(), "headers": direct}),
        ("describe", "POST", {"data": f"DESCRIBE <https://w3id.org/filmgraph/film/{1}>".encode(), "headers": direct}),
        ("a cut answer (max_rows 4)", "GET", {"params": {"query": f"SELECT ?s WHERE {{ ?s a <{FG}FilmRecord> }} ORDER BY ?s"}}),
        ("a relative IRI", "GET", {"params": {"query": "SELECT ?x WHERE { BIND(<films/1> AS ?x) }"}, "headers": {"Host": "example.org:8080"}}),
        ("a syntax error", "GET", {"params": {"query": "SELECT ?x WHERE { ?x"}}),
        ("a syntax error, JSON", "POST", {"data": b"SELEKT", "headers": {**direct, "Accept": "application/json"}}),
        ("an unknown format", "GET", {"params": {"query": FILMS}, "headers": {"Accept": "image/png"}}),
        ("an update by form", "POST", {"data": {"update": "CLEAR ALL"}, "headers": form}),
        ("a direct update", "POST", {"data": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}}),
        ("latin-1", "POST", {"data": ASK.encode(), "headers": {"Content-Type": "application/sparql-query; charset=latin-1"}}),
        ("SERVICE", "GET", {"params": {"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}}),
        ("two queries", "GET", {"params": [("query", ASK), ("query", ASK)]}),
        ("refused by the engine", "GET", {"params": {"query": "SELECT ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }"}}),
        ("the time limit", "POST", {"data": RUNAWAY.encode(), "headers": direct}),
        ("HEAD", "HEAD", {"params": {"query": ASK}}),
        ("a dataset", "GET", {"params": {"query": ASK, "default-graph-uri": "http://example.org/g"}}),
        ("no query", "GET", {"headers": {"Accept": "text/turtle"}}),
    ]
    return out


@pytest.fixture(scope="module")
def servers(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:  # noqa: F811
    logs = tmp_path_factory.mktemp("lean")
    lean = Server(built_store, free_port(), logs / "lean.log", FLAGS)
    try:
        app = Server(built_store, free_port(), logs / "app.log", (*FLAGS, "--lean-sparql", "no"))
    except BaseException:
        lean.stop()
        raise
    try:
        yield lean, app
    finally:
        lean.stop()
        app.stop()


def _sent(server: Server, method: str, kwargs: dict[str, object]) -> requests.Response:
    """A request to a server, naming the same host whichever server it is (the endpoint's URL is in an answer's ETag)."""
    headers = {"Host": "filmgraph.test", **kwargs.get("headers", {})}  # type: ignore[dict-item]
    return requests.request(method, server.url + "/sparql", timeout=30, **{**kwargs, "headers": headers})  # type: ignore[arg-type]


def _seen(r: requests.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return r.status_code, sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() != "date"), r.content


def test_the_lean_path_answers_every_request_as_the_app_does(servers: tuple[Server, Server]) -> None:
    lean, app = servers
    for server in (lean, app):  # the first query of a process starts its query workers, through the app
        requests.post(server.url + "/sparql", data=ASK.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30)
    for name, method, kwargs in _requests():
        got = [_seen(_sent(s, method, kwargs)) for s in (lean, app)]
        assert got[0] == got[1], f"{name}: the lean path answered otherwise than the app\n{got[0]}\n{got[1]}"
    answers = {name: _seen(_sent(lean, method, kwargs)) for name, method, kwargs in _requests()}
    assert answers["the time limit"][0] == 503 and answers["a syntax error"][0] == 400
    assert ("x-result-truncated", "true; limit=4") in answers["a cut answer (max_rows 4)"][1]
    assert b"http://example.org:8080/films/1" in answers["a relative IRI"][2]
    assert answers["a long answer"][0] == 200 and len(answers["a long answer"][2]) > 100_000


def test_a_volatile_answer_has_the_same_headers_on_both_paths(servers: tuple[Server, Server]) -> None:
    lean, app = servers
    query = {"query": "SELECT (STRUUID() AS ?u) {}"}
    got = [_seen(_sent(s, "GET", {"params": query})) for s in (lean, app)]
    assert got[0][:2] == got[1][:2] and ("cache-control", "no-store") in got[0][1]


def _scope(method: str, query_string: bytes = b"", headers: tuple[tuple[bytes, bytes], ...] = ()) -> dict[str, object]:
    return {"type": "http", "method": method, "path": "/sparql", "raw_path": b"/sparql", "query_string": query_string, "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8080"), *headers], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080), "scheme": "http"}


def _run(coroutine):  # type: ignore[no-untyped-def]
    """Run in the loop Granian runs the app in: uvloop when it is installed (it leaves watched files non-blocking)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def test_the_lean_path_answers_the_common_requests_itself_and_passes_the_rest_on(built_store: Path) -> None:  # noqa: F811
    services = Services.build(Settings(store_path=str(built_store), query_timeout=2, query_budget=0))
    lean = LeanSparql(services)
    direct = (b"content-type", b"application/sparql-query")
    form = (b"content-type", b"application/x-www-form-urlencoded")
    try:
        asked = lambda scope, body=b"": _run(lean(scope, body))  # noqa: E731
        assert asked(_scope("POST", headers=(direct,)), ASK.encode()) is None  # no query workers yet: the app starts them
        services.query.run(services.query.prepare(ASK, None))
        for scope, body in [
            (_scope("POST", headers=(direct,)), ASK.encode()),
            (_scope("POST", headers=(form,)), b"query=" + ASK.replace(" ", "+").encode()),
            (_scope("GET", b"query=ASK%7B%7D&format=xml"), b""),
            (_scope("POST", headers=(direct,)), LONG.encode()),
            (_scope("POST", headers=(direct,)), LONG.encode()),
        ]:
            made = asked(scope, body)
            assert isinstance(made, Answer) and made.status == 200, scope
        for scope, body in [
            (_scope("HEAD", b"query=ASK%7B%7D"), b""),
            (_scope("GET", b"query=ASK%7B%7D", ((b"if-none-match", b'"x"'),)), b""),
            (_scope("GET", b"query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fa%2F"), b""),
            (_scope("GET", b"query=%FF"), b""),
            (_scope("GET", b"query=SELEKT"), b""),
            (_scope("POST", headers=((b"content-type", b"text/plain"),)), ASK.encode()),
        ]:
            assert asked(scope, body) is None, scope
        stopped = asked(_scope("POST", headers=(direct,)), RUNAWAY.encode())
        assert isinstance(stopped, dict) and isinstance(stopped[FAILED], QueryTimeout)
    finally:
        services.close()
        services.store.close()
