"""Dumps: every file parses back to the graph the endpoint serves; caching headers; the index; the registry."""

from __future__ import annotations

import gzip
import threading
import warnings
from collections.abc import Iterator

import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib.compare import graph_diff, to_isomorphic

from filmgraph.site import dump as dump_module
from filmgraph import formats as F
from filmgraph.site.dump import DumpCache, dataset_downloads, write_dump
from filmgraph.sparql.query import QueryService
from filmgraph.site.services import Services
from filmgraph.core.settings import DEFAULT_BASE as BASE, Settings
from filmgraph.web import create_app

DUMPS = [d.filename for d in dataset_downloads()]
RDFLIB_FORMAT = {F.TURTLE.name: "turtle", F.NTRIPLES.name: "nt", F.JSONLD.name: "json-ld"}


class BufferedClient(FlaskClient):
    """A test client that reads every response whole and closes it (send_file's file included)."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="module")
def roomy_services(settings: Settings, services: Services) -> Iterator[Services]:
    """The same store with a row cap above its size, so a CONSTRUCT of everything is complete."""
    roomy = settings.replace(max_rows=10_000_000, query_workers=0)
    svc = Services(roomy, services.store, QueryService(services.store, roomy))
    yield svc
    svc.query.close()


@pytest.fixture(scope="module")
def roomy_client(roomy_services: Services):  # type: ignore[no-untyped-def]
    """A test client of an app over ``roomy_services``."""
    app = create_app(roomy_services.settings, roomy_services)
    app.config["TESTING"] = True
    app.test_client_class = BufferedClient
    return app.test_client()


@pytest.fixture(scope="module")
def endpoint_graph(roomy_client) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """What the endpoint serves: ``CONSTRUCT WHERE { ?s ?p ?o }`` through /sparql."""
    resp = roomy_client.get(
        "/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": F.NTRIPLES.media_type}
    )
    assert resp.status_code == 200
    assert "X-Result-Truncated" not in resp.headers
    return rdflib.Graph().parse(data=resp.data.decode("utf-8"), format="nt")


def parse_dump(filename: str, body: bytes) -> rdflib.Graph:
    """Parse a dump file (gzipped or not) by its name."""
    download = next(d for d in dataset_downloads() if d.filename == filename)
    assert download.format is not None
    if download.is_gzip:
        body = gzip.decompress(body)
    return parse_rdf(body, download.format)


def parse_rdf(body: bytes, fmt: F.Format) -> rdflib.Graph:
    """Parse a serialization with rdflib (a consumer's parser, not the one that wrote it)."""
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser builds a ConjunctiveGraph internally and warns that it is deprecated.
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(data=body.decode("utf-8"), format=RDFLIB_FORMAT[fmt.name])


def assert_isomorphic(got: rdflib.Graph, expected: rdflib.Graph) -> None:
    """Compare graphs by isomorphism, showing a few differing triples when they differ."""
    if to_isomorphic(got) != to_isomorphic(expected):
        _, only_got, only_expected = graph_diff(got, expected)
        pytest.fail(
            f"graphs differ: {len(got)} vs {len(expected)} triples; "
            f"only in dump: {sorted(only_got)[:5]}; only in endpoint: {sorted(only_expected)[:5]}"
        )


@pytest.mark.parametrize("filename", DUMPS)
def test_dump_parses_back_isomorphic_to_the_endpoint(roomy_client, endpoint_graph: rdflib.Graph, filename: str) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get(f"/dumps/{filename}")
    assert resp.status_code == 200
    assert len(endpoint_graph) > 0
    assert_isomorphic(parse_dump(filename, resp.data), endpoint_graph)


@pytest.mark.parametrize("fmt", [F.TURTLE, F.NTRIPLES, F.JSONLD], ids=lambda f: f.name)
def test_dump_written_in_many_chunks_parses_back_whole(services: Services, endpoint_graph: rdflib.Graph, monkeypatch: pytest.MonkeyPatch, fmt: F.Format) -> None:
    monkeypatch.setattr(dump_module, "CHUNK", 37)
    body = b"".join(write_dump(services.store, fmt))
    assert_isomorphic(parse_rdf(body, fmt), endpoint_graph)


def test_jsonld_dump_parses_back_with_oxigraph_too(roomy_client, endpoint_graph: rdflib.Graph) -> None:  # type: ignore[no-untyped-def]
    triples = F.parse_graph(roomy_client.get("/dumps/filmgraph.jsonld").data, F.JSONLD)
    # Oxigraph lower-cases language tags as it parses; serialize_graph writes them as BCP 47 does, as the endpoint does.
    got = rdflib.Graph().parse(data=F.serialize_graph(triples, F.NTRIPLES, BASE).decode(), format="nt")
    assert_isomorphic(got, endpoint_graph)


def test_jsonld_dump_carries_the_site_context_inline(roomy_client) -> None:  # type: ignore[no-untyped-def]
    import json

    doc = json.loads(roomy_client.get("/dumps/filmgraph.jsonld").data)
    assert doc["@context"] == json.loads(roomy_client.get("/context.jsonld").data)["@context"]
    assert doc["@context"]["schema"] == "https://schema.org/"
    assert any(node.get("id", "") == BASE + "film/silent-star-1960" for node in doc["@graph"])


@pytest.mark.parametrize("filename", DUMPS)
def test_dump_is_an_attachment_with_etag_and_last_modified(roomy_client, filename: str) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get(f"/dumps/{filename}")
    assert resp.headers["Content-Disposition"] == f"attachment; filename={filename}"
    assert resp.headers["ETag"].strip('"')
    assert resp.last_modified is not None
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert int(resp.headers["Content-Length"]) == len(resp.data)


@pytest.mark.parametrize("fmt", [F.TURTLE, F.NTRIPLES, F.JSONLD], ids=lambda f: f.name)
def test_plain_dump_has_its_rdf_media_type(roomy_client, fmt: F.Format) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get(f"/dumps/filmgraph.{fmt.extension}")
    assert resp.mimetype == fmt.media_type
    assert "Content-Encoding" not in resp.headers


@pytest.mark.parametrize("filename", [f for f in DUMPS if f.endswith(".gz")])
def test_gzip_dump_is_a_gzip_download_not_a_content_encoding(roomy_client, filename: str) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get(f"/dumps/{filename}")
    assert resp.mimetype == F.GZIP
    assert "Content-Encoding" not in resp.headers
    assert resp.data[:2] == b"\x1f\x8b"


def test_gzip_dump_unpacks_to_the_plain_dump(roomy_client) -> None:  # type: ignore[no-untyped-def]
    plain = roomy_client.get("/dumps/filmgraph.nt").data
    assert gzip.decompress(roomy_client.get("/dumps/filmgraph.nt.gz").data) == plain


def test_if_none_match_with_the_etag_gives_304(roomy_client) -> None:  # type: ignore[no-untyped-def]
    first = roomy_client.get("/dumps/filmgraph.ttl")
    again = roomy_client.get("/dumps/filmgraph.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_if_none_match_with_another_etag_gives_200(roomy_client) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get("/dumps/filmgraph.ttl", headers={"If-None-Match": '"not-this-one"'})
    assert resp.status_code == 200
    assert resp.data


def test_if_modified_since_last_modified_gives_304(roomy_client) -> None:  # type: ignore[no-untyped-def]
    first = roomy_client.get("/dumps/filmgraph.jsonld")
    again = roomy_client.get("/dumps/filmgraph.jsonld", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


def test_if_modified_since_before_the_data_gives_200(roomy_client) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get("/dumps/filmgraph.jsonld", headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
    assert resp.status_code == 200


def test_head_gives_the_headers_without_a_body(roomy_client) -> None:  # type: ignore[no-untyped-def]
    get = roomy_client.get("/dumps/filmgraph.ttl.gz")
    head = roomy_client.head("/dumps/filmgraph.ttl.gz")
    assert head.status_code == 200
    assert head.data == b""
    for name in ("ETag", "Content-Length", "Content-Type", "Content-Disposition", "Last-Modified"):
        assert head.headers[name] == get.headers[name]


def test_range_request_gives_partial_content(roomy_client) -> None:  # type: ignore[no-untyped-def]
    whole = roomy_client.get("/dumps/filmgraph.nt").data
    part = roomy_client.get("/dumps/filmgraph.nt", headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.data == whole[10:100]


def test_unknown_dump_is_404_naming_the_offered_files(roomy_client) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get("/dumps/filmgraph.xml")
    assert resp.status_code == 404
    assert b"filmgraph.ttl" in resp.data


def test_same_store_gives_the_same_bytes_and_etag_in_another_cache(roomy_services: Services) -> None:
    one, two = DumpCache(roomy_services), DumpCache(roomy_services)
    for filename in ("filmgraph.ttl", "filmgraph.jsonld.gz"):
        a, b = one.file(filename), two.file(filename)
        assert a.path != b.path
        assert a.etag == b.etag
        assert a.path.read_bytes() == b.path.read_bytes()


def test_concurrent_first_requests_generate_the_dump_once(roomy_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = dump_module.write_dump

    def counting(store, fmt):  # type: ignore[no-untyped-def]
        calls.append(fmt.name)
        yield from original(store, fmt)

    monkeypatch.setattr(dump_module, "write_dump", counting)
    cache = DumpCache(roomy_services)
    barrier = threading.Barrier(6)
    results: list[object] = []

    def fetch(filename: str) -> None:
        barrier.wait()
        results.append(cache.file(filename))

    names = ["filmgraph.ttl", "filmgraph.ttl.gz"] * 3
    threads = [threading.Thread(target=fetch, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert calls == [F.TURTLE.name]
    assert len(results) == 6


def test_index_lists_every_dump_with_size_licence_and_triple_count(roomy_client, roomy_services: Services) -> None:  # type: ignore[no-untyped-def]
    roomy_client.get("/dumps/filmgraph.ttl")
    resp = roomy_client.get("/dumps/")
    assert resp.status_code == 200
    html = resp.data.decode()
    for filename in DUMPS:
        assert f'href="/dumps/{filename}"' in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    assert f"{len(roomy_services.store):,}" in html
    assert "application/gzip" in html and "Content-Encoding" in html
    size = roomy_client.get("/dumps/filmgraph.ttl").headers["Content-Length"]
    assert f"{int(size):,} bytes" in html


def test_dumps_without_slash_redirects_to_the_index(roomy_client) -> None:  # type: ignore[no-untyped-def]
    resp = roomy_client.get("/dumps")
    assert resp.status_code in (301, 308)
    assert resp.headers["Location"].endswith("/dumps/")


def test_registered_download_is_listed_and_served(roomy_client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dump_module, "_EXTRA", {})

    def catalog(services: Services) -> Iterator[bytes]:
        yield b"id,name\n"
        yield f"{len(services.store)},all\n".encode()

    dump_module.register_download("Test catalog", "test-catalog.csv", F.CSV.media_type, catalog, "A catalog made for this test.")
    html = roomy_client.get("/dumps/").data.decode()
    assert 'href="/dumps/test-catalog.csv"' in html and "A catalog made for this test." in html
    resp = roomy_client.get("/dumps/test-catalog.csv")
    assert resp.status_code == 200
    assert resp.mimetype == F.CSV.media_type
    assert resp.data.startswith(b"id,name\n")
    assert resp.headers["Content-Disposition"] == "attachment; filename=test-catalog.csv"


def test_registering_a_dump_name_or_a_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dump_module, "_EXTRA", {})
    for bad in ("filmgraph.ttl", "../x.csv", "a/b.csv"):
        with pytest.raises(ValueError):
            dump_module.register_download("x", bad, F.CSV.media_type, lambda s: [b""], "x")
