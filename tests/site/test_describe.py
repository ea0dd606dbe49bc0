"""The resource description service, the URL builder, the page model, the timeline and the embedded schema.org (no HTTP)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode

from filmgraph.site import describe, timeline
from filmgraph.core import iris
from filmgraph.core.errors import Gone, NotFound
from filmgraph.site.graphview import GraphView, format_date
from filmgraph.core.namespaces import prefixes
from filmgraph.site.schemaorg import SchemaOrg, script_json
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore

BASE = "https://w3id.org/filmgraph/"
FG = prefixes(BASE)["fg"]
RETIRED = Path(__file__).parents[1] / "data" / "pages" / "retired.ttl"


@pytest.fixture(scope="module")
def retired_services(settings: Settings) -> Iterator[Services]:
    """The shipped data plus two made-up retired ids, in memory."""
    s = settings.replace(data=(*settings.data, RETIRED), validate=False, query_workers=0)
    svc = Services.build(s, EmbeddedStore.build(s))
    yield svc
    svc.close()


class _Untouchable:
    """A query service whose store must not be asked anything."""

    class store:  # noqa: N801 - stands in for the store attribute
        base_iri = BASE

    def ask(self, *args: object) -> bool:
        raise AssertionError("the store was asked")

    select = construct = ask


# -- the URL builder ------------------------------------------------------------


def test_local_path_maps_canonical_iris_to_site_paths() -> None:
    assert iris.local_path(BASE + "film/silent-star-1960", BASE) == "/film/silent-star-1960"
    assert iris.local_path(BASE + "mission/luna-2#impact", BASE) == "/mission/luna-2#impact"
    assert iris.local_path(BASE + "ontology#Claim", BASE) == "/ontology#Claim"
    assert iris.local_path(BASE + "film/x", BASE, root="/app/") == "/app/film/x"
    assert iris.local_path("https://en.wikipedia.org/wiki/Luna_2", BASE) is None


def test_canonical_iri_inverts_local_path() -> None:
    for iri in (BASE + "film/a-1", BASE + "mission/luna-2#impact", BASE + "dataset", BASE + "theme/"):
        assert iris.canonical_iri(iris.local_path(iri, BASE, "/root") or "", BASE, "/root") == iri


def test_split_knows_kinds_ids_and_fragments() -> None:
    assert iris.split(BASE + "mission/luna-2#impact", BASE) == iris.LocalName("mission", "luna-2", "impact")
    assert iris.split(BASE + "film/Bad_Id", BASE) is None
    assert iris.split(BASE + "ontology#Claim", BASE) is None
    assert iris.split(BASE + "theme/", BASE) is None


# -- existence, retirement, documents --------------------------------------------


def test_resolve_finds_an_existing_resource(services: Services) -> None:
    found = describe.resolve(services.query, "film", "silent-star-1960")
    assert found.iri == BASE + "film/silent-star-1960"


def test_resolve_raises_not_found_for_an_unknown_id(services: Services) -> None:
    with pytest.raises(NotFound) as info:
        describe.resolve(services.query, "film", "no-such-film-1999")
    assert info.value.status == 404


@pytest.mark.parametrize("id", ["Silent-Star", "a b", "a_b", "ä", "", "x/y", "a.b"])
def test_malformed_ids_are_refused_without_touching_the_store(id: str) -> None:
    with pytest.raises(NotFound):
        describe.resolve(_Untouchable(), "film", id)  # type: ignore[arg-type]


def test_a_retired_id_raises_gone_with_its_replacement(retired_services: Services) -> None:
    with pytest.raises(Gone) as info:
        describe.resolve(retired_services.query, "film", "silent-star", root="/site")
    err = info.value
    assert err.status == 410
    assert err.context["replaced_by"] == BASE + "film/silent-star-1960"
    assert err.context["replaced_by_path"] == "/site/film/silent-star-1960"
    assert "before record ids carried the list's year" in err.message


def test_a_retired_id_without_replacement_still_raises_gone(retired_services: Services) -> None:
    with pytest.raises(Gone) as info:
        describe.resolve(retired_services.query, "mission", "luna-first")
    assert "replaced_by" not in info.value.context


def test_document_graph_holds_the_hash_children(services: Services) -> None:
    doc = describe.document_graph(services.query, BASE + "mission/luna-2", labels=False)
    subjects = {t.subject.value for t in doc}
    assert BASE + "mission/luna-2" in subjects
    assert BASE + "mission/luna-2#impact" in subjects
    impact = [t for t in doc if t.subject == NamedNode(BASE + "mission/luna-2#impact")]
    assert any(t.predicate.value == "https://schema.org/startDate" for t in impact)


def test_document_graph_without_labels_holds_only_its_own_triples(services: Services) -> None:
    iri = BASE + "film/silent-star-1960"
    doc = describe.document_graph(services.query, iri, labels=False)
    assert doc
    assert all(isinstance(t.subject, BlankNode) or iris.document_iri(t.subject.value) == iri for t in doc)


def test_document_graph_with_labels_names_what_it_links_to(services: Services) -> None:
    doc = GraphView(describe.document_graph(services.query, BASE + "film/silent-star-1960"))
    real = BASE + "film/der-schweigende-stern"
    assert doc.name(real) is not None
    assert FG + "Film" in doc.types(real)


def test_document_graphs_together_hold_every_triple_about_a_resource(services: Services) -> None:
    store = services.store
    expected = set()
    documents = set()
    for t in store.triples():
        if isinstance(t.subject, NamedNode) and iris.split(t.subject.value, BASE):
            expected.add(t)
            documents.add(iris.document_iri(t.subject.value))
    union = set()
    for doc in documents:
        union.update(describe.document_graph(services.query, doc, labels=False))
    assert expected <= union
    assert all(isinstance(t.subject, BlankNode) or iris.document_iri(t.subject.value) in documents for t in union)


def test_inbound_links_come_from_outside_the_document(services: Services) -> None:
    iri = BASE + "mission/vostok-1"
    links, truncated = describe.inbound_links(services.query, iri)
    assert not truncated
    subjects = {link.subject for link in links}
    assert BASE + "claim/dream-come-true-1960-months-after-gagarin" in subjects
    assert not any(s == iri or s.startswith(iri + "#") for s in subjects)


def test_inbound_links_reach_hash_children(services: Services) -> None:
    links, _ = describe.inbound_links(services.query, BASE + "mission/mariner-4")
    assert any(link.target == BASE + "mission/mariner-4#flyby" for link in links)


def test_the_index_knows_the_hash_children_that_point_at_a_resource(services: Services) -> None:
    # sputnik-1's events point at it with fg:eventOf; the mission does not point at them
    children = services.index.hash_children(BASE + "mission/sputnik-1")
    assert BASE + "mission/sputnik-1#reentry" in children
    assert all(c.startswith(BASE + "mission/sputnik-1#") for c in children)
    assert services.index.hash_children(BASE + "year/1960") == []


def test_pages_ask_the_index_for_hash_children_and_find_what_a_scan_finds(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year or the curated list is pointed at by every record: its page must not read all of that to find children."""
    asked: list[str] = []
    select = services.query.select
    monkeypatch.setattr(services.query, "select", lambda name, bindings=None: asked.append(name) or select(name, bindings))
    resource = describe.resolve(services.query, "mission", "sputnik-1")
    with_index = describe.describe(services.query, resource)
    assert "describe-children-in" not in asked
    assert any(t.subject.value == BASE + "mission/sputnik-1#reentry" for t in with_index.document)
    monkeypatch.setattr(services.query, "children_of", None)  # no index: the scan finds the same children
    scanned = describe.describe(services.query, resource)
    assert "describe-children-in" in asked
    assert (scanned.document, scanned.context, scanned.inbound) == (with_index.document, with_index.context, with_index.inbound)


def test_inbound_links_of_a_hub_are_capped_and_say_so(services: Services) -> None:
    links, truncated = describe.inbound_links(services.query, BASE + "work/curated-list", limit=3)
    assert len(links) == 3 and truncated
    assert all(link.names or link.types for link in links)  # names and types are joined to the capped list
    everything, cut = describe.inbound_links(services.query, BASE + "work/curated-list")
    assert not cut and len(everything) > 3


# -- the page model's pieces -------------------------------------------------------


def test_format_date_writes_date_times_plainly() -> None:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert format_date(Literal("1961-04-12T06:07:00Z", datatype=NamedNode(xsd + "dateTime"))) == "1961-04-12 06:07 UTC"
    assert format_date(Literal("1969-08", datatype=NamedNode(xsd + "gYearMonth"))) == "1969-08"


def test_timeline_is_well_formed_accessible_svg() -> None:
    marks = [
        timeline.Mark("r", "record", "A <Dream> & Co", "1960", "/film/r", ("contradicted",)),
        timeline.Mark("m", "mission", "Vostok 1", "1961-04-12T06:07:00Z", "/mission/m"),
        timeline.Mark("f", "film", "Aelita", "1924"),
    ]
    svg = timeline.render(marks, [timeline.Conflict("r", "m", "1961 > 1960")], "Title", "Description")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "timeline-title timeline-desc"
    assert root.find(f"{ns}title").text == "Title"  # type: ignore[union-attr]
    assert len(root.findall(f".//{ns}path[@class='conflict']")) == 1
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert "A <Dream> & Co" in labels
    assert "1925–1959" in labels  # the long empty stretch is folded


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"name": "</script><script>alert(1)</script>"})
    assert "</script" not in text
    assert "<" not in text


def test_schema_org_calls_a_record_a_creative_work_and_a_real_film_a_movie(services: Services) -> None:
    record = BASE + "film/silent-star-1960"
    film = BASE + "film/der-schweigende-stern"
    view = GraphView(describe.context_graph(services.query, record), describe.context_graph(services.query, film))
    schema = SchemaOrg(view, BASE, "http://localhost/x")
    as_record = schema.describe(record)
    assert as_record is not None and as_record["@type"] == "CreativeWork"
    assert as_record["about"]["@id"] == film
    as_film = schema.describe(film)
    assert as_film is not None and as_film["@type"] == "Movie"
    assert as_film["datePublished"] == "1960-02-26"
    assert as_film["director"][0]["name"] == "Kurt Maetzig"


def test_schema_org_does_not_say_a_title_match_is_about_the_film(services: Services) -> None:
    record = BASE + "film/dream-come-true-1960"
    view = GraphView(describe.context_graph(services.query, record))
    found = SchemaOrg(view, BASE, "http://localhost/x").describe(record)
    assert found is not None and "about" not in found
