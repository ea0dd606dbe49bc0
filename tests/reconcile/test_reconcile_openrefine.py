"""OpenRefine's requests, sent exactly as OpenRefine sends them, over a real socket; CORS on every answer."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests

# OpenRefine's backend posts form bodies with this Content-Type and its own User-Agent.
FORM = "application/x-www-form-urlencoded; charset=UTF-8"
HEADERS = {"User-Agent": "OpenRefine/3.8.2 [TRUNK]", "Accept": "*/*"}
ORIGIN = "http://127.0.0.1:3333"  # OpenRefine's web UI, another origin


def _post_form(url: str, **fields: str) -> requests.Response:
    return requests.post(url, data=urlencode(fields).encode("ascii"), headers={**HEADERS, "Content-Type": FORM, "Origin": ORIGIN}, timeout=30)


def _jsonp(resp: requests.Response, callback: str) -> Any:
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/javascript")
    m = re.fullmatch(rf"/\*\*/{re.escape(callback)}\((.*)\);", resp.text, re.S)
    assert m, resp.text[:200]
    return json.loads(m.group(1))


def test_manifest_answers_a_plain_get_with_what_openrefine_reads(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile", headers=HEADERS, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    m = resp.json()
    for field in ("name", "identifierSpace", "schemaSpace", "defaultTypes", "view", "preview", "suggest", "extend", "batchSize"):
        assert field in m, field
    assert m["view"]["url"] == f"{live_server.url}/{{{{id}}}}"
    assert m["preview"]["url"] == f"{live_server.url}/reconcile/preview?id={{{{id}}}}"
    assert m["suggest"]["entity"] == {"service_url": f"{live_server.url}/reconcile", "service_path": "/suggest/entity", "flyout_service_path": "/flyout/entity?id=${id}"}
    assert {t["id"] for t in m["defaultTypes"]} >= {"film", "film-record", "real-film", "mission", "person", "work"}


def test_manifest_answers_jquery_jsonp_as_older_openrefine_asks(live_server) -> None:  # type: ignore[no-untyped-def]
    plain = requests.get(f"{live_server.url}/reconcile", timeout=30).json()
    callback = "jQuery35106797961432557745_1700000000000"
    resp = requests.get(f"{live_server.url}/reconcile?callback={callback}&_=1700000000001", headers=HEADERS, timeout=30)
    assert _jsonp(resp, callback) == plain


def test_a_callback_that_is_not_an_identifier_is_refused(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile", params={"callback": "alert(document.cookie)//"}, timeout=30)
    assert resp.status_code == 400
    assert not resp.headers["Content-Type"].startswith("application/javascript")
    assert "callback must be a JavaScript identifier" in resp.text


def test_form_post_of_a_query_batch_as_openrefine_sends_it(live_server) -> None:  # type: ignore[no-untyped-def]
    # StandardReconConfig: type_strict "should", cell values as strings, properties by pid.
    queries = {
        "q0": {"query": "The Sky Beckons", "type": "film", "type_strict": "should", "properties": [{"pid": "year", "v": "1959"}]},
        "q1": {"query": "Nebo zovyot", "type": "film", "type_strict": "should"},
        "q2": {"query": "The Red Planet", "type": "film-record", "type_strict": "should", "limit": 6},
    }
    resp = _post_form(f"{live_server.url}/reconcile", queries=json.dumps(queries, ensure_ascii=False))
    assert resp.status_code == 200, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    out = resp.json()
    assert [c["id"] for c in out["q0"]["result"][:2]] == ["film/sky-beckons-1959", "film/nebo-zovyot"]
    assert out["q1"]["result"][0]["id"] == "film/sky-beckons-1959"
    assert out["q2"]["result"][0] == {**out["q2"]["result"][0], "id": "film/red-planet-1964", "match": True}


def test_type_guessing_batch_without_types(live_server) -> None:  # type: ignore[no-untyped-def]
    # GuessTypesOfColumnCommand: a few sample cells, limit 3, no type.
    queries = {f"q{i}": {"query": v, "limit": 3} for i, v in enumerate(["Aelita", "Luna 2", "Yuri Gagarin", "The Star"])}
    out = _post_form(f"{live_server.url}/reconcile", queries=json.dumps(queries)).json()
    assert all(1 <= len(out[k]["result"]) <= 3 for k in queries)
    assert {t["id"] for k in queries for c in out[k]["result"] for t in c["type"]} >= {"real-film", "mission", "person", "film-record"}


def test_get_with_queries_in_the_url(live_server) -> None:  # type: ignore[no-untyped-def]
    queries = json.dumps({"q0": {"query": "Небо зовёт"}}, ensure_ascii=False)
    resp = requests.get(f"{live_server.url}/reconcile", params={"queries": queries}, headers=HEADERS, timeout=30)
    assert resp.status_code == 200
    assert resp.json()["q0"]["result"][0]["id"] == "film/sky-beckons-1959"


def test_get_with_queries_and_a_callback_answers_jsonp(live_server) -> None:  # type: ignore[no-untyped-def]
    queries = json.dumps({"q0": {"query": "Aelita", "type": "real-film"}})
    resp = requests.get(f"{live_server.url}/reconcile", params={"queries": queries, "callback": "cb"}, timeout=30)
    assert _jsonp(resp, "cb")["q0"]["result"][0]["id"] == "film/aelita"


def test_extend_form_post_as_openrefine_sends_it(live_server) -> None:  # type: ignore[no-untyped-def]
    extend = {"ids": ["film/sky-beckons-1959", "film/nebo-zovyot"], "properties": [{"id": "year"}, {"id": "identified_as"}, {"id": "original_title"}]}
    resp = _post_form(f"{live_server.url}/reconcile", extend=json.dumps(extend))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert [m["id"] for m in out["meta"]] == ["year", "identified_as", "original_title"]
    assert out["rows"]["film/sky-beckons-1959"]["year"] == [{"int": 1959}]
    assert out["rows"]["film/sky-beckons-1959"]["identified_as"] == [{"id": "film/nebo-zovyot", "name": "The Sky Calls"}]
    assert out["rows"]["film/nebo-zovyot"]["original_title"] == [{"str": "Небо зовёт"}]


def test_property_proposals_for_the_chosen_type(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile/extend/propose", params={"type": "film-record", "limit": 3}, headers=HEADERS, timeout=30)
    out = resp.json()
    assert out["type"] == "film-record" and out["limit"] == 3 and len(out["properties"]) == 3
    everything = requests.get(f"{live_server.url}/reconcile/extend/propose", params={"type": "film-record"}, timeout=30).json()
    assert "identification_status" in {p["id"] for p in everything["properties"]}


@pytest.mark.parametrize("kind, prefix, expected", [
    ("entity", "Небо", "film/nebo-zovyot"),
    ("entity", "sky be", "film/sky-beckons-1959"),
    ("entity", "luna", "mission/luna-1"),
    ("type", "rec", "film-record"),
    ("type", "miss", "mission"),
    ("property", "year", "year"),
    ("property", "P577", "year"),
])
def test_suggest_by_prefix(live_server, kind: str, prefix: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile/suggest/{kind}", params={"prefix": prefix}, headers=HEADERS, timeout=30)
    assert resp.status_code == 200
    assert expected in [r["id"] for r in resp.json()["result"]]


def test_suggest_with_a_type_and_jsonp_as_the_old_suggest_widget_asks(live_server) -> None:  # type: ignore[no-untyped-def]
    params = {"prefix": "the s", "type": "film-record", "type_strict": "should", "callback": "jQuery1_2"}
    out = _jsonp(requests.get(f"{live_server.url}/reconcile/suggest/entity", params=params, timeout=30), "jQuery1_2")
    assert out["result"] and all(n["id"] == "film-record" for r in out["result"] for n in r["notable"])


def test_flyout_of_a_suggested_entity(live_server) -> None:  # type: ignore[no-untyped-def]
    out = requests.get(f"{live_server.url}/reconcile/flyout/entity", params={"id": "film/cosmos-is-calling-1965"}, timeout=30).json()
    assert out["id"] == "film/cosmos-is-calling-1965" and "probable duplicate" in out["html"]


def test_preview_of_a_candidate_is_html(live_server) -> None:  # type: ignore[no-untyped-def]
    # OpenRefine puts the id into the preview template URL-encoded.
    resp = requests.get(f"{live_server.url}/reconcile/preview?id={quote('film/sky-beckons-1959', safe='')}", headers=HEADERS, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "The Sky Beckons" in resp.text and "identified" in resp.text and "The Sky Calls" in resp.text


def test_preview_of_an_unknown_id_is_404(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile/preview", params={"id": "film/no-such-film"}, headers={"Origin": ORIGIN}, timeout=30)
    assert resp.status_code == 404
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


ROUTES = [
    ("GET", "/reconcile", None),
    ("GET", "/reconcile?callback=cb", None),
    ("POST", "/reconcile", {"queries": json.dumps({"q0": {"query": "Aelita"}})}),
    ("POST", "/reconcile", {"extend": json.dumps({"ids": ["film/aelita"], "properties": [{"id": "year"}]})}),
    ("POST", "/reconcile", {"queries": "not json"}),
    ("GET", "/reconcile/suggest/entity?prefix=a", None),
    ("GET", "/reconcile/suggest/type?prefix=a", None),
    ("GET", "/reconcile/suggest/property?prefix=a", None),
    ("GET", "/reconcile/flyout/entity?id=film/aelita", None),
    ("GET", "/reconcile/preview?id=film/aelita", None),
    ("GET", "/reconcile/extend/propose?type=film", None),
    ("GET", "/reconcile/about", None),
    ("GET", "/reconcile/v1/", None),
    ("POST", "/reconcile/v1/match", {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Aelita"}]}]}),
    ("POST", "/reconcile/v1/extend", {"ids": ["film/aelita"], "properties": [{"id": "year"}]}),
    ("GET", "/reconcile/v1/suggest/entity?prefix=a", None),
    ("GET", "/reconcile/v1/preview?id=film/aelita", None),
    ("GET", "/reconcile/v1/extend/propose?type=film", None),
]


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_cors_on_every_response(live_server, method: str, path: str, body: Any) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url + path
    headers = {"Origin": ORIGIN}
    if method == "GET":
        resp = requests.get(url, headers=headers, timeout=30)
    elif path.startswith("/reconcile/v1/"):
        resp = requests.post(url, json=body, headers=headers, timeout=30)
    else:
        resp = requests.post(url, data=body, headers=headers, timeout=30)
    assert resp.status_code in (200, 400), resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/v1/match", "/reconcile/v1/extend", "/reconcile/suggest/entity"])
def test_a_preflight_is_answered(live_server, path: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    resp = requests.options(live_server.url + path, headers=headers, timeout=30)
    assert resp.status_code in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()


def test_v1_match_takes_a_json_body(live_server) -> None:  # type: ignore[no-untyped-def]
    batch = {"queries": [{"type": "film", "conditions": [{"matchType": "name", "propertyValue": "Kosmos wzywa"}]}]}
    resp = requests.post(f"{live_server.url}/reconcile/v1/match", json=batch, headers={"Origin": ORIGIN}, timeout=30)
    assert resp.status_code == 200
    assert resp.json()["results"][0]["candidates"][0]["id"] == "film/sky-beckons-1959"


def test_v1_manifest_has_no_jsonp(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{live_server.url}/reconcile/v1/", params={"callback": "cb"}, timeout=30)
    assert resp.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("fields, message", [
    ({"queries": "{not json"}, "not valid JSON"),
    ({"queries": json.dumps({"q0": {"query": "Aelita", "type": "spaceship"}})}, "unknown type"),
    ({"queries": json.dumps({"q0": {"query": "Aelita", "properties": [{"pid": "P9999", "v": 1}]}})}, "unknown property"),
    ({"queries": json.dumps({"q0": {"type": "film"}})}, "neither a query string nor properties"),
    ({"queries": json.dumps({"q0": {"query": "Aelita", "properties": [{"pid": "year", "v": "soon"}]}})}, "year"),
    ({"extend": json.dumps({"ids": ["film/aelita"], "properties": [{"id": "budget"}]})}, "unknown property"),
])
def test_malformed_requests_are_400_saying_why(live_server, fields: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    resp = _post_form(f"{live_server.url}/reconcile", **fields)
    assert resp.status_code == 400
    assert message in resp.text


def test_a_batch_over_the_announced_size_is_413(live_server) -> None:  # type: ignore[no-untyped-def]
    size = requests.get(f"{live_server.url}/reconcile", timeout=30).json()["batchSize"]
    queries = {f"q{i}": {"query": "Aelita"} for i in range(size + 1)}
    resp = _post_form(f"{live_server.url}/reconcile", queries=json.dumps(queries))
    assert resp.status_code == 413
    assert "batchSize" in resp.text


@pytest.mark.parametrize("encode", [False, True])
def test_the_view_url_of_a_candidate_is_its_page(live_server, encode: bool) -> None:  # type: ignore[no-untyped-def]
    # OpenRefine fills {{id}} in view.url, URL-encoding it (film%2Fsky-beckons-1959) in some versions.
    template = requests.get(f"{live_server.url}/reconcile", timeout=30).json()["view"]["url"]
    id = "film/sky-beckons-1959"
    resp = requests.get(template.replace("{{id}}", quote(id, safe="") if encode else id), headers={"Accept": "text/html"}, timeout=30)
    assert resp.status_code == 200
    assert "The Sky Beckons" in resp.text
