"""The shipped dataset: it parses, conforms to the shapes, and tells the truth about the list.

These tests read the files themselves (rdflib, pyoxigraph, pyshacl), not through
filmgraph code, and check them against the shared reference documents
(``reference/source-list.md`` and ``reference/facts.md``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

BASE = "https://w3id.org/filmgraph/"
FG = Namespace(BASE + "ontology#")
SCHEMA = Namespace("https://schema.org/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
PROV = Namespace("http://www.w3.org/ns/prov#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SH = Namespace("http://www.w3.org/ns/shacl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

# The Wikidata QIDs that reference/facts.md lists as verified (and the project allows).
ALLOWED_QIDS = frozenset(
    {"Q80811", "Q182524", "Q722791", "Q7327", "Q42511", "Q213019", "Q15180", "Q23548", "Q405", "Q170413"}
)

# reference/facts.md, section 1: record id -> (status, identified as / duplicate of).
EXPECTED_IDENTIFICATION = {
    "silent-star-1960": ("Identified", "film/der-schweigende-stern"),
    "sky-beckons-1959": ("Identified", "film/nebo-zovyot"),
    "dream-come-true-1960": ("TitleMatchOnly", "film/mechte-navstrechu"),
    "first-flight-1961": ("NoMatchFound", None),
    "star-1962": ("NoMatchFound", None),
    "space-voyage-1963": ("TitleMatchOnly", "film/kosmicheskiy-reys"),
    "red-planet-1964": ("NoMatchFound", None),
    "cosmos-is-calling-1965": ("ProbableDuplicate", "film/sky-beckons-1959"),
    "star-of-the-east-1966": ("NoMatchFound", None),
    "space-adventure-1967": ("NoMatchFound", None),
}

FIELD_PROPERTY = {
    FG.TitleField: SCHEMA.name,
    FG.YearField: SCHEMA.datePublished,
    FG.DescriptionField: SCHEMA.description,
    FG.FactField: FG.factText,
}


@dataclass(frozen=True)
class Entry:
    """One entry of the curated list as the source document gives it."""

    position: int
    title: str
    year: str
    description: str
    fact: str


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data_files(repo_dir: Path) -> list[Path]:
    files = sorted((repo_dir / "data").glob("*.ttl"))
    assert files, "no data/*.ttl files"
    return files


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    path = Path(__file__).resolve().parents[3] / "shared" / "reference"
    if not path.is_dir():
        pytest.skip(f"the shared reference folder {path} is absent")
    return path


@pytest.fixture(scope="module")
def dataset(data_files: list[Path]) -> Graph:
    graph = Graph()
    for path in data_files:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def validate(shapes: Graph, ontology: Graph) -> Callable[[Graph], tuple[bool, Graph, str]]:
    """Validate a data graph the way filmgraph's loader does."""

    def _validate(graph: Graph) -> tuple[bool, Graph, str]:
        conforms, report_graph, report_text = pyshacl.validate(
            graph,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
        return bool(conforms), report_graph, str(report_text)

    return _validate


@pytest.fixture(scope="module")
def entries(reference_dir: Path) -> list[Entry]:
    """The entries of the curated list, parsed from source-list.md."""
    text = (reference_dir / "source-list.md").read_text(encoding="utf-8")
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    lines = block.split("\n")
    found = []
    for i, line in enumerate(lines):
        heading = re.fullmatch(r"(.+) \((\d{4})\)", line)
        if heading:
            description = lines[i + 1]
            fact = lines[i + 2]
            assert description.startswith("Description: ") and fact.startswith("Fact: "), line
            found.append(
                Entry(
                    position=len(found) + 1,
                    title=heading.group(1),
                    year=heading.group(2),
                    description=description[len("Description: ") :],
                    fact=fact[len("Fact: ") :],
                )
            )
    assert len(found) == 10
    return found


@pytest.fixture(scope="module")
def intro(reference_dir: Path) -> str:
    text = (reference_dir / "source-list.md").read_text(encoding="utf-8")
    block = text.split("```text\n", 1)[1]
    return block.split("\n", 1)[0]


@pytest.fixture(scope="module")
def facts_text(reference_dir: Path) -> str:
    return (reference_dir / "facts.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def wikipedia_urls(facts_text: str) -> dict[str, set[str]]:
    """Wikipedia URLs in facts.md, split by marking: 'seen' (exact URL seen) and 'pattern'."""
    url_re = re.compile(r"(?:https://)?[a-z]+\.wikipedia\.org/wiki/[^\s|*;,]+")
    marks: dict[str, set[str]] = {"seen": set(), "pattern": set()}
    for line in facts_text.splitlines():
        matches = list(url_re.finditer(line))
        for k, match in enumerate(matches):
            url = match.group(0).rstrip(".")
            if url.count(")") > url.count("("):
                url = url[:-1]
            if not url.startswith("https://"):
                url = "https://" + url
            end = matches[k + 1].start() if k + 1 < len(matches) else len(line)
            mark = re.search(r"\*\((seen|pattern)", line[match.end() : end])
            if mark:
                marks[mark.group(1)].add(url)
    assert "https://en.wikipedia.org/wiki/Vostok_1" in marks["seen"]
    assert "https://en.wikipedia.org/wiki/Nebo_Zovyot" in marks["pattern"]
    return marks


@pytest.fixture(scope="module")
def listed_imdb_ids(facts_text: str) -> set[str]:
    ids = set()
    for line in facts_text.splitlines():
        if "IMDb" in line:
            ids.update("tt" + digits for digits in re.findall(r"\b(?:tt)?(\d{7})\b", line))
    assert "tt0056352" in ids
    return ids


def _iri(path: str) -> URIRef:
    return URIRef(BASE + path)


def _single(graph: Graph, subject: Node, predicate: URIRef) -> Node:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, f"{subject} has {len(values)} values for {predicate}"
    return values[0]


# ---------------------------------------------------------------- parsing


def test_every_data_file_parses_with_rdflib_and_oxigraph(data_files: list[Path]) -> None:
    for path in data_files:
        assert len(Graph().parse(path, format="turtle")) > 0, path
        assert list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)), path


def test_ontology_and_shapes_parse_with_oxigraph(repo_dir: Path) -> None:
    for name in ("filmgraph.ttl", "shapes.ttl"):
        path = repo_dir / "ontology" / name
        assert list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)), path


def test_data_files_hold_no_ontology_or_shapes_triples(data_files: list[Path]) -> None:
    schema_types = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.Ontology, RDFS.Class, SH.NodeShape}
    for path in data_files:
        graph = Graph().parse(path, format="turtle")
        for s, p, o in graph:
            assert not str(s).startswith(str(FG)), f"{path.name}: ontology term {s} described in data"
            assert not str(p).startswith(str(SH)), f"{path.name}: SHACL triple {s} {p} {o}"
            assert not (p == RDF.type and o in schema_types), f"{path.name}: {s} a {o}"


# ---------------------------------------------------------------- SHACL


def test_dataset_conforms_to_the_shapes(dataset: Graph, validate: Callable[[Graph], tuple[bool, Graph, str]]) -> None:
    conforms, _, text = validate(dataset)
    assert conforms, text


def _drop(graph: Graph, s: Node, p: URIRef) -> None:
    graph.remove((s, p, None))


def _set(graph: Graph, s: Node, p: URIRef, o: Node) -> None:
    graph.remove((s, p, None))
    graph.add((s, p, o))


def _record_with_two_years(g: Graph) -> Node:
    node = _iri("film/silent-star-1960")
    g.add((node, SCHEMA.datePublished, Literal("1961", datatype=XSD.gYear)))
    return node


def _claim_without_assessment(g: Graph) -> Node:
    node = _iri("claim/sky-beckons-1959-race-to-the-moon")
    _drop(g, node, FG.assessment)
    return node


def _claim_with_assessment_outside_the_set(g: Graph) -> Node:
    node = _iri("claim/star-1962-inspired-by-salyut")
    _set(g, node, FG.assessment, FG.Identified)
    return node


def _identified_record_without_film(g: Graph) -> Node:
    node = _iri("film/sky-beckons-1959")
    _drop(g, node, FG.identifiedAs)
    return node


def _unmatched_record_with_film(g: Graph) -> Node:
    node = _iri("film/star-1962")
    g.add((node, FG.identifiedAs, _iri("film/planeta-bur")))
    return node


def _duplicate_without_original(g: Graph) -> Node:
    node = _iri("film/cosmos-is-calling-1965")
    _drop(g, node, FG.duplicateOf)
    return node


def _record_with_two_statuses(g: Graph) -> Node:
    node = _iri("film/red-planet-1964")
    g.add((node, FG.identificationStatus, FG.Identified))
    return node


def _record_with_owl_same_as(g: Graph) -> Node:
    node = _iri("film/first-flight-1961")
    g.add((node, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q182524")))
    return node


def _relation_as_plain_triple(g: Graph) -> Node:
    node = _iri("film/dream-come-true-1960")
    g.add((node, FG.releasedAfter, _iri("mission/vostok-1")))
    return node


def _release_year_disagreeing_with_date(g: Graph) -> Node:
    node = _iri("film/red-planet-1964")
    _set(g, node, FG.releaseYear, _iri("year/1965"))
    return node


def _two_records_in_one_position(g: Graph) -> Node:
    node = _iri("film/star-1962")
    _set(g, node, FG.listPosition, Literal(4))
    return node


def _claim_text_not_verbatim(g: Graph) -> Node:
    node = _iri("claim/dream-come-true-1960-months-after-gagarin")
    _set(g, node, FG.claimText, Literal("The film was released months after Gagarin's flight", lang="en"))
    return node


def _claim_predicate_without_object(g: Graph) -> Node:
    node = _iri("claim/star-of-the-east-1966-inspired-by-seti")
    _drop(g, node, FG.claimObject)
    return node


def _contradicted_claim_without_evidence(g: Graph) -> Node:
    node = _iri("claim/red-planet-1964-after-mariner-4")
    _drop(g, node, FG.evidence)
    return node


def _film_not_typed_movie(g: Graph) -> Node:
    node = _iri("film/aelita")
    g.remove((node, RDF.type, SCHEMA.Movie))
    return node


def _mission_missing_its_launch_year(g: Graph) -> Node:
    node = _iri("mission/vostok-1")
    g.remove((node, FG.year, _iri("year/1961")))
    return node


def _event_in_the_wrong_year(g: Graph) -> Node:
    node = _iri("mission/mariner-4#flyby")
    _set(g, node, FG.year, _iri("year/1964"))
    return node


def _event_under_another_mission(g: Graph) -> Node:
    node = _iri("mission/luna-2#impact")
    _set(g, node, FG.eventOf, _iri("mission/luna-1"))
    return node


def _wikidata_page_instead_of_entity(g: Graph) -> Node:
    node = URIRef("https://www.wikidata.org/wiki/Q80811")
    g.add((_iri("mission/sputnik-1"), SCHEMA.sameAs, node))
    return node


def _year_with_wrong_label(g: Graph) -> Node:
    node = _iri("year/1961")
    _set(g, node, RDFS.label, Literal("1916"))
    return node


def _theme_outside_the_scheme(g: Graph) -> Node:
    node = _iri("theme/mars")
    _drop(g, node, SKOS.inScheme)
    return node


def _person_without_name(g: Graph) -> Node:
    node = _iri("person/kurt-maetzig")
    _drop(g, node, SCHEMA.name)
    return node


def _record_title_without_language(g: Graph) -> Node:
    node = _iri("film/star-1962")
    _set(g, node, SCHEMA.name, Literal("The Star"))
    return node


BREAKAGES: list[Callable[[Graph], Node]] = [
    _record_with_two_years,
    _claim_without_assessment,
    _claim_with_assessment_outside_the_set,
    _identified_record_without_film,
    _unmatched_record_with_film,
    _duplicate_without_original,
    _record_with_two_statuses,
    _record_with_owl_same_as,
    _relation_as_plain_triple,
    _release_year_disagreeing_with_date,
    _two_records_in_one_position,
    _claim_text_not_verbatim,
    _claim_predicate_without_object,
    _contradicted_claim_without_evidence,
    _film_not_typed_movie,
    _mission_missing_its_launch_year,
    _event_in_the_wrong_year,
    _event_under_another_mission,
    _wikidata_page_instead_of_entity,
    _year_with_wrong_label,
    _theme_outside_the_scheme,
    _person_without_name,
    _record_title_without_language,
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.lstrip("_"))
def test_broken_copy_does_not_conform_and_the_report_names_the_node(
    breakage: Callable[[Graph], Node],
    dataset: Graph,
    validate: Callable[[Graph], tuple[bool, Graph, str]],
) -> None:
    broken = Graph()
    broken += dataset
    node = breakage(broken)
    conforms, report, text = validate(broken)
    assert not conforms
    focus_nodes = set(report.objects(None, SH.focusNode))
    assert node in focus_nodes, text
    messages = [str(m) for m in report.objects(None, SH.resultMessage)]
    assert messages and all(m.strip() for m in messages)


# ---------------------------------------------------------------- verbatim records


def _record_at(dataset: Graph, position: int) -> Node:
    records = [r for r in dataset.subjects(FG.listPosition, Literal(position)) if (r, RDF.type, FG.FilmRecord) in dataset]
    assert len(records) == 1, f"{len(records)} records at list position {position}"
    return records[0]


def test_records_repeat_the_list_verbatim(dataset: Graph, entries: list[Entry]) -> None:
    assert len(set(dataset.subjects(RDF.type, FG.FilmRecord))) == len(entries) == 10
    for entry in entries:
        record = _record_at(dataset, entry.position)
        for prop, expected in (
            (SCHEMA.name, entry.title),
            (SCHEMA.description, entry.description),
            (FG.factText, entry.fact),
        ):
            value = _single(dataset, record, prop)
            assert isinstance(value, Literal) and value.language == "en", (record, prop)
            assert str(value) == expected, f"{record} {prop}:\n{value!r}\n!=\n{expected!r}"
        year = _single(dataset, record, SCHEMA.datePublished)
        assert isinstance(year, Literal) and year.datatype == XSD.gYear and str(year) == entry.year
        assert _single(dataset, _single(dataset, record, FG.releaseYear), FG.yearNumber).toPython() == int(entry.year)


def test_record_two_keeps_its_fact_without_a_final_period(dataset: Graph) -> None:
    fact = str(_single(dataset, _iri("film/sky-beckons-1959"), FG.factText))
    assert fact.endswith("space probe, Luna")


def test_records_and_claims_derive_from_the_described_list(dataset: Graph, intro: str) -> None:
    source = _iri("work/curated-list")
    assert (source, RDF.type, SCHEMA.CreativeWork) in dataset
    assert str(_single(dataset, source, SCHEMA.abstract)) == intro
    assert str(_single(dataset, source, SCHEMA.description)) == "machine-written list"
    for cls in (FG.FilmRecord, FG.Claim):
        for node in dataset.subjects(RDF.type, cls):
            assert (node, PROV.wasDerivedFrom, source) in dataset, node


# ---------------------------------------------------------------- identifiers


def _all_iris(graph: Graph) -> set[URIRef]:
    return {term for triple in graph for term in triple if isinstance(term, URIRef)}


def test_only_allowed_wikidata_qids_are_written(dataset: Graph) -> None:
    wikidata = [iri for iri in _all_iris(dataset) if "wikidata.org" in str(iri)]
    assert wikidata, "expected some verified Wikidata links"
    for iri in wikidata:
        match = re.fullmatch(r"http://www\.wikidata\.org/entity/(Q[0-9]+)", str(iri))
        assert match, f"not a Wikidata entity IRI: {iri}"
        assert match.group(1) in ALLOWED_QIDS, f"unverified QID: {iri}"


def test_no_qid_for_films_or_unverified_missions_people_and_works(dataset: Graph) -> None:
    unverified = [
        *dataset.subjects(RDF.type, FG.Film),
        *dataset.subjects(RDF.type, FG.FilmRecord),
        *(_iri(f"mission/{m}") for m in ("luna-1", "luna-2", "luna-3", "venera-1", "mars-1", "mariner-4",
                                         "salyut-1", "vostok-programme", "project-ozma")),
        _iri("person/stanislaw-lem"),
        _iri("work/astronauci"),
        _iri("country/east-germany"),
        _iri("country/poland"),
    ]
    for node in unverified:
        for link in (*dataset.objects(node, OWL.sameAs), *dataset.objects(node, SCHEMA.sameAs)):
            assert "wikidata.org" not in str(link), f"{node} has unverified QID {link}"


def test_imdb_ids_are_only_those_facts_lists(dataset: Graph, listed_imdb_ids: set[str]) -> None:
    written = {str(o) for o in dataset.objects(None, FG.imdbId)}
    assert written, "expected the verified IMDb ids"
    assert written <= listed_imdb_ids
    # the one id facts.md marks as low confidence is not published
    assert "tt0053250" not in written


def test_film_records_carry_no_identity_links(dataset: Graph) -> None:
    for record in dataset.subjects(RDF.type, FG.FilmRecord):
        for prop in (OWL.sameAs, SCHEMA.sameAs, FOAF.isPrimaryTopicOf, FG.imdbId, FG.qualifiedLink):
            assert not list(dataset.objects(record, prop)), f"{record} has {prop}"


def test_wikipedia_links_are_seen_or_marked_as_title_pattern(
    dataset: Graph, wikipedia_urls: dict[str, set[str]]
) -> None:
    seen, pattern = wikipedia_urls["seen"], wikipedia_urls["pattern"]
    qualified = {
        link: str(_single(dataset, link, FG.linkTarget)) for link in dataset.subjects(RDF.type, FG.QualifiedLink)
    }
    for link, target in qualified.items():
        assert (link, FG.linkBasis, FG.TitlePattern) in dataset, link
        assert target in pattern, f"{target} is not a (pattern) URL of facts.md"
    plain = 0
    for prop in (FOAF.isPrimaryTopicOf, SCHEMA.sameAs, FG.evidence):
        for target in dataset.objects(None, prop):
            if "wikipedia.org" in str(target):
                plain += 1
                assert str(target) in seen, f"{target} used with {prop} is not marked (seen) in facts.md"
    assert plain and qualified


# ---------------------------------------------------------------- identification


def test_each_record_has_exactly_one_identification_status(dataset: Graph) -> None:
    for record in dataset.subjects(RDF.type, FG.FilmRecord):
        _single(dataset, record, FG.identificationStatus)


def test_identification_statuses_are_as_facts_section_one_says(dataset: Graph) -> None:
    statuses = Counter()
    for record_id, (status, target) in EXPECTED_IDENTIFICATION.items():
        record = _iri(f"film/{record_id}")
        assert _single(dataset, record, FG.identificationStatus) == FG[status], record_id
        statuses[status] += 1
        if status in ("Identified", "TitleMatchOnly"):
            assert _single(dataset, record, FG.identifiedAs) == _iri(target), record_id
        elif status == "ProbableDuplicate":
            assert _single(dataset, record, FG.duplicateOf) == _iri(target), record_id
            assert (record, FG.possibleConfusion, _iri("film/nebo-zovyot")) in dataset
        else:
            assert not list(dataset.objects(record, FG.identifiedAs)), record_id
            assert list(dataset.objects(record, FG.possibleConfusion)), record_id
    assert statuses == {"Identified": 2, "TitleMatchOnly": 2, "ProbableDuplicate": 1, "NoMatchFound": 5}


def test_real_films_keep_titles_in_their_languages(dataset: Graph) -> None:
    nebo = _iri("film/nebo-zovyot")
    titles = set(dataset.objects(nebo, SKOS.altLabel))
    assert Literal("Небо зовёт", lang="ru") in set(dataset.objects(nebo, FG.originalTitle))
    assert {Literal("Nebo zovyot", lang="ru-latn"), Literal("Kosmos wzywa", lang="pl"),
            Literal("The Cosmos Calls", lang="en"), Literal("Battle Beyond the Sun", lang="en")} <= titles
    stern = _iri("film/der-schweigende-stern")
    assert Literal("Der schweigende Stern", lang="de") in set(dataset.objects(stern, FG.originalTitle))
    assert Literal("First Spaceship on Venus", lang="en") in set(dataset.objects(stern, SKOS.altLabel))
    assert (stern, SCHEMA.isBasedOn, _iri("work/astronauci")) in dataset


# ---------------------------------------------------------------- missions


@pytest.mark.parametrize(
    ("node", "prop", "expected"),
    [
        ("mission/vostok-1", SCHEMA.startDate, "1961-04-12"),
        ("mission/mariner-4#flyby", SCHEMA.startDate, "1965-07-15"),
        ("mission/luna-2#impact", SCHEMA.startDate, "1959-09-13"),
        ("mission/salyut-1", SCHEMA.startDate, "1971-04-19"),
        ("mission/salyut-1", FG.conceivedDate, "1969-08"),
        ("mission/mariner-4", SCHEMA.startDate, "1964-11-28"),
        ("mission/luna-1", SCHEMA.startDate, "1959-01-02"),
        ("mission/sputnik-1", SCHEMA.startDate, "1957-10-04"),
        ("mission/project-ozma", SCHEMA.startDate, "1960-04-08"),
        ("organization/russian-space-agency", SCHEMA.foundingDate, "1992-02"),
    ],
)
def test_real_dates_are_as_facts_gives_them(dataset: Graph, node: str, prop: URIRef, expected: str) -> None:
    assert str(_single(dataset, _iri(node), prop)).startswith(expected)


def test_launch_times_are_utc_datetimes(dataset: Graph) -> None:
    launch = _single(dataset, _iri("mission/vostok-1"), SCHEMA.startDate)
    assert isinstance(launch, Literal) and launch.datatype == XSD.dateTime
    assert launch.toPython() == datetime(1961, 4, 12, 6, 7, tzinfo=timezone.utc)


def test_every_year_pointed_at_is_a_year_node(dataset: Graph) -> None:
    pointed = set(dataset.objects(None, FG.releaseYear)) | set(dataset.objects(None, FG.year))
    for year in pointed:
        assert (year, RDF.type, FG.Year) in dataset, year
        number = _single(dataset, year, FG.yearNumber)
        assert str(year) == f"{BASE}year/{number}"


# ---------------------------------------------------------------- claims


def test_every_claim_has_exactly_one_assessment(dataset: Graph) -> None:
    claims = set(dataset.subjects(RDF.type, FG.Claim))
    assert len(claims) >= 30
    for claim in claims:
        assert _single(dataset, claim, FG.assessment) in {FG.Supported, FG.Contradicted, FG.Unverified}


def test_every_record_has_claims(dataset: Graph) -> None:
    about = Counter(dataset.objects(None, FG.about))
    for record in dataset.subjects(RDF.type, FG.FilmRecord):
        assert about[record] >= 2, record


def test_claim_texts_are_verbatim_excerpts_of_their_field(dataset: Graph) -> None:
    for claim in dataset.subjects(RDF.type, FG.Claim):
        text = str(_single(dataset, claim, FG.claimText))
        record = _single(dataset, claim, FG.about)
        field = str(_single(dataset, record, FIELD_PROPERTY[_single(dataset, claim, FG.claimSource)]))
        assert text in field, f"{claim}: {text!r} not in {field!r}"


@pytest.mark.parametrize(
    ("record", "predicate", "obj", "assessment"),
    [
        ("dream-come-true-1960", "releasedAfter", "mission/vostok-1", "Contradicted"),
        ("star-1962", "inspiredBy", "mission/salyut-1", "Contradicted"),
        ("red-planet-1964", "releasedAfter", "mission/mariner-4#flyby", "Contradicted"),
        ("sky-beckons-1959", "releasedInYearOf", "mission/luna-1", "Supported"),
        ("star-of-the-east-1966", "inspiredBy", "mission/project-ozma", "Unverified"),
        ("space-adventure-1967", "madeWithCooperationOf", "organization/russian-space-agency", "Contradicted"),
        ("silent-star-1960", "basedOn", "work/astronauci", "Supported"),
    ],
)
def test_relation_claims_are_claims_not_triples(
    dataset: Graph, record: str, predicate: str, obj: str, assessment: str
) -> None:
    claims = [
        c
        for c in dataset.subjects(FG.about, _iri(f"film/{record}"))
        if (c, FG.claimPredicate, FG[predicate]) in dataset and (c, FG.claimObject, _iri(obj)) in dataset
    ]
    assert len(claims) == 1, (record, predicate, obj)
    assert _single(dataset, claims[0], FG.assessment) == FG[assessment]
    assert list(dataset.objects(claims[0], FG.evidence))
    assert (_iri(f"film/{record}"), FG[predicate], _iri(obj)) not in dataset


@pytest.mark.parametrize(
    ("claim", "assessment"),
    [
        ("silent-star-1960-co-production", "Contradicted"),
        ("sky-beckons-1959-race-to-the-moon", "Contradicted"),
        ("silent-star-1960-first-multinational-crew", "Unverified"),
        ("silent-star-1960-multinational-crew", "Supported"),
        ("dream-come-true-1960-year", "Contradicted"),
        ("space-voyage-1963-year", "Contradicted"),
        ("space-voyage-1963-mission-to-mars", "Contradicted"),
    ],
)
def test_claims_named_in_the_issue_have_the_facts_verdict(dataset: Graph, claim: str, assessment: str) -> None:
    assert _single(dataset, _iri(f"claim/{claim}"), FG.assessment) == FG[assessment]


def test_year_claims_quote_the_year_field(dataset: Graph) -> None:
    for claim in dataset.subjects(FG.claimSource, FG.YearField):
        record = _single(dataset, claim, FG.about)
        assert str(_single(dataset, claim, FG.claimText)) == str(_single(dataset, record, SCHEMA.datePublished))


# ---------------------------------------------------------------- vocabulary and themes


def test_every_fg_term_in_the_data_is_declared_with_label_and_comment(dataset: Graph, ontology: Graph) -> None:
    terms = {iri for iri in _all_iris(dataset) if str(iri).startswith(str(FG))}
    assert terms
    for term in terms:
        assert list(ontology.objects(term, RDF.type)), f"{term} is not declared"
        labels = [lbl for lbl in ontology.objects(term, RDFS.label) if getattr(lbl, "language", None) == "en"]
        comments = [c for c in ontology.objects(term, RDFS.comment) if getattr(c, "language", None) == "en"]
        assert labels and comments, f"{term} lacks an @en label or comment"


def test_every_record_and_film_has_a_theme_in_the_scheme(dataset: Graph) -> None:
    scheme = _iri("theme/")
    assert (scheme, RDF.type, SKOS.ConceptScheme) in dataset
    for cls in (FG.FilmRecord, FG.Film):
        for node in dataset.subjects(RDF.type, cls):
            themes = list(dataset.objects(node, FG.theme))
            assert themes, node
            for theme in themes:
                assert (theme, SKOS.inScheme, scheme) in dataset, theme
