"""SELECT answers in SPARQL JSON written by the engine's serializer: the same bytes as filmgraph's writer, and
never past a limit (the row cap, max_result_bytes): over one, the answer is left to the writer that cuts it."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from filmgraph import formats as F
from filmgraph.sparql.execute import Job, run_job
from filmgraph.sparql.results import render_rows, rows_capped, whole_json

QUERIES = [
    "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    'SELECT ?x ?y ?z WHERE { VALUES (?x ?y ?z) { (1 "é\\u0001\\"\\\\ x ,{ [{"@fr-CA <http://a/b>) (UNDEF 2.5 "x"^^<http://a/t>) (true UNDEF UNDEF) } }',
    "SELECT (TRIPLE(<http://a/s>, <http://a/p>, <http://a/o>) AS ?t) {}",
    "SELECT * {}",
    "SELECT ?x { FILTER(false) }",
]


@pytest.fixture()
def store() -> ox.Store:
    st = ox.Store()
    for i in range(30):
        st.add(ox.Quad(ox.NamedNode(f"http://a/s{i}"), ox.NamedNode("http://a/name"), ox.Literal(f"film «{i}» \n\t", language="ru")))
        st.add(ox.Quad(ox.NamedNode(f"http://a/s{i}"), ox.NamedNode("http://a/year"), ox.Literal(str(1950 + i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))))
    return st


@pytest.mark.parametrize("query", QUERIES)
def test_the_engines_json_is_the_same_bytes_as_filmgraphs_writer(store: ox.Store, query: str) -> None:
    result = store.query(query)
    variables = [v.value for v in result.variables]  # type: ignore[union-attr]
    rows, truncated = rows_capped(result, len(variables), 10_000)  # type: ignore[arg-type]
    mine = render_rows(variables, rows, F.SPARQL_JSON, truncated, 10_000)
    whole = whole_json(store.query(query), 10_000)  # type: ignore[arg-type]
    assert whole is not None and whole.body == mine.body and not whole.truncated
    assert whole.count >= mine.count  # a value holding ",{" or "[{" may count as a row, never fewer


def test_over_the_row_cap_or_the_bytes_it_is_left_to_the_writer_that_cuts(store: ox.Store) -> None:
    query = "SELECT ?s ?n WHERE { ?s <http://a/name> ?n } ORDER BY ?s"
    assert whole_json(store.query(query), 29) is None  # type: ignore[arg-type]
    assert whole_json(store.query(query), 30) is not None  # type: ignore[arg-type]
    assert whole_json(store.query(query), 30, max_bytes=500) is None  # type: ignore[arg-type]
    cut = run_job(store, Job(query, "json", 29, "http://a/"))
    assert cut.truncated and cut.count == 29 and b'"truncated":true' in cut.body
    small = run_job(store, Job(query, "json", 100, "http://a/", max_bytes=1024))
    assert small.truncated and small.cut_by == "max_result_bytes" and len(small.body) <= 1024


def test_the_engines_ntriples_is_the_same_bytes_as_filmgraphs_and_held_to_the_limits(store: ox.Store) -> None:
    from filmgraph.sparql.results import render_graph, triples_capped, whole_ntriples

    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    triples, truncated = triples_capped(iter(store.query(query)), 10_000)  # type: ignore[call-overload]
    mine = render_graph(triples, F.NTRIPLES, "http://a/", truncated, 10_000)
    whole = whole_ntriples(store.query(query), 10_000)  # type: ignore[arg-type]
    assert whole is not None and whole.body == mine.body and whole.count == mine.count == 60
    assert b"@ru" in whole.body and b"\\n" in whole.body  # a language tag, a line end escaped inside a literal
    assert whole_ntriples(store.query(query), 59) is None  # type: ignore[arg-type]
    assert whole_ntriples(store.query(query), 60, max_bytes=1024) is None  # type: ignore[arg-type]
    cut = run_job(store, Job(query, "ntriples", 59, "http://a/"))
    assert cut.truncated and cut.count == 59 and cut.body.startswith(b"# result truncated to 59 triples")
