"""The JSON-LD context of the site: generated from the ontology and the data (the first half of :mod:`filmgraph.formats.jsonld`).

What each property's values are is surveyed in the data (IRIs, one datatype, English text, several languages,
several values per subject) and written as a term; :mod:`filmgraph.formats.jsonld` compacts and frames documents with it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from .langtag import canonical
from ..core.namespaces import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, VOID, XSD, ontology_ns

_TYPE = RDF + "type"
_STRING = XSD + "string"
_LANG_STRING = RDF + "langString"
_NATIVE = {XSD + "integer", XSD + "boolean"}

CONTEXT_PATH = "/context.jsonld"
"""Where the context is published, below the base IRI (``{base}context.jsonld``) and the site's root."""
CLAIMS = "claims"
"""The term for the claims about a record: the reverse of ``fg:about``."""
DEFAULT_LANGUAGE = "en"


def _vocabularies(base_iri: str) -> list[tuple[str, str]]:
    """(prefix, namespace) of the vocabularies terms come from, in the order that settles a clash of local names."""
    return [
        ("fg", ontology_ns(base_iri)), ("schema", SCHEMA), ("rdfs", RDFS), ("skos", SKOS), ("dcterms", DCTERMS),
        ("prov", PROV), ("dcat", DCAT), ("void", VOID), ("foaf", FOAF), ("owl", OWL), ("rdf", RDF), ("xsd", XSD),
    ]


def _local(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[cut + 1:]


def _is_term_name(name: str) -> bool:
    return bool(name) and name[0].isalpha() and all(c.isalnum() or c in "_-" for c in name) and name not in ("id", "type", CLAIMS)


# -- what the data says about each property ---------------------------------------------------


@dataclass
class _Use:
    iris: int = 0
    blanks: int = 0
    outside: bool = True  # every IRI value lies outside the site's base
    vocab: bool = True  # every IRI value is a term of the ontology
    literals: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    most: int = 0  # most values one subject has


@dataclass
class Survey:
    """What a graph uses: its properties (with their values' kinds), classes and vocabulary values."""

    properties: dict[str, _Use] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)

    def add(self, triples: Iterable[ox.Triple], base_iri: str) -> Survey:
        """Read triples (grouped by subject, as stores give them, for the per-subject counts)."""
        fg = ontology_ns(base_iri)
        subject: object = None
        counts: Counter[str] = Counter()
        for t in triples:
            if t.subject != subject:
                self._close(counts)
                subject = t.subject
            p, o = t.predicate.value, t.object
            if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(fg):
                self.terms.add(t.subject.value)
            counts[p] += 1
            use = self.properties.setdefault(p, _Use())
            if isinstance(o, ox.NamedNode):
                use.iris += 1
                use.outside = use.outside and not o.value.startswith(base_iri)
                use.vocab = use.vocab and o.value.startswith(fg)
                if p == _TYPE:
                    self.classes.add(o.value)
                elif o.value.startswith(fg):
                    self.terms.add(o.value)
            elif isinstance(o, ox.Literal):
                language = o.language or None
                use.literals[(o.datatype.value if not language else _LANG_STRING, canonical(language) if language else None)] += 1
            else:
                use.blanks += 1
        self._close(counts)
        return self

    def _close(self, counts: Counter[str]) -> None:
        for p, n in counts.items():
            use = self.properties[p]
            use.most = max(use.most, n)
        counts.clear()


# -- the context ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """How one property is written: its key and how its values are coerced."""

    name: str
    iri: str
    type: str | None = None  # "@id", "@vocab", or a datatype IRI
    language: str | None | bool = False  # False: the default; None: plain strings; "@map": a language map
    set: bool = False


class Context:
    """The published context: terms for the data's properties, classes and values, and how to compact with it."""

    def __init__(self, base_iri: str, survey: Survey) -> None:
        self.base_iri = base_iri
        self.fg = ontology_ns(base_iri)
        self.vocabularies = _vocabularies(base_iri)
        self._prefixes = sorted(((ns, p) for p, ns in self.vocabularies), key=lambda x: -len(x[0]))
        names = self._names({*survey.properties, *survey.classes, *survey.terms} - {_TYPE})
        self.terms: dict[str, Term] = {}
        """Property IRI -> term."""
        self.values: dict[str, str] = {}
        """Class or vocabulary IRI -> its term (the ``type`` values and ``@vocab`` values)."""
        for iri, name in names.items():
            use = survey.properties.get(iri)
            if use is not None:
                self.terms[iri] = self._term(name, iri, use)
            if iri in survey.classes or iri in survey.terms:
                self.values[iri] = name
        self.document = {"@context": self._definitions()}
        self.body = json.dumps(self.document, ensure_ascii=False, indent=1).encode("utf-8")
        self.version = hashlib.sha256(self.body).hexdigest()[:16]

    # naming: a local name for each IRI; a clash goes to the earlier vocabulary, the later gets its prefix
    def _names(self, iris: set[str]) -> dict[str, str]:
        rank = {ns: i for i, (_, ns) in enumerate(self.vocabularies)}
        by_local: dict[str, list[str]] = {}
        for iri in iris:
            by_local.setdefault(_local(iri), []).append(iri)
        out: dict[str, str] = {}
        taken = {p for p, _ in self.vocabularies}
        for local, group in sorted(by_local.items()):
            group.sort(key=lambda i: (rank.get(i[: len(i) - len(local)], len(rank)), i))
            for n, iri in enumerate(group):
                name = local if n == 0 and _is_term_name(local) and local not in taken else None
                if name is None:
                    prefix = self.curie(iri).split(":", 1)[0] if self.curie(iri) != iri else None
                    candidate = f"{prefix}{local[:1].upper()}{local[1:]}" if prefix and local else None
                    name = candidate if candidate and _is_term_name(candidate) and candidate not in taken else None
                if name is None and _is_term_name(local + "2"):
                    name = next(f"{local}{i}" for i in range(2, 10_000) if f"{local}{i}" not in taken)
                if name is not None:
                    out[iri] = name
                    taken.add(name)
        return out

    def _term(self, name: str, iri: str, use: _Use) -> Term:
        literals = sum(use.literals.values())
        many = use.most > 1
        if literals == 0 and use.blanks == 0 and use.iris:
            if use.vocab:
                return Term(name, iri, "@vocab", set=many)
            return Term(name, iri, "@id" if use.outside else None, set=many)
        if use.iris == 0 and use.blanks == 0 and literals:
            languages = {lang for (dt, lang) in use.literals if dt == _LANG_STRING}
            if languages and all(dt == _LANG_STRING for dt, _ in use.literals) and languages != {DEFAULT_LANGUAGE}:
                return Term(name, iri, language="@map")
            # Otherwise the most common kind of value is written plainly: English text (the default language),
            # plain strings, or one datatype; the others stay value objects.
            kinds: Counter[str] = Counter()
            for (dt, lang), n in use.literals.items():
                kinds[DEFAULT_LANGUAGE if lang == DEFAULT_LANGUAGE else dt] += n
            top = sorted(kinds.items(), key=lambda x: (-x[1], x[0]))[0][0]
            if top in (DEFAULT_LANGUAGE, _LANG_STRING) or top in _NATIVE:
                return Term(name, iri, set=many)
            if top == _STRING:
                return Term(name, iri, language=None, set=many)
            return Term(name, iri, top, set=many)
        return Term(name, iri, set=many)

    def curie(self, iri: str) -> str:
        """``prefix:local`` for a vocabulary IRI whose local part is safe, else the IRI itself."""
        for ns, prefix in self._prefixes:
            if iri.startswith(ns):
                local = iri[len(ns):]
                if local and "/" not in local and "#" not in local and ":" not in local and not local.startswith("_"):
                    return f"{prefix}:{local}"
                break
        return iri

    def _definitions(self) -> dict[str, object]:
        ctx: dict[str, object] = {"@language": DEFAULT_LANGUAGE, "id": "@id", "type": "@type"}
        for prefix, ns in self.vocabularies:
            ctx[prefix] = ns
        entries: dict[str, object] = {}
        for iri, name in self.values.items():
            if iri not in self.terms:
                entries[name] = self.curie(iri)
        for term in self.terms.values():
            entries[term.name] = self._definition(term)
        entries[CLAIMS] = {"@reverse": self.curie(self.fg + "about"), "@container": "@set"}
        for name in sorted(entries, key=lambda n: (n.lower(), n)):
            ctx[name] = entries[name]
        return ctx

    def _definition(self, term: Term) -> object:
        out: dict[str, object] = {"@id": self.curie(term.iri)}
        if term.type is not None:
            out["@type"] = term.type if term.type.startswith("@") else self.curie(term.type)
        if term.language == "@map":
            out["@container"] = "@language"
        elif term.language is None:
            out["@language"] = None
        if term.set and term.language != "@map":
            out["@container"] = "@set"
        return out if len(out) > 1 else out["@id"]

    # -- compaction ------------------------------------------------------------------------------

    def key(self, predicate: str) -> str:
        """The key of a property: its term, else a compact IRI, else the IRI."""
        term = self.terms.get(predicate)
        return term.name if term is not None else self.curie(predicate)

    def type_value(self, iri: str) -> str:
        """A ``type`` value: the class's term, else a compact IRI."""
        return self.values.get(iri) or self.curie(iri)

    @staticmethod
    def node_id(term: ox.NamedNode | ox.BlankNode) -> str:
        """The ``id`` of a node: the full IRI (JSON users can fetch it), or ``_:label``."""
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value

    def literal(self, term: Term | None, lit: ox.Literal) -> object:
        """A literal under a property's term: a plain string or number where the term allows, else a value object."""
        if lit.language:
            tag = canonical(lit.language)
            if tag == DEFAULT_LANGUAGE and (term is None or term.language is False):
                return lit.value
            return {"@value": lit.value, "@language": tag}
        dt = lit.datatype.value
        if dt == _STRING:
            return lit.value if term is not None and term.language is None else {"@value": lit.value}
        if term is not None and term.type == dt:
            return lit.value
        if term is not None and term.type is None and dt in _NATIVE:
            if dt == XSD + "boolean" and lit.value in ("true", "false"):
                return lit.value == "true"
            if dt == XSD + "integer" and _canonical_integer(lit.value):
                return int(lit.value)
        return {"@value": lit.value, "@type": self.curie(dt)}

    def reference(self, term: Term | None, node: ox.NamedNode | ox.BlankNode) -> object:
        """A link to a node that is not embedded: a string under an ``@id``/``@vocab`` term, else ``{"id": ...}``."""
        if term is not None and isinstance(node, ox.NamedNode):
            if term.type == "@vocab":
                return self.values.get(node.value, self.curie(node.value))
            if term.type == "@id":
                return node.value
        return {"id": self.node_id(node)}

    def put(self, obj: dict[str, object], predicate: str, value: object) -> None:
        """Add a value under a property's key, as its container says (a language map, an array, a single value)."""
        term = self.terms.get(predicate)
        key = self.key(predicate)
        if term is not None and term.language == "@map":
            if isinstance(value, dict) and "@language" in value:
                lang_map = obj.setdefault(key, {})
                assert isinstance(lang_map, dict)
                _append(lang_map, str(value["@language"]), value["@value"], False)
                return
            # A value without a language cannot go into a language map: it goes under the property's IRI.
            _append(obj, self.curie(predicate), value, True)
            return
        _append(obj, key, value, term is not None and term.set)

    def node(self, subject: ox.NamedNode | ox.BlankNode, triples: list[ox.Triple]) -> dict[str, object]:
        """A flat node object (links as references): one node of a flattened document or of the dump."""
        obj: dict[str, object] = {"id": self.node_id(subject)}
        types = [self.type_value(t.object.value) for t in triples if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode)]
        if types:
            obj["type"] = sorted(types)
        for t in triples:
            if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode):
                continue
            self.put(obj, t.predicate.value, self.value(t.predicate.value, t.object))
        return obj

    def value(self, predicate: str, o: object) -> object:
        """The compact value of one object term under a property."""
        term = self.terms.get(predicate)
        if isinstance(o, ox.Literal):
            return self.literal(term, o)
        if isinstance(o, ox.NamedNode | ox.BlankNode):
            return self.reference(term, o)
        raise ValueError(f"JSON-LD 1.1 cannot carry this term: {o}")

    def inline(self) -> dict[str, object]:
        """The context object, to put inline in a document (so no reader ever fetches it)."""
        return self.document["@context"]  # type: ignore[return-value]


def _canonical_integer(text: str) -> bool:
    try:
        return str(int(text)) == text and abs(int(text)) < 2**53
    except ValueError:
        return False


def _append(obj: dict[str, object], key: str, value: object, always_list: bool) -> None:
    if key not in obj:
        obj[key] = [value] if always_list else value
        return
    current = obj[key]
    if isinstance(current, list):
        current.append(value)
    else:
        obj[key] = [current, value]


def build_context(base_iri: str, triples: Iterable[ox.Triple]) -> Context:
    """The context for a site: terms for everything the triples (ontology and data) use."""
    return Context(base_iri, Survey().add(triples, base_iri))


# -- documents ----------------------------------------------------------------------------------
