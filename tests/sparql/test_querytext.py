"""The lexical look at queries: form, updates, SERVICE, never fooled by strings, IRIs or comments."""

from __future__ import annotations

import pytest

from filmgraph.core.errors import BadQuery, QueryRefused
from filmgraph.sparql.querytext import check_services, shape


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("prefix ex: <http://e/> base <http://b/> ask { ex:a ?p ?o }", "ASK"),
        ("# a comment with SELECT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://e/x>", "DESCRIBE"),
        ("PREFIX select: <http://e/select#> SELECT ?x { ?x select:a 1 }", "SELECT"),
    ],
)
def test_form_is_found(text: str, form: str) -> None:
    assert shape(text).form == form


@pytest.mark.parametrize(
    "text",
    ["INSERT DATA { <a:b> <a:b> <a:b> }", "PREFIX e: <http://e/> DELETE WHERE { ?s ?p ?o }", "LOAD <http://e/x>", "CLEAR ALL", "drop graph <a:b>", "WITH <a:g> DELETE {?s ?p ?o} WHERE {?s ?p ?o}"],
)
def test_updates_are_refused(text: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        shape(text)


def test_garbage_and_empty_are_bad_queries() -> None:
    with pytest.raises(BadQuery):
        shape("")
    with pytest.raises(BadQuery):
        shape("HELLO world")


def test_service_is_found_with_its_target() -> None:
    found = shape("SELECT * { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert found.services == ("http://127.0.0.1:9/sparql",)
    assert shape("select * { service ?x { ?s ?p ?o } }").services == ("?x",)


def test_service_words_inside_strings_iris_comments_and_names_are_not_calls() -> None:
    text = """SELECT * {  # SERVICE <http://x/> in a comment
      ?s <http://e/SERVICE> "SERVICE <http://y/>" ; ex:SERVICE ?service .
      FILTER(?o != '''SERVICE''')
    }"""
    assert shape(text).services == ()


def test_check_services_refuses_unless_allow_listed() -> None:
    found = shape("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused, match="outbound"):
        check_services(found, ())
    check_services(found, ("http://127.0.0.1:9/sparql",))
    with pytest.raises(QueryRefused):
        check_services(shape("SELECT * { SERVICE ?x { ?s ?p ?o } }"), ("http://127.0.0.1:9/sparql",))
