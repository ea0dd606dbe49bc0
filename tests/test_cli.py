"""The filmgraph command as a user runs it: validate, check, export, query, build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
import rdflib.compare

from filmgraph.cli import main
from filmgraph.formats.langtag import recase_serialized
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore

DATA = Path(__file__).resolve().parents[1] / "data"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "filmgraph.cli", *args], capture_output=True, text=True, timeout=300)


def test_validate_passes_on_the_shipped_data() -> None:
    done = run("validate")
    assert done.returncode == 0, done.stderr
    assert "conform" in done.stdout


def test_validate_fails_on_a_broken_copy_naming_file_node_and_rule(tmp_path: Path) -> None:
    broken = tmp_path / "data"
    shutil.copytree(DATA, broken)
    films = broken / "films.ttl"
    # A second year on one record: the shapes allow exactly one.
    films.write_text(films.read_text() + '\n<https://w3id.org/filmgraph/film/star-1962> <https://schema.org/datePublished> "1999"^^<http://www.w3.org/2001/XMLSchema#gYear> .\n')
    files = ":".join(str(p) for p in sorted(broken.glob("*.ttl")))
    done = run("validate", "--data", files)
    assert done.returncode != 0
    assert "films.ttl" in done.stderr
    assert "https://w3id.org/filmgraph/film/star-1962" in done.stderr
    assert "datePublished" in done.stderr


def test_validate_names_the_file_and_position_of_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix s: <https://schema.org/> .\n<https://w3id.org/filmgraph/film/x> s:name "unterminated .\n')
    done = run("validate", "--data", str(bad))
    assert done.returncode != 0
    assert "bad.ttl" in done.stderr and "2" in done.stderr


def test_check_reports_the_three_impossible_timings_with_their_dates() -> None:
    done = run("check")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "'A Dream Come True (1960)' was released after Vostok 1" in out and "1961-04-12" in out
    assert "'The Star (1962)' was inspired by Salyut 1" in out and "1969" in out
    assert "'The Red Planet (1964)' was released after Mariner 4 flyby" in out and "1965-07-15" in out
    # 6 errors: the four timings above, and entries 2 and 3 depicting as past the first crewed flight (1961);
    # 3 warnings: two records of title-only films, entry 8 a probable duplicate of entry 2
    assert "6 errors, 3 warnings" in out


def test_check_fail_on_error_exits_one_when_something_is_impossible() -> None:
    assert run("check", "--fail-on-error").returncode == 1


def test_check_as_turtle_is_rdf() -> None:
    done = run("check", "--format", "turtle")
    g = rdflib.Graph().parse(data=done.stdout, format="turtle")
    fg = rdflib.Namespace("https://w3id.org/filmgraph/ontology#")
    assert len(list(g.subjects(rdflib.RDF.type, fg.Finding))) == 9  # 6 errors, 3 warnings (test_check_reports_...)


@pytest.mark.parametrize(("fmt", "parser"), [("turtle", "turtle"), ("jsonld", "json-ld"), ("ntriples", "nt")])
def test_export_parses_back_isomorphic_to_the_loaded_data(fmt: str, parser: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "--format", fmt]) == 0
    exported = rdflib.Graph().parse(data=capsysbinary.readouterr().out, format=parser)
    loaded = EmbeddedStore.build(Settings())
    # Oxigraph lower-cases language tags; the export writes them as the data does (ru-Latn).
    written = recase_serialized("".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in loaded.triples()).encode())
    reference = rdflib.Graph().parse(data=written.decode(), format="nt")
    assert len(exported) == len(reference) == len(loaded)
    assert rdflib.compare.isomorphic(exported, reference)


def test_jsonld_export_has_a_compact_chosen_context(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    import json

    main(["export", "--format", "jsonld"])
    doc = json.loads(capsysbinary.readouterr().out)
    context = doc["@context"]
    assert context["schema"] == "https://schema.org/" and context["fg"] == "https://w3id.org/filmgraph/ontology#"
    assert context["name"] == "schema:name" and context["id"] == "@id"
    assert any(node["id"] == "https://w3id.org/filmgraph/film/silent-star-1960" for node in doc["@graph"])


def test_query_prints_results_with_the_endpoints_limits(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["query", "SELECT (COUNT(*) AS ?n) WHERE { ?f a <https://w3id.org/filmgraph/ontology#FilmRecord> }", "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out.decode().splitlines() == ["n", "10"]


def test_query_says_which_limit_cut_its_answer() -> None:
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    by_rows = run("query", everything, "--format", "csv", "--max-rows", "3")
    assert by_rows.returncode == 0, by_rows.stderr
    assert len(by_rows.stdout.splitlines()) == 4  # the header and 3 rows
    assert "(truncated to 3 rows: max_rows is 3 rows)" in by_rows.stderr
    by_bytes = run("query", everything, "--format", "csv", "--max-result-bytes", "2048")
    assert by_bytes.returncode == 0, by_bytes.stderr
    assert len(by_bytes.stdout.encode()) <= 2048
    assert "max_result_bytes is 2048 bytes" in by_bytes.stderr and "max_rows" not in by_bytes.stderr


def test_query_refuses_updates_with_exit_two() -> None:
    done = run("query", "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")
    assert done.returncode == 2 and "read-only" in done.stderr


def test_build_then_serve_from_the_prebuilt_store(tmp_path: Path) -> None:
    done = run("build", str(tmp_path / "store"))
    assert done.returncode == 0, done.stderr
    opened = EmbeddedStore.open(tmp_path / "store")
    assert len(opened) == len(EmbeddedStore.build(Settings()))


def test_every_command_has_help() -> None:
    for command in ("serve", "validate", "check", "export", "query", "build", "settings", "load", "link"):
        done = run(command, "--help")
        assert done.returncode == 0 and "usage:" in done.stdout, command
