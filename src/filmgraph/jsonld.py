"""Compact JSON-LD, streamed: a small chosen ``@context`` (prefixes only) and flattened node objects.

Oxigraph writes expanded JSON-LD; rdflib compacts but holds the whole graph and
is slow on large dumps. With a prefix-only context, compaction of a flattened
graph is a term-by-term rewrite, so it can be streamed subject by subject.
Round-trip tests parse the output back with both rdflib and Oxigraph.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from .namespaces import RDF, XSD, jsonld_context

_TYPE = RDF + "type"
_STRING = XSD + "string"


class Compactor:
    """Rewrites IRIs to prefixed names with the chosen context."""

    def __init__(self, base_iri: str) -> None:
        self.context = jsonld_context(base_iri)
        self.context.pop("@base", None)
        # Longest namespace first so film/ wins over the base itself.
        self._prefixes = sorted(((ns, p) for p, ns in self.context.items() if isinstance(ns, str)), key=lambda x: -len(x[0]))

    def iri(self, value: str) -> str:
        """Compact an IRI to ``prefix:local`` when the local part is safe, else keep it whole."""
        for ns, prefix in self._prefixes:
            if value.startswith(ns):
                local = value[len(ns):]
                if local and "/" not in local and "#" not in local and not local.startswith("_") and ":" not in local:
                    return f"{prefix}:{local}"
                break
        return value

    def node_id(self, term: ox.NamedNode | ox.BlankNode) -> str:
        """The ``@id`` of a subject or object node."""
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else self.iri(term.value)

    def value(self, term: object) -> object:
        """A JSON-LD value object for an object term."""
        if isinstance(term, ox.NamedNode | ox.BlankNode):
            return {"@id": self.node_id(term)}
        if isinstance(term, ox.Literal):
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if term.datatype.value == _STRING:
                return term.value
            return {"@value": term.value, "@type": self.iri(term.datatype.value)}
        raise ValueError(f"JSON-LD 1.1 cannot carry this term: {term}")

    def node(self, subject: ox.NamedNode | ox.BlankNode, triples: list[ox.Triple]) -> dict[str, object]:
        """One node object from a subject's triples."""
        obj: dict[str, object] = {"@id": self.node_id(subject)}
        types = [self.iri(t.object.value) for t in triples if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode)]
        if types:
            obj["@type"] = types
        for t in triples:
            if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode):
                continue
            key = self.iri(t.predicate.value)
            obj.setdefault(key, []).append(self.value(t.object))  # type: ignore[union-attr]
        return obj


def _runs(triples: Iterable[ox.Triple]) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, list[ox.Triple]]]:
    subject = None
    run: list[ox.Triple] = []
    for t in triples:
        if subject is not None and t.subject != subject:
            yield subject, run
            run = []
        subject = t.subject
        run.append(t)
    if subject is not None:
        yield subject, run


def stream(triples: Iterable[ox.Triple], base_iri: str, group: bool = False) -> Iterator[bytes]:
    """Yield a compact JSON-LD document in chunks; ``group`` sorts by subject first (small graphs)."""
    c = Compactor(base_iri)
    if group:
        triples = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    yield b'{"@context":' + json.dumps(c.context, separators=(",", ":")).encode() + b',\n"@graph":['
    first = True
    for subject, run in _runs(triples):
        chunk = json.dumps(c.node(subject, run), ensure_ascii=False, separators=(",", ":")).encode()
        yield (b"\n" if first else b",\n") + chunk
        first = False
    yield b"\n]}\n"


def dumps(triples: Iterable[ox.Triple], base_iri: str) -> bytes:
    """A compact JSON-LD document for a small graph."""
    return b"".join(stream(triples, base_iri, group=True))
