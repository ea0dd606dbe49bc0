"""SPARQLWrapper, used as a user would, in every return format it offers, by GET and POST."""

from __future__ import annotations

import pytest
import rdflib
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, GET, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

FG = "https://w3id.org/filmgraph/ontology#"
SELECT = f"SELECT ?f ?t WHERE {{ ?f a <{FG}FilmRecord> ; <https://schema.org/name> ?t }}"
ASK = f"ASK {{ ?f a <{FG}FilmRecord> }}"
CONSTRUCT = f"CONSTRUCT WHERE {{ ?f a <{FG}FilmRecord> ; <https://schema.org/name> ?t }}"
DESCRIBE = "DESCRIBE <https://w3id.org/filmgraph/film/sky-beckons-1959>"


def wrapper(server, method: str, fmt: str) -> SPARQLWrapper:  # type: ignore[no-untyped-def]
    sw = SPARQLWrapper(server.url + "/sparql")
    sw.setMethod(method)
    sw.setReturnFormat(fmt)
    sw.setTimeout(30)
    return sw


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_select_in_every_format(live_server, method: str, fmt: str) -> None:
    sw = wrapper(live_server, method, fmt)
    sw.setQuery(SELECT)
    result = sw.query().convert()
    if fmt == JSON:
        assert len(result["results"]["bindings"]) == 10
    elif fmt == XML:
        assert len(result.getElementsByTagName("result")) == 10
    else:
        text = result.decode() if isinstance(result, bytes) else result
        assert len(text.strip().splitlines()) == 11
        assert "The Silent Star" in text


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSON, XML])
def test_ask_in_every_format(live_server, method: str, fmt: str) -> None:
    sw = wrapper(live_server, method, fmt)
    sw.setQuery(ASK)
    result = sw.query().convert()
    if fmt == JSON:
        assert result["boolean"] is True
    else:
        assert result.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, JSONLD, XML])
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_graph_queries_in_every_format(live_server, method: str, fmt: str, query: str) -> None:
    sw = wrapper(live_server, method, fmt)
    sw.setQuery(query)
    result = sw.query().convert()
    if isinstance(result, bytes):
        parser = {TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt]
        result = rdflib.Graph().parse(data=result, format=parser)
    assert isinstance(result, rdflib.Graph)
    if query is CONSTRUCT:
        assert len(result) == 20
    else:
        assert (rdflib.URIRef("https://w3id.org/filmgraph/film/sky-beckons-1959"), rdflib.URIRef("https://schema.org/name"), rdflib.Literal("The Sky Beckons", lang="en")) in result
