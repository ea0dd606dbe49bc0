"""Resource pages over HTTP: 303 from things to documents, documents in four formats, 304, 404, 410, HTML content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic
from pyoxigraph import NamedNode

from filmgraph import formats as F
from filmgraph.core import iris
from filmgraph.core.namespaces import prefixes
from filmgraph.sparql.query import QueryService
from filmgraph.truth.rules import run_rules
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..htmltree import Element, parse

BASE = "https://w3id.org/filmgraph/"
FG = prefixes(BASE)["fg"]
RETIRED = Path(__file__).parents[1] / "data" / "pages" / "retired.ttl"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def html_of(client, path: str) -> Element:  # type: ignore[no-untyped-def]
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    assert resp.mimetype == "text/html"
    return parse(resp.get_data(as_text=True))


def graph_of(body: bytes, fmt: F.Format) -> rdflib.Graph:
    triples = F.parse_graph(body, fmt)
    return rdflib.Graph().parse(data="".join(f"{t} .\n" for t in triples), format="nt")


@pytest.fixture(scope="module")
def retired_client(settings: Settings) -> Iterator[object]:
    """A client over the shipped data plus two made-up retired ids."""
    s = settings.replace(data=(*settings.data, RETIRED), validate=False, query_workers=0)
    svc = Services.build(s, EmbeddedStore.build(s))
    app = create_app(s, svc)
    app.config["TESTING"] = True
    yield app.test_client()
    svc.close()


# -- the thing: 303 to a document --------------------------------------------------------


@pytest.mark.parametrize("fmt", F.DOCUMENTS, ids=lambda f: f.name)
def test_thing_redirects_303_to_the_document_accept_asks_for(client, fmt: F.Format) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/silent-star-1960", headers={"Accept": fmt.media_type})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/film/silent-star-1960.{fmt.extension}"
    assert "Accept" in resp.headers["Vary"]


@pytest.mark.parametrize("value,extension", [("ttl", "ttl"), ("turtle", "ttl"), ("jsonld", "jsonld"), ("nt", "nt"), ("html", "html")])
def test_format_parameter_overrides_accept(client, value: str, extension: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/mission/vostok-1?format={value}", headers={"Accept": "text/html"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/mission/vostok-1.{extension}"
    assert "Accept" in resp.headers["Vary"]


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "", "*/*"])
def test_browsers_and_plain_clients_get_html(client, accept: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/person/yuri-gagarin", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/person/yuri-gagarin.html"


def test_rdf_clients_preferring_turtle_get_turtle(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/theme/mars", headers={"Accept": "application/rdf+xml;q=0.9, text/turtle, text/html;q=0.5"})
    assert resp.headers["Location"] == "/theme/mars.ttl"


def test_unacceptable_accept_is_406_listing_the_offered_formats(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/silent-star-1960", headers={"Accept": "image/png"})
    assert resp.status_code == 406
    text = resp.get_data(as_text=True)
    for fmt in F.DOCUMENTS:
        assert fmt.media_type in text
    assert "Accept" in resp.headers["Vary"]


def test_unknown_format_parameter_is_406(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/silent-star-1960?format=pdf")
    assert resp.status_code == 406


# -- the documents -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", F.DOCUMENTS, ids=lambda f: f.name)
def test_documents_answer_with_alternates_etag_and_vary(client, fmt: F.Format) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/film/silent-star-1960.{fmt.extension}")
    assert resp.status_code == 200
    assert resp.mimetype == fmt.media_type
    assert "Accept" in resp.headers["Vary"]
    etag, weak = resp.get_etag()
    assert etag and not weak
    link = resp.headers["Link"]
    for other in F.DOCUMENTS:
        if other is not fmt:
            assert f'</film/silent-star-1960.{other.extension}>; rel="alternate"; type="{other.media_type}"' in link


@pytest.mark.parametrize("path", ["/film/silent-star-1960.html", "/film/silent-star-1960.ttl", "/", "/film/"])
def test_a_matching_if_none_match_gives_304(client, path: str) -> None:  # type: ignore[no-untyped-def]
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert "Accept" in again.headers["Vary"]
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_same_document_has_the_same_etag(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/mission/luna-2.ttl").headers["ETag"] == client.get("/mission/luna-2.ttl").headers["ETag"]


@pytest.mark.parametrize("path,status", [("/film/silent-star-1960", 303), ("/film/silent-star-1960.ttl", 200), ("/film/silent-star-1960.html", 200), ("/film/nope-1900", 404)])
def test_head_answers_like_get_without_a_body(client, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    resp = client.head(path)
    assert resp.status_code == status
    assert resp.get_data() == b""
    assert "Accept" in resp.headers["Vary"]


def test_rdf_documents_use_canonical_iris(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/film/silent-star-1960.ttl").get_data()
    g = graph_of(body, F.TURTLE)
    assert (rdflib.URIRef(BASE + "film/silent-star-1960"), rdflib.RDF.type, rdflib.URIRef(FG + "FilmRecord")) in g
    assert not any(str(term).startswith("http://localhost") for t in g for term in t)


@pytest.mark.parametrize("path", ["/film/silent-star-1960", "/mission/luna-3", "/claim/dream-come-true-1960-months-after-gagarin"])
def test_the_rdf_documents_are_one_graph_in_three_formats(client, path: str) -> None:  # type: ignore[no-untyped-def]
    graphs = [graph_of(client.get(f"{path}.{fmt.extension}").get_data(), fmt) for fmt in (F.TURTLE, F.NTRIPLES, F.JSONLD)]
    assert len(graphs[0]) > 0
    assert isomorphic(graphs[0], graphs[1])
    assert isomorphic(graphs[0], graphs[2])


def test_jsonld_documents_are_framed_with_the_shared_context(client) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(client.get("/film/silent-star-1960.jsonld").get_data())
    assert data["@context"] == client.get("/context.jsonld").get_json()["@context"]
    assert data["@context"]["fg"] == FG
    assert data["id"] == BASE + "film/silent-star-1960" and data["name"] == "The Silent Star"


def test_a_mission_document_holds_its_events(client) -> None:  # type: ignore[no-untyped-def]
    g = graph_of(client.get("/mission/luna-2.nt").get_data(), F.NTRIPLES)
    assert (rdflib.URIRef(BASE + "mission/luna-2#impact"), rdflib.RDF.type, rdflib.URIRef(FG + "MissionEvent")) in g
    page = html_of(client, "/mission/luna-2.html")
    assert page.find(id="impact")


# -- unknown, malformed and retired ids ------------------------------------------------------


def test_an_unknown_id_is_404_with_a_helpful_page(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/film/silent-star-1961", headers={"Accept": BROWSER_ACCEPT})
    assert resp.status_code == 404
    assert "Accept" in resp.headers["Vary"]
    page = parse(resp.get_data(as_text=True))
    hrefs = {a.attrs.get("href") for a in page.find_all("a")}
    assert {"/film/", "/mission/", "/sparql"} <= hrefs
    suggestions = [a.attrs["href"] for a in page.find(id="suggestions").find_all("a")]
    assert "/film/silent-star-1960.html" in suggestions


def test_an_unknown_document_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/film/no-such-film.ttl").status_code == 404
    assert client.get("/film/silent-star-1960.pdf").status_code == 404


def test_malformed_ids_are_404_without_touching_the_store(settings: Settings) -> None:
    class Trap:
        base_iri = BASE

        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the store was used: {name}")

        def __len__(self) -> int:
            raise AssertionError("the store was used")

    trap = Trap()
    svc = Services(settings, trap, QueryService(trap, settings))  # type: ignore[arg-type]
    app = create_app(settings, svc)
    client = app.test_client()
    for path in ("/film/Silent-Star", "/film/a_b", "/film/%C3%A4", "/film/a%20b", "/film/UP.ttl", "/film/x.y.ttl"):
        resp = client.get(path, headers={"Accept": BROWSER_ACCEPT})
        assert resp.status_code == 404, path
        assert "Accept" in resp.headers["Vary"]


@pytest.mark.parametrize("path", ["/film/silent-star", "/film/silent-star.ttl", "/film/silent-star.html", "/mission/luna-first"])
def test_a_retired_id_is_410(retired_client, path: str) -> None:  # type: ignore[no-untyped-def]
    resp = retired_client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert resp.status_code == 410
    assert "Accept" in resp.headers["Vary"]


def test_the_410_page_links_to_the_replacement(retired_client) -> None:  # type: ignore[no-untyped-def]
    resp = retired_client.get("/film/silent-star", headers={"Accept": BROWSER_ACCEPT})
    page = parse(resp.get_data(as_text=True))
    links = [a.attrs["href"] for a in page.find(id="retired").find_all("a")]
    assert links == ["/film/silent-star-1960"]


# -- every IRI of the data answers -----------------------------------------------------------


def _data_iris(services: Services) -> set[str]:
    found: set[str] = set()
    for t in services.store.triples():
        for term in (t.subject, t.object):
            if isinstance(term, NamedNode) and term.value.startswith(BASE):
                found.add(term.value)
    return found


def test_every_resource_iri_of_the_data_answers_in_every_format(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    checked_documents: set[str] = set()
    things = 0
    for iri in sorted(_data_iris(services)):
        name = iris.split(iri, BASE)
        if name is None:
            continue
        things += 1
        thing_path = iris.local_path(iris.document_iri(iri), BASE)
        for fmt in F.DOCUMENTS:
            resp = client.get(thing_path, headers={"Accept": fmt.media_type})
            assert resp.status_code == 303, (iri, fmt.name, resp.status_code)
            assert "Accept" in resp.headers["Vary"]
            location = resp.headers["Location"]
            assert location == iris.document_path(name.kind, name.id, fmt.extension)
            if location in checked_documents:
                continue
            checked_documents.add(location)
            doc = client.get(location)
            assert doc.status_code == 200, (location, doc.status_code)
            assert doc.mimetype == fmt.media_type
            assert "Accept" in doc.headers["Vary"]
            if fmt is F.HTML and name.fragment:
                assert parse(doc.get_data(as_text=True)).find(id=name.fragment)
    assert things > 100


def test_collection_iris_of_the_data_answer(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    collections = [i for i in _data_iris(services) if i[len(BASE):].rstrip("/") in iris.KINDS and i.endswith("/")]
    assert BASE + "theme/" in collections
    for iri in collections:
        path = iris.local_path(iri, BASE)
        for fmt in F.DOCUMENTS:
            resp = client.get(path, headers={"Accept": fmt.media_type})
            assert resp.status_code == 200, (path, fmt.name)
            assert resp.mimetype == fmt.media_type
            assert "Accept" in resp.headers["Vary"]


def test_the_theme_scheme_in_turtle_describes_the_scheme(client) -> None:  # type: ignore[no-untyped-def]
    g = graph_of(client.get("/theme/?format=ttl").get_data(), F.TURTLE)
    scheme = rdflib.URIRef(BASE + "theme/")
    assert (scheme, rdflib.RDF.type, rdflib.SKOS.ConceptScheme) in g
    assert (rdflib.URIRef(BASE + "theme/mars"), rdflib.RDF.type, rdflib.SKOS.Concept) in g


# -- what the pages say ------------------------------------------------------------------------


def test_a_contradicted_claim_shows_the_date_that_contradicts_it(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/dream-come-true-1960.html")
    claim = page.find(id="claim-dream-come-true-1960-months-after-gagarin")
    assert {"claim", "contradicted"} <= claim.classes
    assert claim.find(cls="badge").text().endswith("Contradicted")
    assert "1961-04-12" in claim.find(cls="contradicting-dates").text()
    assert "/mission/vostok-1" in {a.attrs["href"] for a in claim.find_all("a")}


def test_an_impossible_claim_shows_the_rules_finding(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    report = run_rules(services.store)
    claim_iri = BASE + "claim/red-planet-1964-after-mariner-4"
    assert any(f.concerns == claim_iri and f.severity == "error" for f in report.findings)
    page = html_of(client, "/film/red-planet-1964.html")
    claim = page.find(id="claim-red-planet-1964-after-mariner-4")
    assert "impossible" in claim.classes
    finding = claim.find(cls="finding")
    assert "error" in finding.classes
    assert "1965-07-15" in finding.text()


def test_the_silent_star_page_shows_its_status_and_links_locally_to_its_real_film(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/silent-star-1960.html")
    identification = page.find(id="identification")
    assert identification.find(cls="badge").text() == "Identified"
    assert "is a real film" in identification.text()
    real = page.find(id="real-film")
    assert "/film/der-schweigende-stern" in {a.attrs["href"] for a in real.find_all("a")}
    assert "Der schweigende Stern" in real.text()
    wiki = [a for a in real.find_all("a") if a.attrs["href"] == "https://en.wikipedia.org/wiki/The_Silent_Star"]
    assert wiki and "external" in wiki[0].classes


def test_a_record_page_quotes_the_list_verbatim(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/sky-beckons-1959.html")
    record = page.find(id="record")
    assert "race to the Moon between the USSR and the USA" in record.text()
    assert page.find(id="claims").find_all(cls="claim")


def test_literals_with_a_language_tag_carry_a_lang_attribute(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/nebo-zovyot.html")
    tagged = {(e.attrs.get("lang"), e.text()) for e in page.find_all(where=lambda e: "lang" in e.attrs)}
    assert ("ru", "Небо зовёт") in tagged
    assert ("ru-Latn", "Nebo zovyot") in tagged


def test_pages_link_locally_never_to_the_canonical_base(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/film/silent-star-1960.html", "/mission/vostok-1.html", "/year/1961.html", "/film/"):
        page = html_of(client, path)
        hrefs = [e.attrs.get("href", "") for e in page.iter()]
        assert not [h for h in hrefs if h.startswith(BASE)], path


def test_pages_embed_schema_org(client) -> None:  # type: ignore[no-untyped-def]
    def embedded(path: str) -> dict[str, object]:
        script = html_of(client, path).find("script")
        assert script.attrs["type"] == "application/ld+json"
        return json.loads(script.text())  # type: ignore[no-any-return]

    movie = embedded("/film/der-schweigende-stern.html")
    assert movie["@type"] == "Movie" and movie["name"] == "The Silent Star"
    assert "https://en.wikipedia.org/wiki/The_Silent_Star" in movie["sameAs"]  # type: ignore[operator]
    record = embedded("/film/silent-star-1960.html")
    assert record["@graph"][0]["@type"] == "CreativeWork"  # type: ignore[index]
    assert {n["@type"] for n in record["@graph"][1:]} == {"ClaimReview"}  # type: ignore[index]
    claim = embedded("/claim/dream-come-true-1960-months-after-gagarin.html")
    assert claim["@type"] == "ClaimReview"
    assert claim["reviewRating"]["alternateName"] == "Contradicted"  # type: ignore[index]


def test_pages_have_landmarks_and_headings_in_order(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/film/dream-come-true-1960.html", "/mission/luna-3.html"):
        page = html_of(client, path)
        assert page.find("html").attrs["lang"] == "en"
        assert len(page.find_all("main")) == 1 and page.find_all("nav") and page.find_all("header")
        levels = [int(e.tag[1]) for e in page.iter() if e.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (path, levels)


def test_inbound_links_are_listed(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/mission/vostok-1.html")
    hrefs = {a.attrs["href"] for a in page.find(id="inbound").find_all("a")}
    assert "/claim/dream-come-true-1960-months-after-gagarin" in hrefs


def test_the_collection_of_films_lists_records_and_real_films(client) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/film/")
    hrefs = {a.attrs["href"] for a in page.find_all("a")}
    assert "/film/silent-star-1960" in hrefs and "/film/nebo-zovyot" in hrefs


# -- the home page ------------------------------------------------------------------------------


def _count(services: Services, query: str) -> int:
    rows = services.store.select(f"PREFIX fg: <{FG}> SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {query} }}")
    return int(rows[0]["n"].value)  # type: ignore[union-attr]


def test_the_home_page_counts_come_from_the_data(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    page = html_of(client, "/")
    statuses = {e.attrs["data-status"]: int(e.text()) for e in page.find_all(where=lambda e: "data-status" in e.attrs)}
    assert statuses["identified"] == _count(services, "?x fg:identificationStatus fg:Identified")
    assert statuses["title-match-only"] == _count(services, "?x fg:identificationStatus fg:TitleMatchOnly")
    assert statuses["probable-duplicate"] == _count(services, "?x fg:identificationStatus fg:ProbableDuplicate")
    assert statuses["no-match"] == _count(services, "?x fg:identificationStatus fg:NoMatchFound")
    claims = {e.attrs["data-assessment"]: int(e.text()) for e in page.find_all(where=lambda e: "data-assessment" in e.attrs)}
    assert claims["contradicted"] == _count(services, "?x fg:assessment fg:Contradicted")
    assert claims["supported"] == _count(services, "?x fg:assessment fg:Supported")
    report = run_rules(services.store)
    assert int(page.find(id="impossible-count").text()) == len(report.errors)


def test_the_home_page_lists_the_ten_films_with_their_status(client) -> None:  # type: ignore[no-untyped-def]
    rows = html_of(client, "/").find(id="films").find("tbody").find_all("tr")
    assert len(rows) == 10
    first = rows[0]
    assert "/film/silent-star-1960" in {a.attrs["href"] for a in first.find_all("a")}
    assert first.find(cls="badge").text() == "Identified"


def test_the_home_timeline_is_an_accessible_svg_that_draws_impossible_timings(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    figure = html_of(client, "/").find(id="timeline")
    svg = figure.find("svg")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-labelledby"] == "timeline-title timeline-desc"
    assert svg.find("title").text()
    conflicts = svg.find_all("path", cls="conflict")
    assert len(conflicts) == len(run_rules(services.store).errors)
    hrefs = {a.attrs["href"] for a in svg.find_all("a")}
    assert {"/film/dream-come-true-1960", "/mission/vostok-1"} <= hrefs


def test_the_home_page_links_to_every_service(client) -> None:  # type: ignore[no-untyped-def]
    hrefs = {a.attrs["href"] for a in html_of(client, "/").find(id="explore").find_all("a")}
    assert {"/sparql", "/dumps/", "/ontology", "/dataset", "/reconcile"} <= hrefs


def test_pages_follow_another_base_iri(settings: Settings) -> None:
    base = "http://films.example.org/id/"
    s = settings.replace(base_iri=base, validate=False, query_workers=0)
    svc = Services.build(s, EmbeddedStore.build(s))
    try:
        client = create_app(s, svc).test_client()
        g = graph_of(client.get("/film/silent-star-1960.ttl").get_data(), F.TURTLE)
        assert (rdflib.URIRef(base + "film/silent-star-1960"), rdflib.RDF.type, rdflib.URIRef(base + "ontology#FilmRecord")) in g
        page = html_of(client, "/film/silent-star-1960.html")
        assert "/film/der-schweigende-stern" in {a.attrs.get("href") for a in page.find(id="real-film").find_all("a")}
        assert html_of(client, "/").find(id="films").find_all("tr")
    finally:
        svc.close()
