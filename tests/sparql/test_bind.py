"""Bound values as SPARQL text for a remote store: where the VALUES block goes, what is refused."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from filmgraph.core.errors import FilmgraphError
from filmgraph.sparql.bind import bind, sparql_term, where_group_start

FILM = "https://w3id.org/filmgraph/film/silent-star-1960"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { VALUES"),
        ("SELECT (EXISTS { ?s ?p ?o } AS ?e) { ?s ?p ?o }", "AS ?e) { VALUES"),
        ("CONSTRUCT { ?iri ?p ?o } WHERE { ?iri ?p ?o }", "WHERE { VALUES"),
        ("PREFIX a: <http://a/> ASK FROM <http://g> { ?iri ?p '{' }", "<http://g> { VALUES"),
        ("# SELECT { \nASK { ?iri ?p ?o }", "ASK { VALUES"),
    ],
)
def test_values_open_the_where_group(query: str, expected: str) -> None:
    assert expected in bind(query, {"iri": ox.NamedNode(FILM)})


@pytest.mark.parametrize(
    "query",
    ["CONSTRUCT WHERE { ?iri ?p ?o }", "DESCRIBE ?iri", "SELECT ?x WHERE { SELECT ?x WHERE { ?x ?p ?iri } } # the end"],
)
def test_values_trail_where_no_group_can_take_them(query: str) -> None:
    assert where_group_start(query) is None
    text = bind(query, {"iri": ox.NamedNode(FILM)})
    assert text.startswith(query) and text.rstrip().endswith(f"VALUES (?iri) {{ (<{FILM}>) }}")


@pytest.mark.parametrize("term", [ox.BlankNode("b0"), ox.Triple(ox.NamedNode(FILM), ox.NamedNode(FILM), ox.NamedNode(FILM))])
def test_terms_that_cannot_travel_are_refused(term: ox.BlankNode | ox.Triple) -> None:
    with pytest.raises(FilmgraphError):
        sparql_term(term)  # type: ignore[arg-type]


def test_bad_variable_names_are_refused() -> None:
    with pytest.raises(FilmgraphError):
        bind("ASK {}", {"x) {} } DROP ALL #": ox.NamedNode(FILM)})
