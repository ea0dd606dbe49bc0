"""The example queries of the query UI (queries/examples/*.rq): they run, and they say what they claim."""

from __future__ import annotations

import pytest

from filmgraph.site.examples import Example, examples_fingerprint, list_examples, parse_example
from filmgraph.truth.rules import run_rules


def _example(name: str) -> Example:
    return next(ex for ex in list_examples() if ex.name == name)


def test_examples_are_listed_in_file_order_with_labels_and_comments() -> None:
    examples = list_examples()
    assert [ex.name for ex in examples] == sorted(ex.name for ex in examples)
    assert len(examples) >= 3
    assert all(ex.label and ex.comment for ex in examples)


def test_example_declares_the_prefixes_it_uses_for_the_configured_base() -> None:
    example = list_examples()[0]
    text = example.sparql("http://example.org/films/")
    assert "PREFIX fg: <http://example.org/films/ontology#>" in text
    assert "PREFIX schema: <https://schema.org/>" in text
    assert "PREFIX dcat:" not in text  # only what the query uses
    assert text.startswith("# ")  # the comment tells the reader what it finds


def test_example_without_a_label_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks label"):
        parse_example("9-broken", "# comment: no label\nSELECT * WHERE { ?s ?p ?o }\n")


def test_every_example_runs_and_finds_something(services) -> None:  # type: ignore[no-untyped-def]
    for example in list_examples():
        rows = services.store.select(example.sparql(services.store.base_iri))
        assert rows, f"example {example.name} finds nothing"


def test_first_example_lists_the_ten_records_by_year(services) -> None:  # type: ignore[no-untyped-def]
    rows = services.store.select(list_examples()[0].sparql(services.store.base_iri))
    years = [int(row["year"].value) for row in rows]
    assert len(rows) == 10
    assert years == sorted(years)
    assert {"The Silent Star", "The Space Adventure"} <= {row["title"].value for row in rows}


def test_impossible_claims_example_finds_what_the_timing_rules_find(services) -> None:  # type: ignore[no-untyped-def]
    example = _example("2-impossible-claims")
    rows = services.store.select(example.sparql(services.store.base_iri))
    found = {row["claim"].value for row in rows}
    report = run_rules(services.store, ["released-after-later-event", "inspired-by-later-thing"])
    assert found == {f.concerns for f in report.findings}
    assert found, "the shipped data has impossible timing claims; the example must show them"


def test_same_year_example_pairs_films_and_missions_of_one_year(services) -> None:  # type: ignore[no-untyped-def]
    example = _example("3-films-and-missions-of-a-year")
    rows = services.store.select(example.sparql(services.store.base_iri))
    titles = {(row["year"].value, row["filmTitle"].value, row["missionName"].value) for row in rows}
    assert ("1961", "The First Flight", "Vostok 1") in titles


def test_fingerprint_changes_with_the_base_iri() -> None:
    examples = list_examples()
    assert examples_fingerprint(examples, "https://w3id.org/filmgraph/") != examples_fingerprint(
        examples, "http://example.org/"
    )
