"""Consistency rules: SPARQL SELECTs over the graph that report impossible or suspicious data.

Each rule is one file ``truth/rules/{name}.rq`` holding one SELECT, read with
importlib.resources when the rules are listed (never at import time). The file
starts with a header of ``#`` lines::

    # label: Released after a later event
    # comment: A claim says ... (continuation lines are indented: "#   ...")
    # severity: error            (or: warning)

A rule's result rows are its findings: ``?concerns`` (the claim or record at
fault, required), ``?related`` (what makes it so, optional) and ``?message``
(a sentence with the dates, required); other columns are ignored.

A few rules cannot be said in SPARQL (comparing titles loosely): they are Python
functions over the same store (``_python_rules``; the duplicate rule,
:mod:`filmgraph.truth.duplicates`), listed and run beside the
``.rq`` rules, and give rows of the same shape.

Rule files declare no prefixes of their own for the names of
:func:`filmgraph.core.namespaces.prefixes` (``fg:``, ``schema:``, ``xsd:``, ...):
those are prepended at run time from the store's base IRI, because the ``fg:``
namespace is ``{base}ontology#`` and the base is a setting. A prefix a file
declares itself is left alone. Rules run through :meth:`Store.select` only, so
they work on the embedded and the remote backend alike.
"""

from __future__ import annotations

import re
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ..core.errors import FilmgraphError, InvalidData, NotFound
from ..core.namespaces import DCTERMS, RDF, RDFS, XSD, ontology_ns, prefixes
from ..core.rqheader import read_header
from ..core.dataset import Store, Term

Severity = typing.Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_DECLARED = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Rule:
    """One consistency rule: its name (the file name), header and SPARQL text."""

    name: str
    label: str
    comment: str
    severity: Severity
    query: str = field(repr=False)
    check: Callable[[Store], Iterable[Mapping[str, str]]] | None = field(default=None, repr=False, compare=False)
    """For a rule written in Python: the function that returns its result rows (``query`` is then empty)."""

    def iri(self, base_iri: str) -> str:
        """Return the rule's IRI, ``{base}rule/{name}``."""
        return f"{base_iri}rule/{self.name}"

    def sparql(self, base_iri: str) -> str:
        """Return the query with the prefix declarations for ``base_iri`` prepended."""
        declared = set(_DECLARED.findall(self.query))
        lines = [f"PREFIX {p}: <{iri}>" for p, iri in prefixes(base_iri).items() if p not in declared]
        return "\n".join(lines) + "\n" + self.query


@dataclass(frozen=True)
class Finding:
    """One problem a rule found: what is at fault, what makes it so, and why."""

    rule: str
    label: str
    severity: Severity
    concerns: str
    related: str | None
    message: str

    def sort_key(self) -> tuple[int, str, str, str, str]:
        """Errors first, then by rule, the node at fault, the related node and the message."""
        return (SEVERITIES.index(self.severity), self.rule, self.concerns, self.related or "", self.message)


@dataclass(frozen=True)
class Report:
    """The findings of one run of the rules, in a deterministic order."""

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    created: datetime
    counts: Mapping[tuple[str, str], int] | None = None
    """Findings per (rule, severity) when ``findings`` is only a sample of them (a report read from a large site index)."""
    lookup: Callable[[frozenset[str]], tuple[Finding, ...]] | None = field(default=None, compare=False, repr=False)
    """Finds every finding about some IRIs when ``findings`` is a sample (the site index's query)."""

    def _totals(self) -> Mapping[tuple[str, str], int]:
        return self.counts if self.counts is not None else Counter((f.rule, f.severity) for f in self.findings)

    @property
    def total(self) -> int:
        """How many findings the rules made (all of them, listed or not)."""
        return sum(self._totals().values())

    @property
    def error_count(self) -> int:
        """How many of them are errors."""
        return sum(n for (_, severity), n in self._totals().items() if severity == "error")

    @property
    def warning_count(self) -> int:
        """How many of them are warnings."""
        return sum(n for (_, severity), n in self._totals().items() if severity == "warning")

    def made(self, rule: str) -> int:
        """How many findings one rule made."""
        return sum(n for (name, _), n in self._totals().items() if name == rule)

    def about(self, iris: Iterable[str]) -> tuple[Finding, ...]:
        """Every finding that concerns one of these IRIs or points at one, in report order (all, not only the sample)."""
        wanted = frozenset(iris)
        if self.lookup is not None:
            return self.lookup(wanted)
        return tuple(f for f in self.findings if f.concerns in wanted or f.related in wanted)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that are impossible (severity error)."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings that are suspicious (severity warning)."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def has_errors(self) -> bool:
        """True when at least one finding is an error."""
        return bool(self.errors)

    def summary(self) -> str:
        """Return the one-line count, e.g. ``3 errors, 2 warnings from 10 rules``."""
        return f"{_count(self.error_count, 'error')}, {_count(self.warning_count, 'warning')} from {_count(len(self.rules), 'rule')}"

    def to_text(self) -> str:
        """Return the report as readable text, grouped by severity, ending with the summary."""
        lines: list[str] = []
        for title, group in (("Errors", self.errors), ("Warnings", self.warnings)):
            if group:
                lines.append(f"{title}:")
                lines.extend(f"  [{f.rule}] {f.message}" for f in group)
                lines.append("")
        if not self.findings:
            lines.append("No problems found.")
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def listed(self, per_rule: int | None = None) -> tuple[Finding, ...]:
        """The findings, at most ``per_rule`` of each rule (all when None), in report order."""
        if per_rule is None:
            return self.findings
        seen: dict[str, int] = {}
        kept = []
        for finding in self.findings:
            seen[finding.rule] = n = seen.get(finding.rule, 0) + 1
            if n <= per_rule:
                kept.append(finding)
        return tuple(kept)

    def to_triples(self, base_iri: str, per_rule: int | None = None) -> list[Triple]:
        """Return the report as RDF, with the report terms of docs/model.md; ``per_rule`` caps the findings listed
        of each rule (each rule states how many it made, ``fg:findingCount``)."""
        fg = ontology_ns(base_iri)
        a = NamedNode(RDF + "type")
        report = NamedNode(f"{base_iri}dataset/consistency")
        created = self.created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out = [
            Triple(report, a, NamedNode(fg + "ConsistencyReport")),
            Triple(report, NamedNode(DCTERMS + "created"), Literal(created, datatype=NamedNode(XSD + "dateTime"))),
            Triple(report, NamedNode(fg + "rulesRun"), Literal(str(len(self.rules)), datatype=NamedNode(XSD + "integer"))),
        ]
        for rule in self.rules:
            node = NamedNode(rule.iri(base_iri))
            out += [
                Triple(node, a, NamedNode(fg + "Rule")),
                Triple(node, NamedNode(RDFS + "label"), Literal(rule.label, language="en")),
                Triple(node, NamedNode(RDFS + "comment"), Literal(rule.comment, language="en")),
                Triple(node, NamedNode(fg + "findingCount"), Literal(str(self.made(rule.name)), datatype=NamedNode(XSD + "integer"))),
            ]
        numbers: dict[str, int] = {}
        for finding in self.listed(per_rule):
            numbers[finding.rule] = n = numbers.get(finding.rule, 0) + 1
            node = NamedNode(f"{base_iri}dataset/consistency#{finding.rule}-{n}")
            out += [
                Triple(report, NamedNode(fg + "finding"), node),
                Triple(node, a, NamedNode(fg + "Finding")),
                Triple(node, NamedNode(fg + "rule"), NamedNode(f"{base_iri}rule/{finding.rule}")),
                Triple(node, NamedNode(fg + "message"), Literal(finding.message, language="en")),
                Triple(node, NamedNode(fg + "severity"), NamedNode(fg + finding.severity.capitalize())),
            ]
            for prop, value in (("concerns", finding.concerns), ("relatedTo", finding.related)):
                if value is not None and not value.startswith("_:"):
                    out.append(Triple(node, NamedNode(fg + prop), NamedNode(value)))
        return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def parse_rule(name: str, text: str) -> Rule:
    """Read a rule from its file name (without ``.rq``) and text; raise InvalidData if the header is incomplete."""
    if not _NAME.match(name):
        raise InvalidData(f"rule file {name}.rq: the name must be lowercase words joined by '-'", file=f"{name}.rq")
    header, _ = read_header(text)
    missing = [k for k in ("label", "comment", "severity") if not header.get(k)]
    if missing:
        raise InvalidData(f"rule file {name}.rq: the header lacks {', '.join(missing)}", file=f"{name}.rq")
    severity = header["severity"].lower()
    if severity not in SEVERITIES:
        raise InvalidData(f"rule file {name}.rq: severity must be error or warning, not {severity!r}", file=f"{name}.rq")
    return Rule(name, header["label"], header["comment"], severity, text)  # type: ignore[arg-type]


def _python_rules() -> list[Rule]:
    from .duplicates import find_duplicates

    return [
        Rule(
            "probable-duplicate-title",
            "Probable duplicate record",
            "Two film records probably stand for one film listed twice: both are identified as the same real film, "
            "or a title of one is a title of the other (its own, or any title of the real film it is identified as, "
            "in any language), compared with the reconciliation service's normaliser (transliteration, accents, case, "
            "punctuation, articles) and English word forms folded, and they are at most ten years apart. Each pair is "
            "reported once, saying whether a curator's fg:duplicateOf agrees.",
            "warning",
            "",
            find_duplicates,
        ),
    ]


def list_rules() -> list[Rule]:
    """Return every rule shipped in ``truth/rules`` and every rule written in Python, sorted by name."""
    folder = resources.files(__package__) / "rules"
    found = [parse_rule(e.name[: -len(".rq")], e.read_text(encoding="utf-8")) for e in folder.iterdir() if e.name.endswith(".rq")]
    return sorted(found + _python_rules(), key=lambda r: r.name)


def _rows(rule: Rule, store: Store) -> Iterable[Mapping[str, Term | str]]:
    if rule.check is not None:
        return rule.check(store)
    return store.select(rule.sparql(store.base_iri))


def _text(term: Term | str) -> str:
    if isinstance(term, str):
        return term
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, NamedNode | Literal):
        return term.value
    return str(term)


def _finding(rule: Rule, row: Mapping[str, Term | str]) -> Finding:
    if "concerns" not in row or "message" not in row:
        raise FilmgraphError(f"rule {rule.name}: a result row lacks ?concerns or ?message", rule=rule.name)
    related = row.get("related")
    return Finding(
        rule=rule.name,
        label=rule.label,
        severity=rule.severity,
        concerns=_text(row["concerns"]),
        related=_text(related) if related is not None else None,
        message=_text(row["message"]),
    )


def run_rules(store: Store, rules: Sequence[str] | None = None) -> Report:
    """Run the named rules (all by default) over the store and return their report."""
    available = {r.name: r for r in list_rules()}
    if rules is None:
        chosen = list(available.values())
    else:
        unknown = [n for n in rules if n not in available]
        if unknown:
            raise NotFound(
                f"no rule named {', '.join(map(repr, unknown))}; the rules are: {', '.join(available)}",
                rule=unknown[0],
                rules=list(available),
            )
        chosen = [available[n] for n in dict.fromkeys(rules)]
    findings = {_finding(rule, row) for rule in chosen for row in _rows(rule, store)}
    return Report(
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        rules=tuple(chosen),
        created=datetime.now(timezone.utc).replace(microsecond=0),
    )
