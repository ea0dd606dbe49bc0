"""The query scan against the engine itself: SERVICE is reported if and only if Oxigraph calls out.

Hypothesis builds valid queries that put every kind of terminal right before
and after the keywords (no space, ``.``, ``;``, comments ending in CR or LF,
escapes, lower case, nested groups, subqueries, OPTIONAL and UNION, BASE-relative,
escaped and prefixed SERVICE IRIs, a variable bound to the endpoint), with
decoys (SERVICE inside strings, comments, IRIs, names and variables). Each
query that pyoxigraph accepts is evaluated on a small in-memory store whose
data every pattern matches, so that a SERVICE in it is always reached, and a
loopback listener records the requests the engine really sends. Then:

- the engine called out  =>  the scan reports a SERVICE, and each request went
  to an IRI the scan resolves one of its targets to (so an allow-list is
  compared with what the engine really calls);
- the scan reports a SERVICE  =>  the engine called out, except where the
  example holds the one case the scan refuses on purpose (a name ending in
  ``service`` right before a term and a ``{``: see ``filmgraph.sparql.querytext``);
- the scan's form is the form of the engine's result.

A second test mutates those queries with grammar-relevant characters (quotes,
``#``, ``<``, ``\\``, dots, colons, braces, CR) and holds every mutant the
engine still accepts to the same properties. ``FILMGRAPH_SCAN_EXAMPLES`` sets
the number of examples of each test (CI: 2,000 and 1,500).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from filmgraph.core.errors import BadQuery, QueryRefused
from filmgraph.sparql.querytext import resolve, shape

from ..loopback import Answer, Hit, Loopback

EXAMPLES = int(os.environ.get("FILMGRAPH_SCAN_EXAMPLES", "2000"))
RUN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("FILMGRAPH_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
MUTANTS = settings(RUN, max_examples=max(1, EXAMPLES * 3 // 4))

DATA = """
<http://s> <http://p> true, false, 1, 1.5, 1e0, "s", "s"@en, "s"@en-GB, <http://e/a>, <http://e/a.b>, <http://e/SERVICE>,
  <http://e/service>, <http://e/myservice>, "SERVICE <@L@/d> {}", "\\nSERVICE <@L@/d> {}" .
<http://s> <http://e/SERVICE> <http://s> .
<http://s> <http://e/p> <http://e/service> .
<http://s> a <https://schema.org/Movie> .
"""
"""Every pattern the generator writes matches some of this, so that a SERVICE after it is reached."""


@dataclass
class Engine:
    """The oracle: an in-memory store, the listener that sees the engine's requests, and the base of the queries."""

    store: ox.Store
    listener: Loopback

    @property
    def base(self) -> str:
        return f"{self.listener.url}/base/"

    def run(self, query: str) -> tuple[str, list[Hit]] | None:
        """The form of the engine's result and the requests it sent; None when it does not accept the query."""
        self.listener.hits.clear()
        try:
            result = self.store.query(query, base_iri=self.base)
            if isinstance(result, ox.QueryBoolean):
                form = "ASK"
            elif isinstance(result, ox.QuerySolutions):
                form = "SELECT"
                list(result)
            else:
                form = "GRAPH"
                list(result)
        except SyntaxError:
            return None
        except (OSError, RuntimeError, ValueError):
            form = "ERROR"  # evaluation failed (e.g. an unbound SERVICE variable); the requests still count
        return form, list(self.listener.hits)


def _answer(hit: Hit) -> Answer:
    return Answer(200, {"Content-Type": "application/sparql-results+json"}, b'{"head":{"vars":[]},"results":{"bindings":[{}]}}')


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    store = ox.Store()
    listener = Loopback(_answer)
    store.load(DATA.replace("@L@", listener.url).encode(), ox.RdfFormat.TURTLE)
    try:
        yield Engine(store, listener)
    finally:
        listener.close()


# -- the generator ----------------------------------------------------------------

L = "@L@"  # the listener's URL, filled in per run
SEPARATORS = ["", " ", "\n", "\r", "\t", "  ", " . ", ".", " .", "#c\n", "#c\r", "# SERVICE <@L@/c> {}\n", "\r\n"]
GLUE = ["", " ", "\n", "\r", "\t", "#x\r", "#x\n", "# SERVICE\n"]
KEYWORD_CASES = ["SERVICE", "service", "Service", "sErViCe"]
OBJECTS = ["true", "false", "1", "1.5", "1e0", '"s"', "'s'", '"""s"""', "'''s'''", '"s"@en', '"s"@en-GB', "ex:a", "ex:a.b", "<http://e/a>",
           "[]", "?o", "$o", "ex:SERVICE", "<http://e/SERVICE>", "ex:service", '"SERVICE <@L@/d> {}"', "'''\nSERVICE <@L@/d> {}'''", "?service"]
TARGETS = [
    ("<@L@/t1>", "/t1"),
    ("<@L@/t\\u0032>", "/t2"),
    ("<@L@/t\\U00000033>", "/t3"),
    ("<t4>", "/base/t4"),
    ("<../t5>", "/t5"),
    ("<?q=6>", "/base/?q=6"),
    ("svc:t7", "/t7"),
    ("svc:", "/"),
    ("svc:t\\-8", "/t-8"),
    ("svc:t%389", "/t%389"),
    ("svc:t.10", "/t.10"),
    ("?e", "/t11"),
]


@dataclass(frozen=True)
class Example:
    query: str
    calls: bool
    """The generator wrote a SERVICE that the engine reaches."""
    refusable: bool
    """The generator wrote the case the scan refuses on purpose, or an ASK (which may stop before a SERVICE)."""


@st.composite
def queries(draw: st.DrawFn) -> Example:
    glue = lambda: draw(st.sampled_from(GLUE))  # noqa: E731
    prologue = ""
    for decl in draw(st.lists(st.sampled_from(["base", "ex", "svc", "service", "servicex", "silent", "true.x"]), max_size=4, unique=True)):
        if decl == "base":
            prologue += f"{draw(st.sampled_from(['BASE', 'base']))}{glue()}<@L@/base/>{glue()}"
        else:
            iri = {"ex": "http://e/", "svc": "@L@/", "service": "http://e/", "servicex": "http://e/", "silent": "@L@/", "true.x": "http://e/"}[decl]
            prologue += f"{draw(st.sampled_from(['PREFIX', 'prefix']))}{draw(st.sampled_from([' ', '', '#p' + chr(13)]))}{decl}:{glue()}<{iri}>{glue()}"
    declared = frozenset({"ex", "svc"} | {d for d in ("service", "servicex", "silent", "true.x") if d in prologue})
    if "ex:" not in prologue:
        prologue += "PREFIX ex: <http://e/> "
    if "svc:" not in prologue:
        prologue += "PREFIX svc: <@L@/> "
    body, calls, refusable = draw(_group(declared, 0))
    form = draw(st.sampled_from(["SELECT *", "select*", "SELECT ?s", "ASK", "ask", "CONSTRUCT { ?s ?p ?o }", "CONSTRUCT{?s ?p ?o}"]))
    where = draw(st.sampled_from(["WHERE", "where", ""]))
    # ASK stops at its first solution, so a SERVICE in it may never be reached: only the other direction is held there.
    lazy = form.upper() == "ASK"
    return Example(f"{prologue}{form}{glue()}{where}{glue()}{{ {body} }}", calls and not lazy, refusable or lazy)


@st.composite
def _group(draw: st.DrawFn, declared: frozenset[str], depth: int, path: str = "b") -> tuple[str, bool, bool]:
    """The inside of a group: elements with separators; whether it holds a reachable SERVICE, or the refused case."""
    glue = lambda: draw(st.sampled_from(GLUE))  # noqa: E731
    calls = False
    refusable = False
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = ["triple", "service", "service", "filter", "bind", "decoy"] + (["optional", "group", "union", "subquery"] if depth < 2 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "triple":
            obj = draw(st.sampled_from(OBJECTS))
            elements.append(f"?s{glue() or ' '}?p{glue() or ' '}{obj}")
        elif kind == "service":
            keyword = draw(st.sampled_from(KEYWORD_CASES))
            silent = draw(st.sampled_from(["", " SILENT", "SILENT", " silent "]))
            target, _ = draw(st.sampled_from(TARGETS))
            before = ""
            if target == "?e":
                before = draw(st.sampled_from(["BIND(<@L@/t11> AS ?e)", "VALUES ?e { <@L@/t11> }"])) + glue()
            space = draw(st.sampled_from(["", " ", "\n", "#x\r"]))
            if not space and not silent and not target.startswith(("<", "?")) and target.startswith("svc"):
                space = " "  # 'SERVICEsvc:' is tested below; here the keyword and a name stay apart
            elements.append(f"{before}{keyword}{silent}{space}{target}{glue()}{{ ?s ?p ?o }}")
            calls |= target != "?e"  # the engine may evaluate SERVICE ?e before the variable is bound (and not call)
        elif kind == "filter":
            elements.append(draw(st.sampled_from(["FILTER(true)", "filter (1 < 2)", "FILTER(STR(?o) != 'SERVICE <@L@/f> {}' || true)", "FILTER(STRLEN(\"}\")>0)"])))
        elif kind == "bind":
            elements.append(f"BIND({draw(st.sampled_from(OBJECTS[:8]))} AS ?{path}_{len(elements)})")
        elif kind in ("optional", "group", "union", "subquery"):
            inner, inner_calls, inner_refusable = draw(_group(declared, depth + 1, f"{path}_{len(elements)}"))
            calls |= inner_calls
            refusable |= inner_refusable
            elements.append({
                "optional": f"OPTIONAL{glue()}{{ {inner} }}",
                "group": f"{{ {inner} }}",
                "union": f"{{ {inner} }}{glue()}UNION{glue()}{{ ?s ?p ?o }}",
                "subquery": f"{{ SELECT * WHERE {{ {inner} }} }}",
            }[kind])
        else:
            decoy = draw(st.sampled_from(["merged", "name", "literal-keyword", "undeclared", "service-prefix"]))
            if decoy == "merged":  # the engine reads the keyword without a word boundary: a real call
                elements.append(draw(st.sampled_from(["SERVICEsvc:m1{ ?s ?p ?o }", "serviceSILENTsvc:m2 { ?s ?p ?o }", "SERVICE<@L@/m3>{?s ?p ?o}"])))
                calls = True
            elif decoy == "literal-keyword":  # a literal ends right where SERVICE starts: a real call
                elements.append(draw(st.sampled_from(["?s ?p trueSERVICE <@L@/k1> { ?s ?p ?o }", "?s ?p true.SERVICE<@L@/k2>{}", "?s ?p 1.SERVICE <@L@/k3> {}", "?s ?p false SERVICE svc:k4 {}"])))
                calls = True
            elif decoy == "undeclared" and "true.x" not in declared:  # a name whose prefix is not declared is not a name
                elements.append("?s ?p true.SERVICEsvc:k5 {}")
                calls = True
            elif decoy == "service-prefix" and "servicex" in declared:  # a declared name: a triple, then a group
                elements.append("?s ?p servicex:a {}")
                refusable = True
            else:
                elements.append(draw(st.sampled_from(["?s ex:SERVICE ?service", "?service ?p ?o", "?s ?p <http://e/SERVICE>", "?s <http://e/p> ex:service"])))
    body = ""
    for element in elements:
        body += element + draw(st.sampled_from(SEPARATORS))
    return body, calls, refusable


def _urls(engine: Engine, query: str) -> set[str]:
    return {urllib.parse.urlsplit(u).path + ("?" + urllib.parse.urlsplit(u).query if urllib.parse.urlsplit(u).query else "") for u in _resolved(engine, query)}


def _resolved(engine: Engine, query: str) -> list[str]:
    found = shape(query)
    out = []
    for term in found.service_terms:
        if term.startswith(("?", "$")):
            out.append(f"{engine.listener.url}/t11")  # a variable: what the example binds it to
        else:
            iri = resolve(found, term, engine.base)
            if iri is not None:
                out.append(iri)
    return out


def _agrees(engine: Engine, text: str, refusable: bool) -> str | None:
    """Run one query on both sides; None when the engine rejects it, else a string naming the outcome."""
    outcome = engine.run(text)
    if outcome is None:
        return None
    form, hits = outcome
    try:
        found = shape(text)
    except (BadQuery, QueryRefused) as exc:
        raise AssertionError(f"the engine accepts this query, the scan says {exc}: {text!r}") from None
    if form in ("ASK", "SELECT"):
        assert found.form == form, (found.form, form, text)
    elif form == "GRAPH":
        assert found.returns_graph, (found.form, text)
    if hits:
        assert found.services, f"the engine called {[h.path for h in hits]} and the scan saw no SERVICE: {text!r}"
        expected = _urls(engine, text)
        for hit in hits:
            assert hit.path in expected, f"the engine called {hit.path}, the scan resolves to {sorted(expected)}: {text!r}"
        return "calls"
    if form == "ERROR":
        return "error"  # evaluation stopped (e.g. SERVICE ?e before ?e is bound): later SERVICEs may never be reached
    if found.services and all(t.startswith(("?", "$")) for t in found.service_terms):
        return "variable"  # always refused: whether the engine calls depends on the order it binds the variable in
    if found.services:
        assert refusable, f"the scan reports SERVICE {found.services} that the engine does not call: {text!r}"
        return "refused on purpose"
    return "no call"


@RUN
@given(example=queries())
def test_the_scan_reports_service_exactly_when_the_engine_calls_out(engine: Engine, example: Example) -> None:
    text = example.query.replace(L, engine.listener.url)
    seen = _agrees(engine, text, example.refusable)
    event(f"engine: {seen or 'rejects'}")
    if seen not in (None, "error") and example.calls and not example.refusable:
        # The generator placed a reachable SERVICE: the engine must have called it (else the oracle proves nothing).
        assert seen == "calls", f"the engine did not call a SERVICE the generator wrote: {text!r}"


MUTATIONS = ["'", '"', "#", "<", ">", "\\", ".", ":", "{", "}", "\r", "\n", " ", "?", "_:", "@", "service", "u0053", "(", ")", ";", ","]


@MUTANTS
@given(example=queries(), edits=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(MUTATIONS), st.booleans()), min_size=1, max_size=4))
def test_mutants_the_engine_accepts_agree_too(engine: Engine, example: Example, edits: list[tuple[int, str, bool]]) -> None:
    text = example.query.replace(L, engine.listener.url)
    for at, piece, replace in edits:
        at %= len(text) + 1
        text = text[:at] + piece + text[at + (1 if replace else 0) :]
    event(f"engine: {_agrees(engine, text, refusable=True) or 'rejects'}")  # a mutant may turn anything into the refused case; calls must still be seen


@pytest.mark.parametrize(
    "text",
    [
        "PREFIX ex: <https://schema.org/Movie> SELECT * WHERE { ?s a ex:.SERVICE <@L@/x> { ?a ?b ?c } }",  # the reported case
        "SELECT * { ?s ?p trueSERVICE<@L@/x>{} }",
        "SELECT * { ?s ?p true.SERVICE <@L@/x> {} }",
        "PREFIX svc: <@L@/> SELECT * { SERVICEsvc:x { } }",
        "PREFIX svc: <@L@/> SELECT * { SERVICESILENTsvc:x { } }",
        "SELECT * { ?s ?p 1.SERVICE <@L@/x> {} }",
        "SELECT * { ?s ?p ?o#\rSERVICE <@L@/x> {} }",
        "SELECT * { FILTER(?s < ?o)SERVICE <@L@/x> {} }",
        "SELECT * { ?s ?p 'a\\'b' SERVICE <@L@/x> {} }",
        "SELECT * { SERVICE <@L@/\\u0078> {} }",
    ],
)
def test_named_bypasses_are_seen(engine: Engine, text: str) -> None:
    text = text.replace(L, engine.listener.url)
    outcome = engine.run(text)
    assert outcome is not None, f"the engine should accept {text!r}"
    assert outcome[1], f"the engine should call out for {text!r}"
    assert shape(text).services
    assert _agrees(engine, text, refusable=False) == "calls"
