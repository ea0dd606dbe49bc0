"""``filmgraph load`` into a real Oxigraph server: validated, complete, idempotent."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from filmgraph.cli import main
from filmgraph.store.load import batches, discover_graph_store, update_in_batches, update_url
from filmgraph.core.progress import Progress
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.store.remote import RemoteStore

from ..oxigraph_server import OxigraphServer, oxigraph, oxigraph_server, unused_url  # noqa: F401  (fixtures)
from ..virtuoso_server import virtuoso_server  # noqa: F401  (fixture)

BASE = "https://w3id.org/filmgraph/"


@pytest.fixture(scope="module")
def local_store(settings: Settings) -> Iterator[EmbeddedStore]:
    """The shipped dataset in memory, built and validated as the embedded backend builds it."""
    store = EmbeddedStore.build(settings)
    yield store
    store.close()


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data="".join(f"{t} .\n" for t in triples), format="nt")


def test_load_puts_the_validated_dataset_into_the_remote_store(oxigraph: OxigraphServer, local_store: EmbeddedStore) -> None:
    remote = RemoteStore(oxigraph.query_url, BASE, timeout=30)
    assert len(remote) == len(local_store)
    assert isomorphic(to_rdflib(list(remote.triples())), to_rdflib(list(local_store.triples())))


def test_load_twice_gives_the_same_triples(oxigraph: OxigraphServer, local_store: EmbeddedStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--into", oxigraph.query_url]) == 0
    assert "Graph Store Protocol" in capsys.readouterr().out
    remote = RemoteStore(oxigraph.query_url, BASE, timeout=30)
    first = list(remote.triples())
    assert main(["load", "--into", oxigraph.query_url, "--graph-store", oxigraph.store_url]) == 0
    second = list(remote.triples())
    assert len(first) == len(second) == len(local_store) == len(RemoteStore(oxigraph.query_url, BASE))
    assert isomorphic(to_rdflib(first), to_rdflib(second))


def test_load_by_sparql_update_in_batches_is_idempotent(oxigraph_server, local_store: EmbeddedStore) -> None:  # noqa: F811
    server = oxigraph_server()
    triples = list(local_store.triples())
    for _ in range(2):
        # Small batches: blank nodes are shared by triples that must travel together.
        update_in_batches(server.update_url, triples, timeout=60, batch=97)
        remote = RemoteStore(server.query_url, BASE, timeout=30)
        got = list(remote.triples())
        assert len(got) == len(triples)
        assert isomorphic(to_rdflib(got), to_rdflib(triples))


def test_read_only_server_serves_a_loaded_store_and_refuses_a_load(oxigraph_server, local_store: EmbeddedStore, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    writer = oxigraph_server()
    assert main(["load", "--into", writer.query_url]) == 0
    writer.stop()  # one process at a time may hold the directory for writing
    reader = oxigraph_server(location=writer.location, read_only=True)
    assert isomorphic(to_rdflib(list(RemoteStore(reader.query_url, BASE).triples())), to_rdflib(list(local_store.triples())))
    capsys.readouterr()
    assert main(["load", "--into", reader.query_url]) == 1
    assert "refused" in capsys.readouterr().err


def test_batches_keep_the_triples_of_a_blank_node_together(local_store: EmbeddedStore) -> None:
    triples = list(local_store.triples())
    cut = list(batches(triples, 10))
    assert sorted(map(str, (t for b in cut for t in b))) == sorted(map(str, triples))
    home: dict[str, int] = {}
    for i, batch in enumerate(cut):
        for t in batch:
            for node in (t.subject, t.object):
                if isinstance(node, ox.BlankNode):
                    assert home.setdefault(node.value, i) == i, f"blank node {node} split across batches"


def test_graph_store_is_found_beside_the_query_endpoint(oxigraph: OxigraphServer) -> None:
    assert discover_graph_store(oxigraph.query_url) == oxigraph.store_url
    assert update_url(oxigraph.query_url) == oxigraph.update_url
    assert update_url("http://example.org/ds/sparql") == "http://example.org/ds/sparql"


def test_load_into_an_unreachable_store_says_so(capsys: pytest.CaptureFixture[str], unused_url: str) -> None:
    assert main(["load", "--into", unused_url]) == 1
    assert "unreachable" in capsys.readouterr().err


def test_load_without_a_target_is_a_usage_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FILMGRAPH_STORE_URL", raising=False)
    assert main(["load"]) == 2
    assert "--into" in capsys.readouterr().err


def test_load_says_how_far_it_is_and_quiet_says_nothing(oxigraph: OxigraphServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--into", oxigraph.query_url]) == 0
    err = capsys.readouterr().err
    assert "load: reading the dataset: done, " in err and " triples in " in err
    assert f"load: sending to {oxigraph.store_url}: done, " in err and " B in " in err
    assert main(["load", "--into", oxigraph.query_url, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_load_by_sparql_update_counts_the_triples_sent(oxigraph_server, local_store: EmbeddedStore) -> None:  # noqa: F811
    server = oxigraph_server()
    stream = io.StringIO()
    progress = Progress("load", stream=stream, live=False)
    update_in_batches(server.update_url, list(local_store.triples()), timeout=60, progress=progress)
    assert progress.done[-1].count == len(local_store)
    assert f"load: sending to {server.update_url}: done, {len(local_store):,} triples in " in stream.getvalue()


def test_load_into_virtuoso_goes_in_batches_into_its_graph_and_twice_gives_the_same_graph(
        virtuoso_server, local_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """Virtuoso stalls on one large graph store request: the load is a PUT and POSTs, blank nodes kept together, under digest auth."""
    from filmgraph.store import load as load_module

    from ..virtuoso_server import GRAPH

    monkeypatch.setattr(load_module, "GSP_BATCH", 300)  # the shipped dataset in eight requests
    server = virtuoso_server()
    command = ["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", GRAPH, "--quiet"]
    for _ in range(2):
        assert main(command) == 0
        out = capsys.readouterr().out
        assert "PUT, then POSTs of 300 triples" in out and "dba:" not in out and f"holds {len(local_store)} triples" in out
        remote = RemoteStore(server.query_url, local_store.base_iri, graph=GRAPH)
        assert isomorphic(to_rdflib(list(remote.triples())), to_rdflib(list(local_store.triples())))
