"""The embedded store: build, open, temporary copies, faults."""

from __future__ import annotations

import os

import pytest

from filmgraph.core.errors import InvalidData
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore


def test_a_forked_child_leaving_does_not_remove_the_temporary_store() -> None:
    store = EmbeddedStore.temporary_copy(Settings(validate=False))
    path = store.path
    assert path is not None and path.is_dir()
    pid = os.fork()
    if pid == 0:  # the child exits the way a recycled gunicorn worker does: running atexit handlers
        import atexit

        try:
            atexit._run_exitfuncs()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert path.is_dir()
    assert store.ask("ASK { ?s ?p ?o }")
    del store
    import gc

    gc.collect()
    assert not path.exists()


def test_prebuilt_store_opens_read_only_and_answers(tmp_path) -> None:
    EmbeddedStore.build(Settings(validate=False), tmp_path / "s")
    opened = EmbeddedStore.open(tmp_path / "s")
    assert len(opened) > 1000
    assert opened.ask("ASK { ?s a <https://w3id.org/filmgraph/ontology#FilmRecord> }")


def test_a_directory_without_the_marker_is_not_a_store(tmp_path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(InvalidData, match="not a filmgraph store"):
        EmbeddedStore.open(tmp_path / "x")


def test_building_over_a_non_empty_directory_is_refused(tmp_path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidData, match="not empty"):
        EmbeddedStore.build(Settings(validate=False), tmp_path / "s")
    assert (tmp_path / "s" / "keep.txt").read_text() == "mine"


def test_a_broken_data_file_leaves_no_half_built_store(tmp_path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<https://w3id.org/filmgraph/film/x> <https://schema.org/name> \"cut")
    with pytest.raises(InvalidData, match="bad.ttl"):
        EmbeddedStore.build(Settings(validate=False, data=(bad,)), tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_bound_values_give_what_substitutions_give_for_every_kind_of_term() -> None:
    """Bindings travel as a VALUES block (Oxigraph then plans from them); blank nodes stay substitutions."""
    import pyoxigraph as ox

    from filmgraph.sparql.query import prefixed_query

    store = EmbeddedStore.build(Settings(validate=False))
    base = store.base_iri
    record = ox.NamedNode(f"{base}film/silent-star-1960")
    blank = next(t.object for t in store.oxigraph.quads_for_pattern(None, None, None) if isinstance(t.object, ox.BlankNode))
    cases = [
        (prefixed_query("home-record-claims", base), {"record": record}),
        (prefixed_query("home-records", base), {"record": record}),
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"o": ox.Literal("The Silent Star", language="en")}),
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"o": blank}),
    ]
    for text, bindings in cases:
        plain = [tuple(row) for row in store.oxigraph.query(text, substitutions={ox.Variable(k): v for k, v in bindings.items()})]
        assert sorted(map(str, (tuple(row) for row in store.query(text, bindings)))) == sorted(map(str, plain)), text  # type: ignore[attr-defined]
    assert store.select(prefixed_query("home-record-claims", base), {"record": record})
    store.close()
