"""The W3C SPARQL 1.1 Protocol test cases, run over a real socket against the served app.

The manifest's requests use example graphs (kasei.us data1-3); the app under
test loads those three files into named graphs of the same names, so the
requests run verbatim. The update tests are not applicable to a read-only
endpoint: for them the test asserts the opposite (refused with 4xx, nothing
changed), as DESIGN.md section 6 requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import rdflib
from rdflib.namespace import RDF

from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..conftest import ACCEPTANCE

PROTOCOL = ACCEPTANCE / "sparql11-protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

RESULT_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"},
    "RDF": {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"},
}


@dataclass
class Case:
    name: str
    label: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    statuses: set[str] = field(default_factory=set)
    boolean: bool | None = None
    result_format: str | None = None
    accept_types: set[str] = field(default_factory=set)


def _cases() -> list[Case]:
    manifest = PROTOCOL / "manifest.ttl"
    if not manifest.exists():
        return []
    g = rdflib.Graph().parse(manifest, format="turtle")
    cases = []
    for test in g.subjects(RDF.type, MF.ProtocolTest):
        action = g.value(test, MF.action)
        req = rdflib.collection.Collection(g, g.value(action, HT.requests))[0]
        resp = g.value(req, HT.resp)
        case = Case(
            name=str(test).rsplit("#", 1)[-1],
            label=str(g.value(test, MF.name)),
            method=str(g.value(req, HT.methodName)),
            path=str(g.value(req, HT.absolutePath)).replace("/sparql/", "/sparql", 1),
        )
        headers = g.value(req, HT.headers)
        if headers is not None:
            for h in rdflib.collection.Collection(g, headers):
                case.headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
        body = g.value(req, HT.body)
        if body is not None:
            encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
            case.body = str(g.value(body, CNT.chars)).encode(encoding.lower().replace("utf-16", "utf-16"))
        case.statuses = {str(s).rsplit("#", 1)[-1] for s in g.objects(resp, MF.expectedStatus)}
        expected_bool = g.value(resp, MF.expectedBoolean)
        case.boolean = None if expected_bool is None else expected_bool.toPython()
        fmt = g.value(resp, MF.expectedFormat)
        case.result_format = None if fmt is None else str(fmt)
        cases.append(case)
    return sorted(cases, key=lambda c: c.name)


CASES = _cases()
QUERY_CASES = [c for c in CASES if not c.name.startswith("update_")]
UPDATE_CASES = [c for c in CASES if c.name.startswith("update_")]


@pytest.fixture(scope="module")
def protocol_server(serve_app, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The app over the shipped data plus the protocol's three graphs, on a real socket."""
    settings = Settings(query_timeout=5.0)
    extra = {f"http://kasei.us/2009/09/sparql/data/data{i}.rdf": PROTOCOL / f"data{i}.nt" for i in (1, 2, 3)}
    store = EmbeddedStore.build(settings, tmp_path_factory.mktemp("protocol") / "store", extra=extra)
    services = Services.build(settings, store)
    yield serve_app(create_app(settings, services))
    services.close()


def _send(server, case: Case) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.request(case.method, server.url + case.path, headers=case.headers, data=case.body, timeout=30)


def _status_class(code: int) -> str:
    return f"StatusCode{code // 100}xx"


@pytest.mark.skipif(not CASES, reason="W3C protocol manifest not present")
@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda c: c.name)
def test_w3c_protocol_case(protocol_server, case: Case) -> None:
    """Each query-side W3C protocol case gets the status, format and answer it expects."""
    resp = _send(protocol_server, case)
    assert _status_class(resp.status_code) in case.statuses, f"{case.label}: {resp.status_code} {resp.text[:300]}"
    if resp.status_code >= 400:
        assert resp.text.strip(), "an error must say what went wrong"
        return
    media_type = resp.headers["Content-Type"].split(";")[0].strip()
    if case.result_format:
        assert media_type in RESULT_TYPES[case.result_format], f"{case.label}: {media_type}"
    if case.boolean is not None:
        assert media_type == "application/sparql-results+json"
        assert json.loads(resp.content)["boolean"] is case.boolean


@pytest.mark.skipif(not CASES, reason="W3C protocol manifest not present")
def test_w3c_content_type_cases_answer_in_every_format_asked_for(protocol_server) -> None:
    """The query_content_type_* cases, sent again with Accept for each format of their kind."""
    checked = 0
    for case in QUERY_CASES:
        if not case.name.startswith("query_content_type_"):
            continue
        for media_type in sorted(RESULT_TYPES[case.result_format or "RDF"]):
            resp = requests.request(case.method, protocol_server.url + case.path, headers={**case.headers, "Accept": media_type}, data=case.body, timeout=30)
            assert resp.status_code == 200, resp.text
            assert resp.headers["Content-Type"].split(";")[0].strip() == media_type, case.name
            checked += 1
    assert checked == 16


@pytest.mark.skipif(not CASES, reason="W3C protocol manifest not present")
@pytest.mark.parametrize("case", UPDATE_CASES, ids=lambda c: c.name)
def test_w3c_update_case_is_refused_and_changes_nothing(protocol_server, case: Case) -> None:
    """Update cases (not applicable to a read-only endpoint) are refused with 4xx and change nothing."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"

    def total() -> str:
        r = requests.get(protocol_server.url + "/sparql", params={"query": count}, timeout=30)
        return r.json()["results"]["bindings"][0]["n"]["value"]

    before = total()
    resp = _send(protocol_server, case)
    assert 400 <= resp.status_code < 500, resp.text
    assert "read-only" in resp.text
    assert total() == before


def test_manifest_has_every_protocol_case() -> None:
    """The runner found the manifest's 34 cases (so a parsing slip cannot skip them silently)."""
    if not (PROTOCOL / "manifest.ttl").exists():
        pytest.skip("W3C protocol manifest not present")
    assert len(CASES) == 34
    assert Path(PROTOCOL / "data1.nt").exists()
