"""Reading data files: parse (with positions on error), rewrite the base IRI, validate with SHACL."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyoxigraph as ox

from ..core.errors import InvalidData
from ..core.settings import DEFAULT_BASE

if TYPE_CHECKING:
    from ..core.progress import Phase


def rdf_format(path: Path) -> ox.RdfFormat:
    """Return the RDF format of a data file by its extension."""
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".") or "ttl")
    if fmt is None:
        raise InvalidData(f"{path}: unknown RDF file extension {path.suffix!r}", file=str(path))
    return fmt


IRI_LITERALS = frozenset({"http://purl.org/vocab/vann/preferredNamespaceUri", "http://www.w3.org/ns/shacl#namespace", "http://rdfs.org/ns/void#uriSpace"})
"""Properties whose literal values are IRIs (namespaces): rebased like IRIs."""

ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"


def _rebase_term(term: ox.NamedNode | ox.BlankNode | ox.Literal, base: str, iri_literal: bool = False) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE):
        return ox.NamedNode(base + term.value[len(DEFAULT_BASE):])
    if isinstance(term, ox.Literal) and term.value.startswith(DEFAULT_BASE) and (iri_literal or term.datatype.value == ANY_URI):
        return ox.Literal(base + term.value[len(DEFAULT_BASE):], datatype=term.datatype)
    return term


def read_triples(path: Path) -> Iterator[ox.Triple]:
    """Parse one file into triples, as written (default base).

    Raises InvalidData naming the file, line and column when the file does not parse.
    """
    if not path.is_file():
        raise InvalidData(f"{path}: no such data file", file=str(path))
    try:
        quads = list(ox.parse(path=str(path), format=rdf_format(path), base_iri=path.resolve().as_uri()))
    except SyntaxError as exc:
        raise InvalidData(f"{path}: does not parse: {exc}", file=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise InvalidData(f"{path}: cannot be read: {exc}", file=str(path)) from exc
    if not quads:
        raise InvalidData(f"{path}: holds no triples (empty or truncated?)", file=str(path))
    for q in quads:
        yield ox.Triple(q.subject, q.predicate, q.object)
    # Rebasing happens after validation, in rebase(); see read_all's callers.


def rebase(triples: list[ox.Triple], base: str) -> list[ox.Triple]:
    """Rewrite the default base IRI to ``base`` in every IRI of the triples, and in literals that are IRIs (namespaces, ``xsd:anyURI``)."""
    if base == DEFAULT_BASE:
        return triples
    return [
        ox.Triple(_rebase_term(t.subject, base), _rebase_term(t.predicate, base), _rebase_term(t.object, base, t.predicate.value in IRI_LITERALS))
        for t in triples
    ]


class _Counted(io.RawIOBase):
    """A file read through, its bytes counted into a progress phase as the loader reads them."""

    def __init__(self, raw: BinaryIO, phase: Phase | None) -> None:
        self.raw = raw
        self.phase = phase

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if self.phase is not None:
            if n:
                self.phase.advance(n)
            elif len(buffer):  # all read: Oxigraph still sorts and writes what it parsed
                self.phase.set(self.phase.n, note="read; the store's files are being written")
        return n or 0


def bulk_load_file(store: ox.Store, path: Path, phase: Phase | None = None) -> None:
    """Load one file straight into a store with Oxigraph's bulk loader, counting its bytes into ``phase``.

    The file is checked to hold a triple first, by parsing only up to its first one (counting the
    store before and after would read every triple of it twice)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidData(f"{path}: no such data file", file=str(path))
    fmt, base = rdf_format(path), path.resolve().as_uri()
    try:
        if next(iter(ox.parse(path=str(path), format=fmt, base_iri=base)), None) is None:
            raise InvalidData(f"{path}: holds no triples (empty or truncated?)", file=str(path))
        with path.open("rb") as raw:
            store.bulk_load(_Counted(raw, phase), format=fmt, base_iri=base)
    except SyntaxError as exc:
        raise InvalidData(f"{path}: does not parse: {exc}", file=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise InvalidData(f"{path}: cannot be read: {exc}", file=str(path)) from exc


def read_all(paths: Iterable[Path], base: str = DEFAULT_BASE) -> dict[Path, list[ox.Triple]]:
    """Parse several files (rebased to ``base``); return their triples by file, so errors can name the file."""
    return {Path(p): rebase(list(read_triples(Path(p))), base) for p in paths}


def validate(by_file: dict[Path, list[ox.Triple]], shapes: Path, ontology: Sequence[Path] = ()) -> None:
    """Validate the data against the SHACL shapes; raise InvalidData naming file, node and rule."""
    import pyshacl
    import rdflib

    data = rdflib.Graph()
    origin: dict[str, Path] = {}
    for path, triples in by_file.items():
        nt = "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)
        data.parse(data=nt, format="nt")
        for t in triples:
            origin.setdefault(str(t.subject), path)
    ont = rdflib.Graph()
    for p in ontology:
        ont.parse(str(p), format="turtle")
    try:
        shacl = rdflib.Graph().parse(str(shapes), format="turtle")
    except Exception as exc:  # rdflib raises many parser types; any is a broken shapes file
        raise InvalidData(f"{shapes}: shapes do not parse: {exc}", file=str(shapes)) from exc
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shacl, ont_graph=ont or None, inference="none", advanced=True, allow_warnings=True
    )
    if conforms:
        return
    problems = _problems(report, origin)
    lines = "\n".join(f"  {p['file']}: node {p['node']}: {p['rule']}: {p['message']}" for p in problems[:50])
    more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    first = problems[0]
    raise InvalidData(
        f"data does not conform to {shapes.name} ({len(problems)} violations):\n{lines}{more}",
        file=first["file"],
        node=first["node"],
        rule=first["rule"],
        violations=len(problems),
    )


def _problems(report: object, origin: dict[str, Path]) -> list[dict[str, str]]:
    from rdflib import RDF, Graph, URIRef
    from rdflib.namespace import SH

    assert isinstance(report, Graph)
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        if severity is not None and severity != SH.Violation:
            continue
        node = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        shape = report.value(result, SH.sourceShape)
        component = report.value(result, SH.sourceConstraintComponent)
        message = report.value(result, SH.resultMessage)
        rule = str(shape) if isinstance(shape, URIRef) else "shape"
        if path is not None:
            rule += f" path {path.n3() if isinstance(path, URIRef) else path}"
        if component is not None:
            rule += f" ({str(component).rsplit('#', 1)[-1]})"
        out.append(
            {
                "file": str(origin.get(str(node.n3()) if node is not None else "", origin.get(f"<{node}>", "?"))),
                "node": str(node),
                "rule": rule,
                "message": str(message or ""),
            }
        )
    out.sort(key=lambda p: (p["file"], p["node"], p["rule"]))
    return out
