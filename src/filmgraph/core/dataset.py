"""The store interface: one read-only dataset, two backends (embedded, remote).

Terms are pyoxigraph's (``NamedNode``, ``BlankNode``, ``Literal``, ``Triple``)
whatever the backend, so services never see backend-specific types. IRIs and
literals are passed as ``bindings`` (SPARQL variables substituted with values),
never formatted into query text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Union

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

Term = Union[NamedNode, BlankNode, Literal, Triple]
Row = dict[str, Term]
Bindings = Mapping[str, Term]


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of one protocol request (``default-graph-uri``, ``named-graph-uri``)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        """True when the request names no graphs (the store's own dataset is used)."""
        return not self.default_graphs and not self.named_graphs


class Store(Protocol):
    """A read-only RDF dataset that answers SPARQL."""

    base_iri: str

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a SELECT; return its rows (unbound variables are absent from a row)."""
        ...

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        """Run an ASK."""
        ...

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE; return its triples."""
        ...

    def triples(self) -> Iterator[Triple]:
        """Stream every triple of the default graph (for dumps)."""
        ...

    def __len__(self) -> int:
        """Number of triples in the default graph."""
        ...

    def close(self) -> None:
        """Release what the store holds."""
        ...


def graph_names(names: Sequence[str]) -> list[NamedNode]:
    """Turn graph IRIs of a request into nodes."""
    return [NamedNode(n) for n in names]
