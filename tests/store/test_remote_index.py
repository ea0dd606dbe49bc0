"""A remote store's site index built once (``filmgraph build DIR --store-url``) and opened by ``serve --store-path DIR``.

Real stores on loopback (the Oxigraph server, Virtuoso), loaded with ``filmgraph
load``: the built index holds what a start-up index holds (resources, the rules'
findings), a process opens it without reading the store, and an index that no
longer describes its store (reloaded with other data, another store) is refused
with one line naming the command that rebuilds it.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from filmgraph.cli import main
from filmgraph.core.settings import SettingError, Settings
from filmgraph.site.remote_index import COUNT_CHECK_SECONDS, REMOTE_MARKER
from filmgraph.site.services import Services
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.store.index import INDEX_FILE
from filmgraph.store.load import put_default_graph
from filmgraph.truth.rules import run_rules
from filmgraph.store.remote import FINGERPRINT_SUBJECTS, SAMPLE, RemoteStore
from filmgraph.web import create_app

from ..oxigraph_server import OxigraphServer, oxigraph, oxigraph_server, unused_url  # noqa: F401  (fixtures)
from ..virtuoso_server import VirtuosoServer, virtuoso_command


@pytest.fixture(scope="module")
def local_store(settings: Settings) -> EmbeddedStore:
    """The shipped dataset in memory, as the embedded backend builds it."""
    return EmbeddedStore.build(settings)


def _build(tmp_path: Path, url: str, *extra: str) -> Path:
    target = tmp_path / "index"
    assert main(["build", str(target), "--store-url", url, "--quiet", *extra]) == 0
    return target


def test_a_built_remote_index_serves_the_rules_findings_without_running_them(tmp_path: Path, settings: Settings, oxigraph: OxigraphServer,
                                                                             local_store: EmbeddedStore) -> None:
    built = _build(tmp_path, oxigraph.query_url)
    marker = json.loads((built / REMOTE_MARKER).read_text())
    assert marker["triples"] == len(local_store) and marker["store_url"] == oxigraph.query_url and len(marker["fingerprint"]) == 32
    assert len(marker["fingerprint_subjects"]) == FINGERPRINT_SUBJECTS
    svc = Services.build(settings.replace(store_url=oxigraph.query_url, store_path=str(built)))
    try:
        assert svc.index.build_id == marker["build_id"] and not svc.index.temporary
        report = svc.report()
        assert report.findings and report.findings == run_rules(local_store).findings
        page = create_app(svc.settings, svc).test_client().get("/film/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "The Silent Star" in page.get_data(as_text=True)
    finally:
        svc.close()


def test_a_store_slow_to_count_is_checked_by_its_fingerprint_alone_at_start(tmp_path: Path, settings: Settings, oxigraph: OxigraphServer,
                                                                            capfd: pytest.CaptureFixture[str]) -> None:
    built = _build(tmp_path, oxigraph.query_url)
    marker = json.loads((built / REMOTE_MARKER).read_text())
    assert 0 <= marker["count_seconds"] <= COUNT_CHECK_SECONDS
    capfd.readouterr()
    Services.build(settings.replace(store_url=oxigraph.query_url, store_path=str(built))).close()
    assert f"matches the store ({marker['triples']} triples)" in capfd.readouterr().err
    # A store that took 30 s to count at build is not counted again by every process that starts.
    (built / REMOTE_MARKER).write_text(json.dumps({**marker, "count_seconds": 30.0}))
    Services.build(settings.replace(store_url=oxigraph.query_url, store_path=str(built))).close()
    err = capfd.readouterr().err
    assert "matches the store (its fingerprint; the count of" in err and "not re-checked at start: it took 30 s at build" in err


def test_a_virtuoso_index_is_built_with_its_graph_and_served_after_a_restart(tmp_path: Path, settings: Settings, local_store: EmbeddedStore) -> None:
    """Virtuoso picks other first rows after a restart: the fingerprint asks for the same subjects again, at a new address too."""
    if virtuoso_command() is None:
        pytest.skip("virtuoso-t is not installed (scripts/setup --test installs Debian's virtuoso-opensource)")
    location = tmp_path / "virtuoso"
    server = VirtuosoServer(location)
    try:
        assert main(["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", server.graph, "--quiet"]) == 0
        built = _build(tmp_path, server.query_url, "--store-graph", server.graph)
    finally:
        server.stop()
    marker = json.loads((built / REMOTE_MARKER).read_text())
    assert marker["triples"] == len(local_store) and marker["store_graph"] == server.graph
    again = VirtuosoServer(location)
    try:
        svc = Services.build(settings.replace(store_url=again.query_url, store_graph=again.graph, store_path=str(built)))
        try:
            assert svc.report().findings == run_rules(local_store).findings
            assert svc.triples == len(local_store)
        finally:
            svc.close()
    finally:
        again.stop()


def test_an_index_of_a_store_loaded_since_is_refused_naming_the_rebuild(tmp_path: Path, settings: Settings,
                                                                         oxigraph_server: Callable[..., OxigraphServer],
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    server = oxigraph_server()
    assert main(["load", "--into", server.query_url, "--quiet"]) == 0
    built = _build(tmp_path, server.query_url)
    serving = settings.replace(store_url=server.query_url, store_path=str(built))
    Services.build(serving).close()  # fresh: opens
    # Same number of triples, one of the store's first rows changed: the fingerprint sees it.
    store = RemoteStore(server.query_url, settings.base_iri)
    first = next(row for row in store.select(SAMPLE) if isinstance(row["s"], ox.NamedNode))
    triples = [t for t in store.triples() if (t.subject, t.predicate, t.object) != (first["s"], first["p"], first["o"])]
    triples.append(ox.Triple(first["s"], first["p"], ox.Literal("changed since the index was built")))  # type: ignore[arg-type]
    put_default_graph(server.store_url, triples, 60.0)
    with pytest.raises(SettingError, match="is stale") as info:
        Services.build(serving)
    assert "another fingerprint" in str(info.value) and f"filmgraph build {built}-new --store-url {server.query_url}" in str(info.value)
    # More triples now: the CLI stops with exit status 2 and one line saying what to rebuild, before binding a port.
    put_default_graph(server.store_url, [*triples, ox.Triple(ox.NamedNode("https://example.org/x"), ox.NamedNode("https://example.org/p"), ox.Literal("1"))], 60.0)
    capsys.readouterr()
    assert main(["serve", "--store-url", server.query_url, "--store-path", str(built), "--port", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "setting store_path" in err[0] and "is stale" in err[0] and f"{len(triples)} triples then, {len(triples) + 1} now" in err[0] and "filmgraph build" in err[0]


def test_an_index_of_another_store_or_an_embedded_store_is_refused(tmp_path: Path, settings: Settings, oxigraph: OxigraphServer,
                                                                   oxigraph_server: Callable[..., OxigraphServer]) -> None:
    built = _build(tmp_path, oxigraph.query_url)
    other = oxigraph_server()
    with pytest.raises(SettingError, match="the index is stale"):  # an empty store at another address
        Services.build(settings.replace(store_url=other.query_url, store_path=str(built)))
    with pytest.raises(SettingError, match="indexes another dataset: store_graph ''"):
        Services.build(settings.replace(store_url=oxigraph.query_url, store_graph="https://example.org/g", store_path=str(built)))
    embedded = tmp_path / "embedded"
    assert main(["build", str(embedded), "--quiet"]) == 0
    with pytest.raises(SettingError, match="a pre-built embedded store"):
        Services.build(settings.replace(store_url=oxigraph.query_url, store_path=str(embedded)))


def test_build_refuses_a_non_empty_directory_and_leaves_nothing_when_the_store_is_down(tmp_path: Path, unused_url: str,
                                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert main(["build", str(full), "--store-url", unused_url, "--quiet"]) == 1  # as an embedded build over files
    assert "not empty" in capsys.readouterr().err
    assert main(["build", str(tmp_path / "new"), "--store-url", unused_url, "--quiet"]) == 1
    assert "unreachable" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def _contents(index: Path) -> dict[str, collections.Counter[tuple[object, ...]]]:
    """The index's tables as multisets of rows, each resource id written as its IRI (ids follow the order the store gave)."""
    import sqlite3

    db = sqlite3.connect(f"file:{index / INDEX_FILE}?mode=ro", uri=True)
    try:
        iri = dict(db.execute("SELECT id, iri FROM resource"))
        tables = {
            "resource": "SELECT iri, kind, label, lang, sort_key, year, date, position, status FROM resource",
            "member": "SELECT type, sort_key, iri, resource FROM member",
            "label": "SELECT resource, text, lang, source, weight, plain, loose FROM label",
            "identifier": "SELECT scheme, value, resource FROM identifier",
            "dated": "SELECT type, date, iri, resource FROM dated",
            "hash_child": "SELECT parent, iri FROM hash_child",
            "count": "SELECT name, n FROM count",
            "finding": "SELECT rule, label, severity, concerns, related, message FROM finding",
        }
        out = {}
        for name, sql in tables.items():
            rows = db.execute(sql).fetchall()
            if name in ("member", "dated"):
                rows = [(*r[:3], iri[r[3]]) for r in rows]
            elif name in ("label", "identifier"):
                at = 0 if name == "label" else 2
                rows = [tuple(iri[v] if i == at else v for i, v in enumerate(r)) for r in rows]
            out[name] = collections.Counter(rows)
        return out
    finally:
        db.close()


def test_a_store_that_caps_its_answers_is_read_whole_in_parts(tmp_path: Path, settings: Settings, local_store: EmbeddedStore) -> None:
    """Virtuoso set to answer at most 20 rows: every property with more values is read in hash parts, some of them
    split again, and the index holds exactly what the index of the same store without a cap holds."""
    if virtuoso_command() is None:
        pytest.skip("virtuoso-t is not installed (scripts/setup --test installs Debian's virtuoso-opensource)")
    expected = sorted(map(repr, local_store.select("SELECT ?s ?t WHERE { ?s a ?t FILTER(isIRI(?s)) }")))
    assert len(expected) > 100
    built = {}
    for name, cap in (("whole", 1_000_000), ("capped", 20)):
        server = VirtuosoServer(tmp_path / f"virtuoso-{name}", max_rows=cap)
        try:
            assert main(["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", server.graph, "--quiet"]) == 0
            store = RemoteStore(server.query_url, settings.base_iri, graph=server.graph)
            typed = "SELECT ?s ?t WHERE { ?s a ?t FILTER(isIRI(?s)) }"
            types, said, _ = store._select(typed)  # one answer, as the store gives it: cut at its cap, and it says so
            assert (len(types), said) == ((20, 20) if cap == 20 else (len(expected), None))
            assert sorted(map(repr, store.select(typed))) == expected  # the store interface reads it whole
            built[name] = _build(tmp_path / name, server.query_url, "--store-graph", server.graph)
        finally:
            server.stop()
    whole, capped = _contents(built["whole"]), _contents(built["capped"])
    assert sum(whole["resource"].values()) > 100 and whole["finding"]
    assert capped == whole


def test_a_client_answer_the_store_cut_says_so(tmp_path: Path, settings: Settings, serve_app, local_store: EmbeddedStore) -> None:  # type: ignore[no-untyped-def]
    """Virtuoso set to answer at most 20 rows, filmgraph's max_rows above it: an answer Virtuoso cut is marked
    truncated (header and notice), naming the store's cap; one under the cap is not."""
    import requests

    if virtuoso_command() is None:
        pytest.skip("virtuoso-t is not installed (scripts/setup --test installs Debian's virtuoso-opensource)")
    server = VirtuosoServer(tmp_path / "virtuoso", max_rows=20)
    try:
        assert main(["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", server.graph, "--quiet"]) == 0
        svc = Services.build(settings.replace(store_url=server.query_url, store_graph=server.graph, max_rows=100))
        try:
            site = serve_app(create_app(svc.settings, svc))
            typed = "SELECT ?s ?t WHERE { ?s a ?t FILTER(isIRI(?s)) }"
            for accept in ("application/sparql-results+json", "application/sparql-results+xml"):
                r = requests.get(f"{site.url}/sparql", params={"query": typed}, headers={"Accept": accept}, timeout=30)
                assert r.status_code == 200 and r.headers["X-Result-Truncated"] == "true; limit=20; by=store"
                assert "truncated to 20 rows by the store's own row cap" in r.text
            body = requests.get(f"{site.url}/sparql", params={"query": typed}, headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
            assert len(body["results"]["bindings"]) == 20 and body["filmgraph"]["limit"] == 20
            few = requests.get(f"{site.url}/sparql", params={"query": typed + " LIMIT 5"}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
            assert few.status_code == 200 and "X-Result-Truncated" not in few.headers and len(few.json()["results"]["bindings"]) == 5
            assert len(local_store.select(typed)) > 20  # the whole answer is larger than the store's cap
        finally:
            svc.close()
    finally:
        server.stop()
