"""Every manifest and response of the reconciliation service validates against the spec's JSON schemas, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from .. import recon_schemas as R

pytestmark = pytest.mark.skipif(not R.available(), reason="acceptance-data/recon-schemas is not beside the checkout")

V02, V1 = "0.2", "1.0-draft"


def _example_id(case: tuple[str, str, Path]) -> str:
    return f"{case[2].parent.parent.name}-{case[1]}-{case[2].stem}"


@pytest.mark.parametrize("version", R.VERSIONS)
def test_the_spec_examples_pass_or_fail_as_labelled(version: str) -> None:
    cases = R.examples(version)
    assert len(cases) > 40
    wrong = []
    for schema, kind, path in cases:
        errors = list(R.validator(version, schema).iter_errors(json.loads(path.read_text(encoding="utf-8"))))
        if (kind == "valid") != (not errors):
            wrong.append(_example_id((schema, kind, path)))
    assert not wrong, f"examples the validator misjudges: {wrong}"


def test_an_invalid_response_is_caught() -> None:
    with pytest.raises(jsonschema.ValidationError):
        R.validate(V02, "reconciliation-result-batch.json", {"q0": {"result": [{"name": "no id", "score": 1}]}})
    with pytest.raises(jsonschema.ValidationError):
        R.validate(V1, "manifest.json", {"versions": ["1.0-draft"], "name": "no view"})


QUERIES_V02: dict[str, Any] = {
    "q0": {"query": "The Sky Beckons"},
    "q1": {"query": "Небо зовёт", "type": "film"},
    "q2": {"query": "The Cosmos is Calling", "type": "film-record", "limit": 3},
    "q3": {"query": "Kosmos wzywa", "type": ["real-film", "film-record"], "type_strict": "any"},
    "q4": {"query": "Nebo zovyot", "properties": [{"pid": "P577", "v": 1959}]},
    "q5": {"query": "Aelita", "properties": [{"pid": "year", "v": "1924"}, {"pid": "director", "v": {"id": "person/yakov-protazanov", "name": "Yakov Protazanov"}}]},
    "q6": {"properties": [{"pid": "imdb", "v": "tt0056352"}]},
    "q7": {"query": "Luna 2", "type": "mission"},
    "q8": {"query": "Stanislaw Lem", "type": "person"},
    "q9": {"query": "nothing like any title at all, xyzzy"},
}


def _get(url: str, **params: Any) -> requests.Response:
    resp = requests.get(url, params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp


def test_v02_manifest_validates(live_server) -> None:  # type: ignore[no-untyped-def]
    manifest = _get(f"{live_server.url}/reconcile").json()
    R.validate(V02, "manifest.json", manifest)
    assert manifest["identifierSpace"] == "https://w3id.org/filmgraph/"


def test_v02_query_batch_and_results_validate(live_server) -> None:  # type: ignore[no-untyped-def]
    R.validate(V02, "reconciliation-query-batch.json", QUERIES_V02)
    resp = requests.post(f"{live_server.url}/reconcile", data={"queries": json.dumps(QUERIES_V02)}, timeout=30)
    assert resp.status_code == 200, resp.text
    results = resp.json()
    R.validate(V02, "reconciliation-result-batch.json", results)
    assert set(results) == set(QUERIES_V02)
    assert all(results[k]["result"] for k in QUERIES_V02 if k != "q9")


@pytest.mark.parametrize("kind, schema", [("entity", "suggest-entities-response.json"), ("type", "suggest-types-response.json"), ("property", "suggest-properties-response.json")])
@pytest.mark.parametrize("prefix", ["", "s", "Небо", "luna", "film/"])
def test_v02_suggest_responses_validate(live_server, kind: str, schema: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    R.validate(V02, schema, _get(f"{live_server.url}/reconcile/suggest/{kind}", prefix=prefix).json())


def test_v02_data_extension_and_proposals_validate(live_server) -> None:  # type: ignore[no-untyped-def]
    query = {
        "ids": ["film/nebo-zovyot", "film/sky-beckons-1959", "film/cosmos-is-calling-1965", "mission/luna-2", "person/h-g-wells", "film/no-such-film"],
        "properties": [{"id": p} for p in ("year", "original_title", "director", "identification_status", "identified_as", "duplicate_of", "list_position", "imdb", "wikidata", "wikipedia", "date")]
        + [{"id": "other_titles", "settings": {"limit": "2"}}],
    }
    R.validate(V02, "data-extension-query.json", query)
    resp = requests.post(f"{live_server.url}/reconcile", data={"extend": json.dumps(query)}, timeout=30)
    assert resp.status_code == 200, resp.text
    R.validate(V02, "data-extension-response.json", resp.json())
    for type_id in ("film", "film-record", "real-film", "mission", "person", "work"):
        R.validate(V02, "data-extension-property-proposal.json", _get(f"{live_server.url}/reconcile/extend/propose", type=type_id, limit=5).json())


def test_v1_manifest_validates(live_server) -> None:  # type: ignore[no-untyped-def]
    manifest = _get(f"{live_server.url}/reconcile/v1/").json()
    R.validate(V1, "manifest.json", manifest)
    assert manifest["versions"] == ["1.0-draft"]


def test_v1_query_batch_and_results_validate(live_server) -> None:  # type: ignore[no-untyped-def]
    batch = {
        "queries": [
            {"conditions": [{"matchType": "name", "propertyValue": "The Sky Beckons"}]},
            {"type": "film", "limit": 5, "conditions": [{"matchType": "name", "propertyValue": "Небо зовёт"},
                                                         {"matchType": "property", "propertyId": "year", "propertyValue": 1959, "required": False}]},
            {"conditions": [{"matchType": "id", "propertyValue": "film/cosmos-is-calling-1965"}]},
            {"conditions": [{"matchType": "property", "propertyId": "P345", "propertyValue": "tt0056352", "required": True}]},
            {"type": "mission", "conditions": [{"matchType": "name", "propertyValue": "Vostok 1"}]},
        ]
    }
    R.validate(V1, "reconciliation-query-batch.json", batch)
    resp = requests.post(f"{live_server.url}/reconcile/v1/match", json=batch, timeout=30)
    assert resp.status_code == 200, resp.text
    results = resp.json()
    R.validate(V1, "reconciliation-result-batch.json", results)
    assert len(results["results"]) == len(batch["queries"])


@pytest.mark.parametrize("kind, schema", [("entity", "suggest-entities-response.json"), ("type", "suggest-types-response.json"), ("property", "suggest-properties-response.json")])
def test_v1_suggest_responses_validate(live_server, kind: str, schema: str) -> None:  # type: ignore[no-untyped-def]
    for prefix in ("", "sky", "P5"):
        R.validate(V1, schema, _get(f"{live_server.url}/reconcile/v1/suggest/{kind}", prefix=prefix).json())


def test_v1_data_extension_and_proposals_validate(live_server) -> None:  # type: ignore[no-untyped-def]
    query = {"ids": ["film/nebo-zovyot", "film/sky-beckons-1959", "work/astronauci"], "properties": [{"id": "year"}, {"id": "director"}, {"id": "author", "settings": {"limit": 1}}, {"id": "identification_status"}]}
    R.validate(V1, "data-extension-query.json", query)
    resp = requests.post(f"{live_server.url}/reconcile/v1/extend", json=query, timeout=30)
    assert resp.status_code == 200, resp.text
    R.validate(V1, "data-extension-response.json", resp.json())
    R.validate(V1, "data-extension-property-proposal.json", _get(f"{live_server.url}/reconcile/v1/extend/propose", type="film").json())
