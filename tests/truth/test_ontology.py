"""The ontology and the shapes: header, declarations, and agreement with docs/model.md."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection

FG = Namespace("https://w3id.org/filmgraph/ontology#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
ONTOLOGY_IRI = URIRef("https://w3id.org/filmgraph/ontology")


@pytest.fixture(scope="module")
def declared(ontology: Graph) -> set[URIRef]:
    return {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef) and s.startswith(str(FG))}


def test_ontology_parses_with_oxigraph(repo_dir: Path) -> None:
    path = repo_dir / "ontology" / "filmgraph.ttl"
    assert list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))


def test_ontology_header_has_version_licence_and_namespace(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert (ONTOLOGY_IRI, OWL.versionIRI, URIRef("https://w3id.org/filmgraph/ontology/0.1.0")) in ontology
    assert (ONTOLOGY_IRI, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in ontology
    for prop in (OWL.versionInfo, DCTERMS.title, DCTERMS.description, DCTERMS.creator):
        assert list(ontology.objects(ONTOLOGY_IRI, prop)), prop
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == "fg"
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(FG)


def test_every_term_has_label_comment_and_is_defined_by_the_ontology(ontology: Graph, declared: set[URIRef]) -> None:
    assert len(declared) > 50
    for term in declared:
        assert any(lbl.language == "en" for lbl in ontology.objects(term, RDFS.label)), term
        assert any(c.language == "en" for c in ontology.objects(term, RDFS.comment)), term
        assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in ontology, term


def test_every_property_has_domain_and_range(ontology: Graph, declared: set[URIRef]) -> None:
    properties = {t for t in declared if set(ontology.objects(t, RDF.type)) & {OWL.ObjectProperty, OWL.DatatypeProperty}}
    assert FG.claimPredicate in properties and FG.releasedAfter in properties
    for prop in properties:
        assert ontology.value(prop, RDFS.domain) is not None, prop
        assert ontology.value(prop, RDFS.range) is not None, prop


@pytest.mark.parametrize(
    ("enumeration", "members"),
    [
        ("AssessmentValue", {"Supported", "Contradicted", "Unverified"}),
        ("IdentificationStatus", {"Identified", "TitleMatchOnly", "ProbableDuplicate", "NoMatchFound"}),
        ("ClaimSource", {"TitleField", "YearField", "DescriptionField", "FactField"}),
        ("Severity", {"Error", "Warning"}),
        ("LinkBasis", {"TitlePattern", "SeenInSource"}),
    ],
)
def test_enumerations_list_exactly_their_individuals(ontology: Graph, enumeration: str, members: set[str]) -> None:
    cls = FG[enumeration]
    one_of = ontology.value(cls, OWL.oneOf)
    assert isinstance(one_of, BNode), f"{cls} has no owl:oneOf"
    listed = set(Collection(ontology, one_of))
    expected = {FG[m] for m in members}
    assert listed == expected
    assert set(ontology.subjects(RDF.type, cls)) == expected


def test_every_fg_term_in_the_model_document_is_declared(repo_dir: Path, declared: set[URIRef]) -> None:
    model = (repo_dir / "docs" / "model.md").read_text(encoding="utf-8")
    named = {FG[name] for name in re.findall(r"\bfg:([A-Za-z][A-Za-z0-9]*)", model)}
    assert FG.FilmRecord in named and FG.claimObject in named
    assert named - declared == set()


def test_films_and_records_are_kept_apart(ontology: Graph) -> None:
    assert (FG.FilmRecord, OWL.disjointWith, FG.Film) in ontology
    assert (FG.FilmRecord, RDFS.subClassOf, URIRef("http://www.w3.org/ns/prov#Entity")) in ontology
    assert (FG.Film, RDFS.subClassOf, URIRef("https://schema.org/Movie")) in ontology
    assert (FG.FilmRecord, RDFS.subClassOf, URIRef("https://schema.org/Movie")) not in ontology


def test_shapes_use_only_declared_fg_terms(shapes: Graph, declared: set[URIRef]) -> None:
    used = {t for triple in shapes for t in triple if isinstance(t, URIRef) and t.startswith(str(FG))}
    assert used - declared == set()
    sparql = " ".join(str(q) for q in shapes.objects(None, SH.select))
    for name in re.findall(r"\bfg:([A-Za-z][A-Za-z0-9]*)", sparql):
        assert FG[name] in declared, name


def test_every_shape_is_named_and_every_constraint_has_a_message(shapes: Graph) -> None:
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    assert len(node_shapes) >= 15
    for shape in node_shapes:
        assert shapes.value(shape, SH.name) is not None, shape
        for prop_shape in shapes.objects(shape, SH.property):
            assert shapes.value(prop_shape, SH.message) is not None, (shape, shapes.value(prop_shape, SH.path))
        for constraint in shapes.objects(shape, SH.sparql):
            assert shapes.value(constraint, SH.message) is not None, shape
        if shapes.value(shape, SH["or"]) is not None:
            assert shapes.value(shape, SH.message) is not None, shape
