"""Validators on SPARQL answers: an ETag for GET answers of the read-only store, 304 without running the query."""

from __future__ import annotations

import requests

from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store import DatasetSpec
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

FILMS = "SELECT ?f WHERE { ?f a <https://w3id.org/filmgraph/ontology#FilmRecord> } ORDER BY ?f"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
JSON = "application/sparql-results+json"


def _get(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": query}, headers=headers, timeout=60)


def test_a_get_answer_carries_an_etag_and_a_matching_request_gets_304(live_server) -> None:
    first = _get(live_server.url, FILMS, Accept=JSON)
    assert first.status_code == 200 and len(first.json()["results"]["bindings"]) == 10
    tag = first.headers["ETag"]
    assert tag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    again = _get(live_server.url, FILMS, Accept=JSON)
    assert again.headers["ETag"] == tag and again.content == first.content
    cached = _get(live_server.url, FILMS, Accept=JSON, **{"If-None-Match": tag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["ETag"] == tag and "Accept" in cached.headers["Vary"]
    weak = _get(live_server.url, FILMS, Accept=JSON, **{"If-None-Match": f'"other", W/{tag}'})
    assert weak.status_code == 304
    stale = _get(live_server.url, FILMS, Accept=JSON, **{"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_each_format_and_query_has_its_own_etag(live_server) -> None:
    tags = {
        _get(live_server.url, FILMS, Accept=JSON).headers["ETag"],
        _get(live_server.url, FILMS, Accept="text/csv").headers["ETag"],
        _get(live_server.url, FILMS + " LIMIT 3", Accept=JSON).headers["ETag"],
        requests.get(live_server.url + "/sparql", params={"query": FILMS, "format": "xml"}, timeout=60).headers["ETag"],
    }
    assert len(tags) == 4
    # Another format of the same query is not the cached one: 200, not 304.
    json_tag = _get(live_server.url, FILMS, Accept=JSON).headers["ETag"]
    assert _get(live_server.url, FILMS, Accept="text/csv", **{"If-None-Match": json_tag}).status_code == 200


def test_a_matching_etag_answers_without_running_the_query(serve_app, tmp_path) -> None:
    """A query that would run into the time limit (503) is answered 304 at once: its validator needs no evaluation."""
    settings = Settings(query_timeout=1.0, query_workers=1)
    services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / "store"))
    try:
        server = serve_app(create_app(settings, services))
        assert _get(server.url, RUNAWAY, Accept=JSON).status_code == 503  # it does run away
        job = services.query.job(services.query.prepare(RUNAWAY, JSON), DatasetSpec(), server.url + "/sparql")
        tag = services.query.etag(job)
        assert tag is not None
        r = _get(server.url, RUNAWAY, Accept=JSON, **{"If-None-Match": f'"{tag}"'})
        assert r.status_code == 304 and r.headers["ETag"] == f'"{tag}"'
    finally:
        services.close()


def test_another_build_of_the_store_changes_every_etag(serve_app, tmp_path) -> None:
    settings = Settings(query_workers=0)
    tags = []
    for name in ("one", "two"):
        services = Services.build(settings, EmbeddedStore.build(settings, tmp_path / name))
        try:
            tags.append(_get(serve_app(create_app(settings, services)).url, FILMS, Accept=JSON).headers["ETag"])
        finally:
            services.close()
    assert tags[0] != tags[1]


def test_posts_get_no_etag(live_server) -> None:
    post = requests.post(live_server.url + "/sparql", data=FILMS.encode(), headers={"Content-Type": "application/sparql-query", "Accept": JSON}, timeout=60)
    assert post.status_code == 200 and "ETag" not in post.headers
    form = requests.post(live_server.url + "/sparql", data={"query": FILMS}, headers={"Accept": JSON}, timeout=60)
    assert form.status_code == 200 and "ETag" not in form.headers
