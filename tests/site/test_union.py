"""The union of every resource document (and the ontology document) equals the dump, in every format."""

from __future__ import annotations

import pytest
import rdflib
import rdflib.compare
from pyoxigraph import NamedNode

from filmgraph import formats as F
from filmgraph.core import iris
from filmgraph.site.services import Services

BASE = "https://w3id.org/filmgraph/"
FORMATS = [(F.TURTLE, "turtle", "filmgraph.ttl"), (F.JSONLD, "json-ld", "filmgraph.jsonld"), (F.NTRIPLES, "nt", "filmgraph.nt")]


def _document_paths(services: Services) -> set[tuple[str, str]]:
    """(kind, id) of every document that some IRI of the data dereferences to."""
    paths = set()
    for t in services.store.triples():
        for term in (t.subject, t.object):
            if isinstance(term, NamedNode) and term.value.startswith(BASE):
                name = iris.split(iris.document_iri(term.value), BASE)
                if name is not None:
                    paths.add((name.kind, name.id))
    return paths


@pytest.fixture(scope="module")
def roomy(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """An app whose row cap holds the whole dataset, so the endpoint-side reference is complete."""
    from filmgraph.store.embedded import EmbeddedStore
    from filmgraph.web import create_app

    roomy_settings = settings.replace(max_rows=1_000_000)
    services = Services.build(roomy_settings, EmbeddedStore.build(roomy_settings, tmp_path_factory.mktemp("union") / "s"))
    yield create_app(roomy_settings, services).test_client(), services
    services.close()


@pytest.mark.parametrize(("fmt", "parser", "dump"), FORMATS, ids=[f[0].name for f in FORMATS])
def test_union_of_resource_documents_equals_the_dump(roomy, fmt: F.Format, parser: str, dump: str) -> None:
    client, services = roomy
    union = rdflib.Graph()
    documents = sorted(_document_paths(services))
    for kind, id_ in documents:
        resp = client.get(iris.document_path(kind, id_, fmt.extension))
        assert resp.status_code == 200, (kind, id_, resp.status_code)
        union.parse(data=resp.data, format=parser)
    union.parse(data=client.get(f"/ontology.{fmt.extension}").data, format=parser)
    # The theme scheme {base}theme/ is described by the themes' collection document.
    union.parse(data=client.get("/theme/", headers={"Accept": fmt.media_type}).data, format=parser)
    with client.get(f"/dumps/{dump}") as resp:  # a file response: close it
        whole = rdflib.Graph().parse(data=resp.data, format=parser)
    assert len(documents) > 100
    ground = lambda g: {t for t in g if not any(isinstance(x, rdflib.BNode) for x in t)}  # noqa: E731
    assert ground(whole) == ground(union), sorted(ground(whole) ^ ground(union))[:5]
    assert rdflib.compare.isomorphic(union, whole)
