"""The remote backend against two real stores, the Oxigraph server and Virtuoso: same answers as the embedded store.

A module-scoped ``oxigraph serve``, then a Virtuoso (``remote``, parametrized),
on loopback is loaded with ``filmgraph load`` (the shipped dataset, validated;
into a named graph of Virtuoso, filmgraph's ``store_graph``), then filmgraph is
served against it and every response is compared with the embedded backend's
(``live_server``): result sets equal, graphs isomorphic. All servers are stopped by their fixtures. Loading
itself is tested in test_load.py, bindings as text in test_bind.py.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from filmgraph.core.errors import BadQuery, FilmgraphError, QueryTimeout, Unavailable
from filmgraph.sparql.execute import Job
from filmgraph.sparql.query import named_query, prefixed_query
from filmgraph.sparql.querytext import shape
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.store.remote import RemoteStore
from filmgraph.web import create_app

from ..oxigraph_server import OxigraphServer, oxigraph, oxigraph_server, unused_url  # noqa: F401  (fixtures)
from ..virtuoso_server import VirtuosoServer, virtuoso, virtuoso_server  # noqa: F401  (fixtures)

BASE = "https://w3id.org/filmgraph/"
FG = BASE + "ontology#"
FILM = BASE + "film/silent-star-1960"
PREFIXES = f"PREFIX fg: <{FG}>\nPREFIX schema: <https://schema.org/>\n"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
QUERIES_DIR = Path(__file__).resolve().parents[2] / "src" / "filmgraph" / "queries"

SELECTS = {
    "films": PREFIXES + "SELECT ?f ?t ?y WHERE { ?f a fg:FilmRecord ; schema:name ?t ; schema:datePublished ?y }",
    "claims with assessments": PREFIXES
    + "SELECT ?c ?film ?text ?a ?note WHERE { ?c a fg:Claim ; fg:about ?film ; fg:claimText ?text ; fg:assessment ?a . OPTIONAL { ?c fg:assessmentNote ?note } }",
    "missions with dates": PREFIXES
    + "SELECT ?m ?name ?start ?end WHERE { ?m a fg:SpaceMission ; schema:name ?name . OPTIONAL { ?m schema:startDate ?start } OPTIONAL { ?m schema:endDate ?end } }",
    "filter, order, limit": PREFIXES
    + "SELECT ?f ?t ?year WHERE { ?f a fg:FilmRecord ; schema:name ?t ; fg:releaseYear/fg:yearNumber ?year FILTER(?year >= 1960 && LANG(?t) = 'en') } ORDER BY DESC(?year) ?t ?f LIMIT 5",
    "aggregate": PREFIXES + "SELECT ?a (COUNT(?c) AS ?n) WHERE { ?c fg:assessment ?a } GROUP BY ?a",
    "every triple, blank nodes too": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
}
GRAPHS = {
    "construct": PREFIXES + "CONSTRUCT { ?f ?p ?o } WHERE { ?f a fg:FilmRecord ; ?p ?o }",
    "construct with blank nodes": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }",
    "describe": f"DESCRIBE <{FILM}>",
}


# -- fixtures --------------------------------------------------------------


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def remote(request: pytest.FixtureRequest) -> OxigraphServer | VirtuosoServer:
    """Each real store in turn, holding the shipped dataset (skipped where the store is not installed)."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def remote_settings(settings: Settings, remote: OxigraphServer | VirtuosoServer) -> Settings:
    """The test settings, pointed at the store (and, for Virtuoso, at the graph that holds the dataset)."""
    return settings.replace(store_url=remote.query_url, store_graph=getattr(remote, "graph", ""))


@pytest.fixture(scope="module")
def remote_services(remote_settings: Settings) -> Iterator[Services]:
    """The site's services over the remote store."""
    svc = Services.build(remote_settings)
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def remote_server(remote_settings: Settings, remote_services: Services, serve_app):  # type: ignore[no-untyped-def]
    """filmgraph served on loopback against the Oxigraph server."""
    return serve_app(create_app(remote_settings, remote_services))


@pytest.fixture(scope="module")
def local_store(settings: Settings) -> Iterator[EmbeddedStore]:
    """The shipped dataset in memory, built and validated as the embedded backend builds it."""
    store = EmbeddedStore.build(settings)
    yield store
    store.close()


# -- helpers ---------------------------------------------------------------


def sparql(server, query: str, accept: str = "application/sparql-results+json", **params: str) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(server.url + "/sparql", params={"query": query, **params}, headers={"Accept": accept}, timeout=60)


def _cell(term: dict[str, str]) -> tuple[str, str, str]:
    if term["type"] == "bnode":
        return ("bnode", "", "")  # labels differ between stores; the graph tests compare structure
    return (term["type"], term["value"], term.get("xml:lang", term.get("datatype", "")))


def rows(response: requests.Response) -> collections.Counter[tuple[tuple[str, tuple[str, str, str]], ...]]:
    """The rows of a SPARQL JSON response as a multiset."""
    bindings = response.json()["results"]["bindings"]
    return collections.Counter(tuple(sorted((k, _cell(v)) for k, v in b.items())) for b in bindings)


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data="".join(f"{t} .\n" for t in triples), format="nt")


def differences(a: rdflib.Graph, b: rdflib.Graph) -> str:
    """The triples only in one graph (blank nodes canonicalized), for a readable failure."""
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    show = lambda g: "\n".join(sorted(f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in g)[:20])  # noqa: E731
    return f"only in the first ({len(only_a)}):\n{show(only_a)}\nonly in the second ({len(only_b)}):\n{show(only_b)}"


def graph(data: bytes | str, fmt: str = "turtle") -> rdflib.Graph:
    """Parse with pyoxigraph (rdflib's JSON-LD parser warns), compare with rdflib's isomorphism."""
    parsed = ox.parse(data, {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD}[fmt])
    return to_rdflib([ox.Triple(q.subject, q.predicate, q.object) for q in parsed])


# -- the endpoint: same answers --------------------------------------------


@pytest.mark.parametrize("name", sorted(SELECTS))
def test_select_rows_equal_the_embedded_backend(name: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = sparql(live_server, SELECTS[name]), sparql(remote_server, SELECTS[name])
    assert local.status_code == remote.status_code == 200
    assert bool(local.headers.get("X-Result-Truncated")) == bool(remote.headers.get("X-Result-Truncated"))
    if local.headers.get("X-Result-Truncated"):
        # Cut at max_rows: which rows come first is each engine's order (no ORDER BY), and the embedded
        # store's in-memory engine iterates in another order than the on-disk one. Same count, and every
        # row is one of the whole answer's (asked with its own ORDER BY in pages of the cap).
        assert sum(rows(local).values()) == sum(rows(remote).values())
        whole = rows_of_every_triple(live_server)
        assert not rows(local) - whole and not rows(remote) - whole
    else:
        assert rows(local) == rows(remote)


def rows_of_every_triple(server) -> collections.Counter[tuple[tuple[str, tuple[str, str, str]], ...]]:  # type: ignore[no-untyped-def]
    """Every triple as rows with blank nodes blanked, read in pages under the row cap."""
    whole: collections.Counter[tuple[tuple[str, tuple[str, str, str]], ...]] = collections.Counter()
    for offset in range(0, 100_000, 500):
        page = rows(sparql(server, f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} ORDER BY ?s ?p ?o LIMIT 500 OFFSET {offset}"))
        if not page:
            return whole
        whole += page
    return whole


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"])
def test_ordered_select_is_byte_identical_in_every_format(accept: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local = sparql(live_server, SELECTS["filter, order, limit"], accept)
    remote = sparql(remote_server, SELECTS["filter, order, limit"], accept)
    assert local.status_code == remote.status_code == 200
    assert local.headers["Content-Type"] == remote.headers["Content-Type"]
    assert local.content == remote.content


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld")])
def test_graphs_are_isomorphic_to_the_embedded_backend(name: str, accept: str, fmt: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = sparql(live_server, GRAPHS[name], accept), sparql(remote_server, GRAPHS[name], accept)
    assert local.status_code == remote.status_code == 200
    assert local.headers["Content-Type"] == remote.headers["Content-Type"]
    g_local, g_remote = graph(local.content, fmt), graph(remote.content, fmt)
    assert len(g_local) > 0
    assert isomorphic(g_local, g_remote)


@pytest.mark.parametrize("query", [f"ASK {{ <{FILM}> ?p ?o }}", f"ASK {{ <{FILM}x> ?p ?o }}"])
def test_ask_answers_equal_the_embedded_backend(query: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = sparql(live_server, query), sparql(remote_server, query)
    assert local.status_code == remote.status_code == 200
    assert local.json() == remote.json()


def test_dataset_parameters_reach_the_remote_store(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    local = sparql(live_server, query, **{"default-graph-uri": "http://example.org/no-such-graph"})
    remote = sparql(remote_server, query, **{"default-graph-uri": "http://example.org/no-such-graph"})
    assert local.status_code == remote.status_code == 200
    assert rows(local) == rows(remote)
    assert remote.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_row_cap_notice_is_the_same_remotely(live_server, remote_server, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    local, remote = sparql(live_server, SELECTS["every triple, blank nodes too"]), sparql(remote_server, SELECTS["every triple, blank nodes too"])
    assert remote.headers["X-Result-Truncated"] == local.headers["X-Result-Truncated"] == f"true; limit={settings.max_rows}"
    body = remote.json()
    assert len(body["results"]["bindings"]) == settings.max_rows
    assert body["filmgraph"]["truncated"] is True and body["head"]["link"] == local.json()["head"]["link"]


def test_row_cap_applies_to_remote_graphs(remote_settings: Settings, serve_app) -> None:  # type: ignore[no-untyped-def]
    server = serve_app(create_app(remote_settings.replace(max_rows=5)))
    r = sparql(server, "CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle")
    assert r.status_code == 200 and r.headers["X-Result-Truncated"] == "true; limit=5"
    assert r.text.startswith("# result truncated to 5 triples (max_rows)")
    assert len(graph(r.content)) == 5


def test_syntax_error_is_400_remotely_too(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    query = "SELECT ?x WHERE { ?x ?y }"
    local, remote = sparql(live_server, query, "application/json"), sparql(remote_server, query, "application/json")
    assert local.status_code == remote.status_code == 400
    assert remote.json()["error"] == "Malformed query"
    assert "remote store" in remote.json()["message"]


def test_update_and_service_are_refused_before_reaching_the_remote(remote_server) -> None:  # type: ignore[no-untyped-def]
    r = sparql(remote_server, "DELETE WHERE { ?s ?p ?o }")
    assert r.status_code == 403
    r = sparql(remote_server, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert r.status_code == 403


def test_slow_query_is_503_naming_the_time_limit(remote_settings: Settings, serve_app) -> None:  # type: ignore[no-untyped-def]
    # filmgraph stops waiting at query_timeout; the remote keeps computing until
    # its own limit (the test server runs with --timeout-s) since SPARQL has no cancel.
    server = serve_app(create_app(remote_settings.replace(query_timeout=1.0)))
    r = requests.get(server.url + "/sparql", params={"query": SLOW}, headers={"Accept": "application/json"}, timeout=60)
    assert r.status_code == 503
    assert "query_timeout" in r.json()["message"]


def test_unreachable_store_is_503_with_a_clear_message(settings: Settings, serve_app, unused_url: str) -> None:  # type: ignore[no-untyped-def]
    server = serve_app(create_app(settings.replace(store_url=unused_url)))
    r = requests.get(server.url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/json"}, timeout=60)
    assert r.status_code == 503
    message = r.json()["message"]
    assert "unreachable" in message and unused_url in message and "store_url" in message
    health = requests.get(server.url + "/healthz", timeout=60)
    assert health.status_code == 503 and health.json()["ready"] is False


def test_service_description_matches_the_embedded_one(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local = requests.get(live_server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=60)
    remote = requests.get(remote_server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=60)
    assert local.status_code == remote.status_code == 200
    g_local = graph(local.text.replace(live_server.url, "http://host"))
    g_remote = graph(remote.text.replace(remote_server.url, "http://host"))
    assert isomorphic(g_local, g_remote)


def test_healthz_reports_ready_with_the_same_count(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local = requests.get(live_server.url + "/healthz", timeout=60).json()
    remote = requests.get(remote_server.url + "/healthz", timeout=60)
    assert remote.status_code == 200
    assert remote.json()["ready"] is True and remote.json()["triples"] == local["triples"]


# -- the store interface: named queries, rules, dumps ------------------------


def _named_queries() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.rq"))


# Where a store answers the same query differently and SPARQL allows it, by store: the named query and why.
SETS_ONLY = {"virtuoso": {"duplicate-candidates": "Virtuoso gives a row once where two alternatives of a property path (a|b) "
                                                   "reach the same value; Oxigraph gives it twice"}}
_LIMIT = re.compile(r"\bLIMIT\s+(\d+)\s*$", re.IGNORECASE)


@pytest.mark.parametrize("name", _named_queries())
def test_named_queries_answer_the_same_through_both_backends(name: str, services: Services, remote_services: Services,
                                                             local_store: EmbeddedStore, request: pytest.FixtureRequest) -> None:
    bindings = {"iri": ox.NamedNode(FILM)} if "?iri" in named_query(name) else None
    form = shape(named_query(name)).form
    if form == "SELECT":
        local = services.query.select(name, bindings)
        remote = remote_services.query.select(name, bindings)
        key = lambda r: sorted((k, "_:" if isinstance(v, ox.BlankNode) else str(v)) for k, v in r.items())  # noqa: E731
        store = request.node.callspec.params["remote"]
        limit = _LIMIT.search(named_query(name))
        if limit and "ORDER BY" not in named_query(name).upper() and len(local) == int(limit.group(1)):
            # A LIMIT without ORDER BY takes the first rows in each engine's own order: as many, and all of the whole answer.
            whole = local_store.select(_LIMIT.sub("", prefixed_query(name, BASE)), bindings)
            assert len(remote) == len(local) and not {tuple(key(r)) for r in remote} - {tuple(key(r)) for r in whole}
        elif name in SETS_ONLY.get(store, {}):
            assert local and {tuple(key(r)) for r in local} == {tuple(key(r)) for r in remote}
        else:
            assert sorted(map(key, local)) == sorted(map(key, remote))
    elif form == "ASK":
        assert services.query.ask(name, bindings) == remote_services.query.ask(name, bindings)
    else:
        local_g = to_rdflib(services.query.construct(name, bindings))
        remote_g = to_rdflib(remote_services.query.construct(name, bindings))
        assert isomorphic(local_g, remote_g)


@pytest.mark.parametrize(
    ("query", "bindings"),
    [
        # A literal bound only for a FILTER: a trailing VALUES would leave it unbound there.
        (PREFIXES + "SELECT ?type ?prefix ?thing ?name WHERE { ?thing a ?type . FILTER(STRSTARTS(STR(?thing), ?prefix)) OPTIONAL { ?thing schema:name ?name } }",
         {"type": ox.NamedNode(FG + "FilmRecord"), "prefix": ox.Literal(BASE + "film/s")}),
        # A bound variable under an aggregate: a trailing VALUES joins after the grouping.
        (PREFIXES + "SELECT ?iri (COUNT(*) AS ?n) WHERE { ?c fg:about ?iri } GROUP BY ?iri", {"iri": ox.NamedNode(FILM)}),
        # Bound and only used inside OPTIONALs.
        (PREFIXES + "SELECT ?iri ?name ?date WHERE { OPTIONAL { ?iri schema:name ?name } OPTIONAL { ?iri schema:datePublished ?date } }",
         {"iri": ox.NamedNode(FILM)}),
        # Text that tries to escape its literal stays a literal.
        ("SELECT ?v WHERE { FILTER(isLiteral(?v) && LANG(?v) = 'en') }", {"v": ox.Literal('" } } ; DROP ALL ; # \\ \n\t\u00e9\u0001', language="en")}),
        ("SELECT ?v WHERE { FILTER(DATATYPE(?v) = <http://www.w3.org/2001/XMLSchema#gYear>) }", {"v": ox.Literal("1960", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))}),
    ],
)
def test_bindings_mean_the_same_as_embedded_substitutions(query: str, bindings: dict[str, ox.NamedNode | ox.Literal], local_store: EmbeddedStore, remote_services: Services) -> None:
    # The embedded backend (Oxigraph substitutions) wants bound variables projected.
    local = local_store.select(query, bindings)
    remote = remote_services.store.select(query, bindings)
    assert local and sorted(map(str, local)) == sorted(map(str, remote))


def test_rules_find_the_same_problems_remotely(local_store: EmbeddedStore, remote_services: Services) -> None:
    from filmgraph.truth.rules import run_rules

    local, remote = run_rules(local_store), run_rules(remote_services.store)
    assert local.findings and local.findings == remote.findings


RULES_DATA = Path(__file__).resolve().parents[1] / "data" / "rules"


def test_every_rule_finds_in_virtuoso_what_it_finds_embedded_on_each_rule_fixture(settings: Settings, virtuoso_server) -> None:  # type: ignore[no-untyped-def]
    """The rules' fixtures (each written to make its rule fire) loaded with ``filmgraph load`` into a real Virtuoso,
    one named graph each: every rule's findings there are the embedded store's, and the fixtures make findings."""
    from filmgraph.cli import main
    from filmgraph.truth.rules import run_rules

    server = virtuoso_server()
    fixtures = sorted(RULES_DATA.glob("*.ttl"))
    assert len(fixtures) >= 9
    found = 0
    for fixture in fixtures:
        graph = f"http://example.org/filmgraph-test/rules/{fixture.stem}"
        one = settings.replace(data=(fixture,), validate=False)
        assert main(["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", graph,
                     "--data", str(fixture), "--validate", "false"]) == 0
        local = EmbeddedStore.build(one)
        try:
            embedded = run_rules(local).findings
        finally:
            local.close()
        remote = run_rules(RemoteStore(server.query_url, settings.base_iri, timeout=60, graph=graph)).findings
        assert remote == embedded, fixture.name
        found += len(embedded)
    assert found > 0


def test_the_remote_index_keeps_the_rules_findings_made_at_startup(local_store: EmbeddedStore, remote_services: Services) -> None:
    """Run once with the index, under its own limit: pages read them, as from a pre-built store's index."""
    from filmgraph.truth.rules import run_rules

    kept = remote_services.index.report()
    assert kept is not None and remote_services.index.has_findings
    assert kept.findings == run_rules(local_store).findings
    assert len(kept.errors) == 6  # four timings, and entries 2 and 3 depicting the first crewed flight (1961) as past


def test_dump_stream_is_isomorphic_and_pages_give_the_same_graph(local_store: EmbeddedStore, remote_services: Services) -> None:
    from filmgraph import formats as F
    from filmgraph.site.dump import write_dump

    remote = remote_services.store
    dumped = b"".join(write_dump(remote, F.TURTLE))
    expected = to_rdflib(list(local_store.triples()))
    assert isomorphic(graph(dumped), expected)
    assert isinstance(remote, RemoteStore)
    assert isomorphic(to_rdflib(list(remote.triples_paged(page=300))), expected)


# -- the store interface: errors --------------------------------------------


def test_client_syntax_error_is_bad_query_but_a_named_query_error_is_ours(remote_services: Services) -> None:
    store = remote_services.store
    assert isinstance(store, RemoteStore)
    with pytest.raises(BadQuery):
        store.run_job(Job("SELECT ?x WHERE { ?x ?y }", "json", 10, BASE), 5.0)
    with pytest.raises(FilmgraphError) as info:
        store.select("SELECT ?x WHERE { ?x ?y }")
    assert info.value.status == 500 and not isinstance(info.value, BadQuery)


def test_slow_named_query_times_out(remote_settings: Settings) -> None:
    store = RemoteStore(remote_settings.store_url, BASE, timeout=0.5, graph=remote_settings.store_graph)
    with pytest.raises(QueryTimeout, match="query_timeout"):
        store.select(SLOW)


def test_unreachable_store_raises_unavailable(unused_url: str) -> None:
    store = RemoteStore(unused_url, BASE, timeout=2)
    with pytest.raises(Unavailable, match="unreachable"):
        len(store)
    with pytest.raises(Unavailable):
        list(store.triples())


# -- what other areas serve, through the remote store (when they exist) -------


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _get(server, path: str, accept: str) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(server.url + path, headers={"Accept": accept}, timeout=60)


PAGES = ["film/silent-star-1960", "mission/luna-2", "claim/cosmos-is-calling-1965-first-psychological", "year/1959"]


@pytest.mark.skipif(not _has("filmgraph.web.pages"), reason="resource pages are not built yet")
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("ext", "fmt"), [("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt")])
def test_resource_documents_are_isomorphic_remotely(page: str, ext: str, fmt: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = _get(live_server, f"/{page}.{ext}", "*/*"), _get(remote_server, f"/{page}.{ext}", "*/*")
    assert local.status_code == remote.status_code == 200
    g_local, g_remote = graph(local.content, fmt), graph(remote.content, fmt)
    assert len(g_local) > 0
    assert isomorphic(g_local, g_remote), differences(g_local, g_remote)


@pytest.mark.skipif(not _has("filmgraph.web.pages"), reason="resource pages are not built yet")
@pytest.mark.parametrize("path", ["/", "/film/", "/film/silent-star-1960.html", "/mission/luna-2.html"])
def test_html_pages_are_the_same_remotely(path: str, live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = _get(live_server, path, "text/html"), _get(remote_server, path, "text/html")
    assert local.status_code == remote.status_code == 200
    assert remote.text.replace(remote_server.url, "") == local.text.replace(live_server.url, "")


@pytest.mark.skipif(not _has("filmgraph.web.pages"), reason="resource pages are not built yet")
def test_unknown_resource_is_404_remotely_too(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = _get(live_server, "/film/no-such-film.ttl", "*/*"), _get(remote_server, "/film/no-such-film.ttl", "*/*")
    assert local.status_code == remote.status_code == 404


@pytest.mark.skipif(not _has("filmgraph.web.ontology"), reason="the ontology pages are not built yet")
def test_ontology_is_isomorphic_remotely(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = _get(live_server, "/ontology.ttl", "*/*"), _get(remote_server, "/ontology.ttl", "*/*")
    assert local.status_code == remote.status_code == 200
    assert isomorphic(graph(local.content), graph(remote.content))


@pytest.mark.skipif(not _has("filmgraph.web.dumps"), reason="dumps are not built yet")
def test_turtle_dump_is_isomorphic_remotely(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    from filmgraph import formats as F
    from filmgraph.site.dump import dataset_downloads

    name = next(d.filename for d in dataset_downloads() if d.format is F.TURTLE and not d.filename.endswith(".gz"))
    local, remote = _get(live_server, f"/dumps/{name}", "*/*"), _get(remote_server, f"/dumps/{name}", "*/*")
    assert local.status_code == remote.status_code == 200
    assert isomorphic(graph(local.content), graph(remote.content))


@pytest.mark.skipif(not _has("filmgraph.web.dataset"), reason="the dataset description is not built yet")
def test_dataset_description_is_isomorphic_remotely(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    local, remote = _get(live_server, "/dataset", "text/turtle"), _get(remote_server, "/dataset", "text/turtle")
    assert local.status_code == remote.status_code == 200
    g_local = graph(local.text.replace(live_server.url, "http://host"))
    g_remote = graph(remote.text.replace(remote_server.url, "http://host"))
    # When each site read its data, and the byte size of a dump (its blank node
    # labels and triple order are the store's), are not what the data says.
    for g in (g_local, g_remote):
        for p in (rdflib.DCTERMS.created, rdflib.DCTERMS.modified, rdflib.DCAT.byteSize):
            g.remove((None, p, None))
    assert isomorphic(g_local, g_remote), differences(g_local, g_remote)


RECONCILE_QUERIES = {
    "q0": {"query": "The Silent Star"},
    "q1": {"query": "Nebo zovyot"},
    "q2": {"query": "Luna 2"},
    "q3": {"query": "sky calls", "limit": 3},
}


@pytest.mark.skipif(not _has("filmgraph.reconcile.service"), reason="the reconciliation service is not built yet")
def test_reconciliation_service_finds_the_same_candidates_through_both_backends(local_store: EmbeddedStore, remote_services: Services) -> None:
    from filmgraph.reconcile.service import ReconcileService

    local = ReconcileService(local_store).reconcile_v02(RECONCILE_QUERIES)
    remote = ReconcileService(remote_services.store).reconcile_v02(RECONCILE_QUERIES)
    assert local["q0"]["result"] and local == remote


@pytest.mark.skipif(not _has("filmgraph.web.reconcile"), reason="the reconciliation service is not built yet")
def test_reconciliation_finds_the_same_candidates_remotely(live_server, remote_server) -> None:  # type: ignore[no-untyped-def]
    def candidates(server) -> dict[str, object]:  # type: ignore[no-untyped-def]
        r = requests.post(server.url + "/reconcile", data={"queries": json.dumps(RECONCILE_QUERIES)}, timeout=60)
        assert r.status_code == 200
        return r.json()  # type: ignore[no-any-return]

    assert candidates(live_server) == candidates(remote_server)


def test_remote_answers_carry_no_etag(remote_server) -> None:  # type: ignore[no-untyped-def]
    """The remote store may be reloaded behind filmgraph's back: its answers get no validator, and no 304."""
    r = sparql(remote_server, "ASK { ?s ?p ?o }")
    assert r.status_code == 200 and r.json()["boolean"] is True
    assert "ETag" not in r.headers
    again = requests.get(remote_server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"If-None-Match": "*"}, timeout=60)
    assert again.status_code == 200



def test_a_remote_store_is_indexed_and_counted_past_the_clients_time_limit(settings: Settings, oxigraph: OxigraphServer, local_store: EmbeddedStore, serve_app) -> None:  # type: ignore[no-untyped-def]
    """Indexing, its COUNT included, has a limit of its own: a 27 M-triple Oxigraph counts in more than a client's 10 s.

    Here a loopback proxy makes the store's triple COUNT take 1.5 s, past a client limit of 1 s:
    filmgraph still starts, and the service description shows the count its index was built from.
    """
    proxy = _slow_proxy(oxigraph, "COUNT(*) AS ?n) WHERE { ?s ?p ?o }", 1.5)
    tight = settings.replace(store_url=proxy.url + "/query", query_timeout=1.0)
    try:
        svc = Services.build(tight)
        try:
            with pytest.raises((QueryTimeout, Unavailable)):
                svc.store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")  # the client's limit does bite
            assert svc.index.triples == len(local_store)
            assert svc.triples == len(local_store)
            server = serve_app(create_app(tight, svc))
            described = requests.get(server.url + "/sparql", headers={"Accept": "application/n-triples"}, timeout=60)
            assert described.status_code == 200
            assert f'"{len(local_store)}"^^<http://www.w3.org/2001/XMLSchema#integer>' in described.text
        finally:
            svc.close()
    finally:
        proxy.close()


def _slow_proxy(oxigraph: OxigraphServer, text: str, seconds: float):  # type: ignore[no-untyped-def]
    """A loopback proxy to the Oxigraph server that holds every query containing ``text`` for ``seconds``."""
    import urllib.parse
    import urllib.request

    from ..loopback import Answer, Hit, Loopback

    def forward(hit: Hit) -> Answer:
        if text in urllib.parse.unquote_plus(hit.body.decode()):
            time.sleep(seconds)
        forwarded = urllib.request.Request(oxigraph.query_url, data=hit.body, method=hit.method,
                                           headers={k: v for k, v in hit.headers.items() if k in ("content-type", "accept")})
        with urllib.request.urlopen(forwarded, timeout=60) as r:
            return Answer(r.status, {"Content-Type": r.headers["Content-Type"]}, r.read())

    return Loopback(forward)


def test_a_rule_slower_than_its_limit_is_left_out_of_the_remote_report(settings: Settings, oxigraph: OxigraphServer, local_store: EmbeddedStore,
                                                                      monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """Startup runs each rule once under its own limit; one that the store cannot answer in time is left out, and said so.

    No page runs the rules afterwards: the report lists the rules that ran, with all their findings.
    """
    from filmgraph.site import remote_index as services_module
    from filmgraph.truth.rules import run_rules

    monkeypatch.setattr(services_module, "RULE_QUERY_TIMEOUT", 1.0)  # the limit, shortened for the test
    proxy = _slow_proxy(oxigraph, "Year out of range", 3.0)  # the rule's own header comment travels with it
    try:
        svc = Services.build(settings.replace(store_url=proxy.url + "/query"))
        try:
            report = svc.report()
            names = [r.name for r in report.rules]
            assert "year-out-of-range" not in names and len(names) == len(run_rules(local_store).rules) - 1
            expected = [f for f in run_rules(local_store).findings if f.rule != "year-out-of-range"]
            assert list(report.findings) == expected and len(report.errors) == 6  # 4 timings, 2 depictions as past
            assert "rule year-out-of-range is left out of the consistency report" in capfd.readouterr().err
            client = create_app(svc.settings, svc).test_client()
            home = client.get("/")
            assert home.status_code == 200 and f"Found by {len(names)} rules" in home.get_data(as_text=True)
        finally:
            svc.close()
    finally:
        proxy.close()


def test_a_long_streamed_answer_of_our_own_stops_at_the_limit(remote_settings: Settings) -> None:
    """The limit of the site's own queries (a rule's, the index's) bounds the whole answer: a query that starts
    answering at once and streams for long (every pair of triples: millions of rows) stops there too."""
    import time

    store = RemoteStore(remote_settings.store_url, BASE, timeout=0.5, graph=remote_settings.store_graph).limited(0.5, "a test's limit")
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="a test's limit"):
        store.select("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }")
    assert time.monotonic() - started < 30  # stopped near the limit, not after the millions of rows
