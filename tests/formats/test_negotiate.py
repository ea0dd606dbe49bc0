"""Content negotiation: Accept with q-values and parameters, overrides, 406."""

from __future__ import annotations

import pytest

from filmgraph import formats as F
from filmgraph.core.errors import NotAcceptable
from filmgraph.formats.negotiate import choose


def test_empty_accept_gets_the_default() -> None:
    assert choose(None, F.RESULTS) is F.SPARQL_JSON
    assert choose("", F.GRAPHS) is F.TURTLE
    assert choose("*/*", F.GRAPHS) is F.TURTLE


def test_q_values_order_the_choice() -> None:
    assert choose("text/turtle;q=0.5, application/ld+json", F.GRAPHS) is F.JSONLD
    assert choose("text/csv;q=0.9, text/tab-separated-values", F.RESULTS) is F.TSV


def test_charset_parameter_does_not_prevent_a_match() -> None:
    assert choose("text/turtle; charset=utf-8", F.GRAPHS) is F.TURTLE
    assert choose("application/sparql-results+json;charset=UTF-8", F.RESULTS) is F.SPARQL_JSON


def test_generic_json_and_xml_map_by_query_kind() -> None:
    assert choose("application/json", F.RESULTS) is F.SPARQL_JSON
    assert choose("application/json", F.GRAPHS) is F.JSONLD
    assert choose("application/xml", F.RESULTS) is F.SPARQL_XML
    assert choose("application/xml", F.GRAPHS) is F.RDFXML


def test_browser_accept_prefers_html_among_documents() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert choose(browser, F.DOCUMENTS) is F.HTML


def test_override_wins_over_accept_and_tolerates_repeats() -> None:
    assert choose("text/turtle", F.RESULTS, ["json", "json", "json"]) is F.SPARQL_JSON
    assert choose("application/sparql-results+json", F.RESULTS, ["csv"]) is F.CSV
    assert choose(None, F.GRAPHS, ["xml"]) is F.RDFXML
    assert choose(None, F.GRAPHS, ["application/n-triples"]) is F.NTRIPLES


def test_unknown_override_is_406_listing_offered() -> None:
    with pytest.raises(NotAcceptable) as err:
        choose(None, F.RESULTS, ["png"])
    assert "application/sparql-results+json" in err.value.message
    assert err.value.status == 406


def test_no_acceptable_format_is_406_listing_offered() -> None:
    with pytest.raises(NotAcceptable) as err:
        choose("image/png", F.GRAPHS)
    assert set(err.value.offered) == {f.media_type for f in F.GRAPHS}


def test_repeated_and_long_accept_headers_choose_as_the_first_time() -> None:
    """Parsed Accept headers are remembered per offer: the same header chooses by what is offered, every time."""
    accept = "application/ld+json;q=0.8, text/turtle"
    long_accept = ", ".join(f"application/x-{n};q=0.1" for n in range(200)) + ", text/turtle"
    for _ in range(3):
        assert choose(accept, F.GRAPHS) is F.TURTLE
        assert choose(accept, (F.JSONLD, F.NTRIPLES)) is F.JSONLD
        assert choose(long_accept, F.GRAPHS) is F.TURTLE
        with pytest.raises(NotAcceptable):
            choose(accept, F.RESULTS)
        with pytest.raises(NotAcceptable):
            choose(long_accept, F.RESULTS)
