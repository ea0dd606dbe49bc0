"""The Mix'n'match catalog: the format its importer reads, every film once, honest descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from filmgraph.cli import main
from filmgraph.reconcile.mixnmatch import COLUMNS, FILENAME, write_catalog
from filmgraph.site.services import Services

ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def catalog(services: Services) -> list[list[str]]:
    """The catalog's lines, split into cells."""
    text = write_catalog(services.store)
    assert text.endswith("\n")
    return [line.split("\t") for line in text.splitlines()]


def test_the_header_names_the_columns_mixnmatch_reads(catalog: list[list[str]]) -> None:
    assert catalog[0] == ["id", "name", "desc", "url", "type"] == list(COLUMNS)


def test_every_line_has_five_cells_and_a_film_id(catalog: list[list[str]], services: Services) -> None:
    base = services.store.base_iri
    for row in catalog[1:]:
        assert len(row) == 5, row
        film_id, name, desc, url, type_ = row
        assert ID.match(film_id) and name and desc
        assert url == f"{base}film/{film_id}"
        assert type_ == "Q11424"


def test_every_record_and_real_film_is_listed_once(catalog: list[list[str]], services: Services) -> None:
    rows = services.store.select(
        "SELECT ?f ?record ?film WHERE { { ?f a ?record } UNION { ?f a ?film } }",
        {"record": _fg(services, "FilmRecord"), "film": _fg(services, "Film")},
    )
    expected = sorted(r["f"].value.rsplit("/", 1)[-1] for r in rows)
    ids = [row[0] for row in catalog[1:]]
    assert sorted(ids) == expected and len(ids) == len(set(ids)) == 21


def _fg(services: Services, name: str):  # type: ignore[no-untyped-def]
    from pyoxigraph import NamedNode

    return NamedNode(f"{services.store.base_iri}ontology#{name}")


def test_records_come_first_in_list_order_with_their_status(catalog: list[list[str]]) -> None:
    rows = {row[0]: row for row in catalog[1:]}
    assert [row[0] for row in catalog[1:4]] == ["silent-star-1960", "sky-beckons-1959", "dream-come-true-1960"]
    assert "probable duplicate of The Sky Beckons (1959)" in rows["cosmos-is-calling-1965"][2]
    assert "no real film matches it" in rows["red-planet-1964"][2]
    assert "identified as the film The Sky Calls (1959)" in rows["sky-beckons-1959"][2]
    assert all("record of the list, not a verified film" in rows[i][2] for i in ("sky-beckons-1959", "red-planet-1964"))
    assert "record of the list" not in rows["nebo-zovyot"][2] and "1959" in rows["nebo-zovyot"][2]


def test_export_mixnmatch_writes_the_catalog_instead_of_rdf(tmp_path: Path, services: Services) -> None:
    out = tmp_path / "catalog.tsv"
    assert main(["export", "--mixnmatch", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == write_catalog(services.store)


def test_the_dumps_page_offers_the_catalog(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    index = client.get("/dumps/")
    assert index.status_code == 200 and FILENAME in index.get_data(as_text=True)
    resp = client.get(f"/dumps/{FILENAME}")
    try:
        assert resp.status_code == 200
        assert resp.mimetype == "text/tab-separated-values"
        assert resp.get_data(as_text=True) == write_catalog(services.store)
    finally:
        resp.close()  # send_file's open file
