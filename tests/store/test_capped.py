"""Reading an answer whole in parts from a store that caps its answers (filmgraph.store.capped), against the engine.

The store here is Oxigraph's own engine behind a cap: each query's answer is cut at ``cap`` rows, as
Virtuoso's ``ResultSetMaxRows`` cuts it, and says whether it was cut. The parts are the engine's answers
to the rewritten queries (the MD5 filters run in the engine); the oracle is the engine's whole answer to
the query, with no cap. Hypothesis makes the data: IRIs, literals and blank nodes, subjects with many
values, values shared by many subjects.
"""

from __future__ import annotations

import collections

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmgraph.core.errors import FilmgraphError
from filmgraph.store.capped import read_in_parts

P = ox.NamedNode("https://example.org/p")
QUERY = "PREFIX ex: <https://example.org/>\n# a comment\nSELECT ?s ?o WHERE { ?s ex:p ?o }"

subjects = st.one_of(st.integers(0, 300).map(lambda i: ox.NamedNode(f"https://example.org/s{i}")),
                     st.integers(0, 40).map(lambda i: ox.BlankNode(f"b{i}")))
objects = st.one_of(st.integers(0, 300).map(lambda i: ox.Literal(str(i))),
                    st.integers(0, 20).map(lambda i: ox.NamedNode(f"https://example.org/o{i}")),
                    st.text(max_size=5).map(ox.Literal))


def _capped(store: ox.Store, cap: int, asked: list[str]):  # type: ignore[no-untyped-def]
    """The engine with a row cap: at most ``cap`` rows of an answer, and whether it cut them."""
    def select(query: str) -> tuple[list[dict[str, ox.Term]], bool]:
        asked.append(query)
        solutions = store.query(query)
        names = [v.value for v in solutions.variables]
        rows = []
        for sol in solutions:
            rows.append({n: sol[n] for n in names if sol[n] is not None})
            if len(rows) > cap:
                return rows[:cap], True
        return rows, False
    return select


def _key(row: dict[str, ox.Term]) -> tuple[str, ...]:
    return tuple(sorted((k, str(v)) for k, v in row.items()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(subjects, objects), min_size=0, max_size=400), st.integers(2, 50))
def test_the_parts_are_the_whole_answer(pairs: list[tuple[ox.Term, ox.Term]], cap: int) -> None:
    store = ox.Store()
    store.extend([ox.Quad(s, P, o) for s, o in pairs])
    whole = collections.Counter(_key({"s": sol["s"], "o": sol["o"]}) for sol in store.query(QUERY))
    asked: list[str] = []
    try:
        got = collections.Counter(_key(r) for r in read_in_parts(_capped(store, cap, asked), QUERY, cap, ["s", "o"], sum(whole.values())))
    except FilmgraphError as exc:
        # Only when more than ``cap`` rows have a blank subject and one same object: no value tells them apart.
        blank = collections.Counter(str(o) for s, o in set(pairs) if isinstance(s, ox.BlankNode))
        assert max(blank.values()) > cap, exc
        return
    assert got == whole
    assert len(asked) == len(set(asked))  # no part asked twice


def test_a_count_that_differs_from_the_rows_read_is_an_error() -> None:
    store = ox.Store()
    store.extend([ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), P, ox.Literal(str(i))) for i in range(30)])
    with pytest.raises(FilmgraphError, match="changed while it was read"):
        list(read_in_parts(_capped(store, 10, []), QUERY, 10, ["s", "o"], 31))
