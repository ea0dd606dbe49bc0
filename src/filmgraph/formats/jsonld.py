"""JSON-LD for JSON users: one published context, framed resource documents, a streamed compact dump.

The context (served at ``/context.jsonld``) is generated from the ontology and
the data: a term for every property the data uses and every class and
vocabulary value (``name``, ``datePublished``, ``identificationStatus``,
``assessment``, ``Supported`` ...), ``id`` and ``type`` for ``@id`` and
``@type``, ``claims`` for the claims about a record (the reverse of
``fg:about``), and per property what its values are, read from the data: IRIs
(``@id``, or ``@vocab`` for the ontology's own values), one datatype (coerced,
so a year is the string ``"1959"``), English text (the default ``@language``),
several languages (a language map), several values per subject (``@set``, always
an array). A JSON user reads ``doc.name`` and ``doc.claims[0].assessment``.

Compaction against this context is a term-by-term rewrite that knows the
context it made, so it streams (the dump, subject by subject) and keeps language
tags as BCP 47 writes them (JSON-LD processors may lower-case them). A resource
document is framed: one object, its hash children, blank nodes and claims
nested, what it links to embedded with its name and type. The expanded and
flattened forms (JSON-LD 1.1 section 9 profiles) are offered for RDF tools.
Everything is checked by expanding it with pyld against the served context and
comparing the graph with the Turtle document. No remote context is ever
fetched: documents carry the context inline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
from werkzeug.http import parse_accept_header, parse_options_header

# The context is made in jsonld_context (the site's own, from its store: filmgraph.site.context).
from .jsonld_context import _STRING, _TYPE, CLAIMS, CONTEXT_PATH, Context, _append, build_context  # noqa: F401
from .langtag import canonical
from ..core.namespaces import jsonld_context

NS = "http://www.w3.org/ns/json-ld#"
EXPANDED, FLATTENED, COMPACTED, FRAMED = NS + "expanded", NS + "flattened", NS + "compacted", NS + "framed"
PROFILES: tuple[str, ...] = (FRAMED, COMPACTED, FLATTENED, EXPANDED)
"""The JSON-LD profiles a resource document is offered in (JSON-LD 1.1 section 9); framed is the default."""


def _by_subject(triples: Iterable[ox.Triple]) -> dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]]:
    out: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
    for t in sorted(set(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object))):
        out.setdefault(t.subject, []).append(t)  # type: ignore[arg-type]
    return out


def _dump_json(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def framed(ctx: Context, root_iri: str, triples: Iterable[ox.Triple]) -> dict[str, object]:
    """One object for one resource: its children and claims nested, what it links to embedded with its name.

    A node is embedded wherever it is linked (so a linked film is always an object with ``id``, ``type`` and
    ``name``), except where that would loop; a link under an ``@id`` or ``@vocab`` term stays a string. The
    claims about a record come under ``claims``; any other node that points into the document comes under
    ``@reverse``. Every triple given is in the object once or more (the graph is the same).
    """
    nodes = _by_subject(triples)
    root = ox.NamedNode(root_iri)
    placed: dict[object, dict[str, object]] = {}  # node -> the first object written for it
    about = ctx.fg + "about"

    def embed(subject: ox.NamedNode | ox.BlankNode, path: tuple[object, ...]) -> dict[str, object]:
        run = nodes.get(subject, [])
        obj: dict[str, object] = {"id": ctx.node_id(subject)}
        placed.setdefault(subject, obj)
        types = [ctx.type_value(t.object.value) for t in run if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode)]
        if types:
            obj["type"] = sorted(types)
        for t in run:
            p, o = t.predicate.value, t.object
            if p == _TYPE and isinstance(o, ox.NamedNode):
                continue
            term = ctx.terms.get(p)
            coerced = term is not None and term.type in ("@id", "@vocab") and isinstance(o, ox.NamedNode)
            if isinstance(o, ox.NamedNode | ox.BlankNode) and o in nodes and o not in path and o != subject and not coerced:
                ctx.put(obj, p, embed(o, (*path, o)))
            else:
                ctx.put(obj, p, ctx.value(p, o))
        if subject == root and ctx.terms.get(about) is not None:
            claims = [s for s, run2 in nodes.items() if s not in path and any(t.predicate.value == about and t.object == subject for t in run2)]
            if claims:
                obj[CLAIMS] = [embed(c, (*path, c)) for c in claims]
        return obj

    doc = embed(root, (root,))
    # Nodes not reached from the root only point into the document: each goes under "@reverse" of the first
    # node it points at that is written already (rules of a report, events of a mission); the rest, if any,
    # stand beside the root in an @graph (never dropped).
    progress = True
    while progress:
        progress = False
        for s in [s for s in nodes if s not in placed]:
            if s in placed:
                continue
            link = next((t for t in nodes[s] if isinstance(t.object, ox.NamedNode | ox.BlankNode) and t.object in placed
                         and not (ctx.terms.get(t.predicate.value) and ctx.terms[t.predicate.value].type in ("@id", "@vocab"))), None)
            if link is None:
                continue
            reverse = placed[link.object].setdefault("@reverse", {})
            assert isinstance(reverse, dict)
            _append(reverse, ctx.key(link.predicate.value), embed(s, (link.object, s)), True)
            progress = True
    loose = [embed(s, (s,)) for s in nodes if s not in placed]
    if loose:
        return {"@context": ctx.inline(), "@graph": [doc, *loose]}
    return {"@context": ctx.inline(), **doc}


def flattened(ctx: Context, triples: Iterable[ox.Triple]) -> dict[str, object]:
    """The flattened form, compacted: every node once, at the top of ``@graph``, links as references."""
    return {"@context": ctx.inline(), "@graph": [ctx.node(s, run) for s, run in _by_subject(triples).items()]}


def expanded(triples: Iterable[ox.Triple]) -> list[dict[str, object]]:
    """The expanded form: full IRIs, every value an array of value or node objects (for RDF tools)."""
    out = []
    for subject, run in _by_subject(triples).items():
        obj: dict[str, object] = {"@id": Context.node_id(subject)}
        for t in run:
            p, o = t.predicate.value, t.object
            if p == _TYPE and isinstance(o, ox.NamedNode):
                obj.setdefault("@type", []).append(o.value)  # type: ignore[union-attr]
                continue
            if isinstance(o, ox.Literal):
                value: dict[str, object] = {"@value": o.value}
                if o.language:
                    value["@language"] = canonical(o.language)
                elif o.datatype.value != _STRING:
                    value["@type"] = o.datatype.value
            else:
                value = {"@id": Context.node_id(o)}  # type: ignore[arg-type]
            obj.setdefault(p, []).append(value)  # type: ignore[union-attr]
        out.append(obj)
    return out


def document(ctx: Context, root_iri: str, triples: Iterable[ox.Triple], profile: str = FRAMED) -> bytes:
    """A resource document in a JSON-LD profile (framed by default)."""
    triples = list(triples)
    if profile == EXPANDED:
        return _dump_json(expanded(triples))
    if profile in (FLATTENED, COMPACTED):
        return _dump_json(flattened(ctx, triples))
    return _dump_json(framed(ctx, root_iri, triples))


def stream_dump(ctx: Context, triples: Iterable[ox.Triple]) -> Iterator[bytes]:
    """The whole dataset compacted against the context, subject by subject (the store gives them grouped)."""
    yield b'{"@context":' + json.dumps(ctx.inline(), ensure_ascii=False, separators=(",", ":")).encode() + b',\n"@graph":['
    first = True
    for subject, run in _runs(triples):
        chunk = json.dumps(ctx.node(subject, run), ensure_ascii=False, separators=(",", ":")).encode()
        yield (b"\n" if first else b",\n") + chunk
        first = False
    yield b"\n]}\n"


def requested_profile(accept: str | None, override: str | None = None) -> str:
    """The JSON-LD profile asked for: ``?profile=`` (a profile IRI or its name), else Accept's ``profile`` parameter.

    ``profile`` may list several IRIs (``"...#flattened ...#compacted"``); the first known one counts. The JSON
    entry with the highest quality that names a known profile wins; none gives the framed default.
    """
    if override:
        value = override.strip()
        for p in PROFILES:
            if value in (p, p[len(NS):]):
                return p
    if not accept or "profile" not in accept:
        return FRAMED
    best: tuple[float, str] | None = None
    for value, quality in parse_accept_header(accept):
        media, params = parse_options_header(value)
        if media.lower() not in ("application/ld+json", "application/json") or "profile" not in params:
            continue
        known = [p for p in params["profile"].split() if p in PROFILES]
        if known and (best is None or quality > best[0]):
            best = (quality, known[0])
    return best[1] if best else FRAMED


# -- the prefix-only form (SPARQL CONSTRUCT answers, the ontology, listings) ----------------------


class Compactor:
    """Rewrites IRIs to prefixed names with the prefix-only context (for graphs that have no site context)."""

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
                return {"@value": term.value, "@language": canonical(term.language)}
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
    """Yield a prefix-only compact JSON-LD document in chunks; ``group`` sorts by subject first (small graphs)."""
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
    """A prefix-only compact JSON-LD document for a small graph (graphs without a site context)."""
    return b"".join(stream(triples, base_iri, group=True))
