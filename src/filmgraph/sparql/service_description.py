"""The SPARQL 1.1 Service Description of the endpoint, as triples."""

from __future__ import annotations

import pyoxigraph as ox

from .. import formats as F
from ..core.namespaces import DCTERMS, RDF, RDFS, SD, VOID

ENTAILMENT_SIMPLE = "http://www.w3.org/ns/entailment/Simple"


def describe_service(endpoint: str, dataset_page: str, base_iri: str, triples: int) -> list[ox.Triple]:
    """Describe the endpoint at ``endpoint`` (its public URL) serving the dataset ``{base}dataset``."""
    svc = ox.NamedNode(endpoint)
    ds = ox.BlankNode("defaultDataset")
    graph = ox.BlankNode("defaultGraph")
    n = ox.NamedNode

    def t(s: object, p: str, o: object) -> ox.Triple:
        return ox.Triple(s, n(p), o)  # type: ignore[arg-type]

    out = [
        t(svc, RDF + "type", n(SD + "Service")),
        t(svc, SD + "endpoint", svc),
        t(svc, SD + "supportedLanguage", n(SD + "SPARQL11Query")),
        t(svc, SD + "defaultEntailmentRegime", n(ENTAILMENT_SIMPLE)),
        t(svc, SD + "defaultDataset", ds),
        t(svc, RDFS + "label", ox.Literal("filmgraph SPARQL endpoint", language="en")),
        t(svc, RDFS + "comment", ox.Literal(
            "Read-only SPARQL 1.1 Query endpoint. SERVICE, SPARQL Update and LOAD are refused; "
            "FROM and FROM NAMED select graphs of this dataset and never fetch a URL. "
            "Queries have a time limit and results a row cap; a truncated result says so.",
            language="en",
        )),
        t(ds, RDF + "type", n(SD + "Dataset")),
        t(ds, SD + "defaultGraph", graph),
        t(ds, DCTERMS + "source", n(base_iri + "dataset")),
        t(ds, RDFS + "seeAlso", n(dataset_page)),
        t(graph, RDF + "type", n(SD + "Graph")),
        t(graph, VOID + "triples", ox.Literal(str(triples), datatype=n("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    for f in (*F.RESULTS, *F.GRAPHS):
        assert f.oxigraph is not None
        out.append(t(svc, SD + "resultFormat", n(f.oxigraph.iri)))
    return out
