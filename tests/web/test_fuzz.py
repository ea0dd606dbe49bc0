"""Fuzzed queries, headers, paths and payloads: never a 5xx, never a hang, always a well-formed body.

Hypothesis mutates the site's own queries (characters and tokens inserted,
deleted and replaced, huge literals, deep nesting, unicode, NUL bytes, broken
percent-encodings), and sends random Accept and Content-Type headers, paths and
reconciliation payloads. Every route of the app (taken from its own route table,
so a new one is not forgotten) gets odd values for its query parameters and for
others': digits of other scripts, huge and negative numbers, empty and repeated
parameters, NUL, CR/LF, broken percent-encodings, odd Range and Accept headers,
as GET, HEAD and (where taken) POST. Every answer must be sound (see ``wellformed.py``),
come back within the query time limit plus a margin, and no example may make
filmgraph contact the loopback listener that some of them name (SERVICE, FROM).

Most examples go through the Flask test client (fast); a smaller sample goes
over a real socket with raw bytes (http.client does not re-quote anything).
The runs are derandomized, so CI sees the same examples every time.
``FILMGRAPH_FUZZ_TALLY=path`` writes what the requests got (by status class, server
faults, outbound connections) to ``path`` at the end: the figures of a long run.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from filmgraph.site.examples import list_examples
from filmgraph.core.iris import KINDS
from filmgraph.site.services import Services
from filmgraph.core.settings import DEFAULT_BASE, Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..loopback import Loopback
from ..wellformed import media_type, problem

TIMEOUT = 1.0
MARGIN = 8.0
"""Seconds past the time limit a request may take on a busy 2-core machine before it counts as a hang."""
FUZZ = settings(deadline=None, derandomize=os.environ.get("FILMGRAPH_FUZZ_RANDOM") != "1", database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
LISTENER = "@LISTENER@"
SCALE = int(os.environ.get("FILMGRAPH_FUZZ_SCALE", "1"))
"""Multiplies every test's number of examples: ``FILMGRAPH_FUZZ_SCALE=20`` for a long local run
(``FILMGRAPH_FUZZ_RANDOM=1`` draws new examples each run instead of CI's fixed ones)."""

FG = DEFAULT_BASE + "ontology#"
SEED_QUERIES = [
    "ASK { ?s a <%sFilmRecord> }" % FG,
    "SELECT * WHERE { ?s ?p ?o } LIMIT 5",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5",
    "DESCRIBE <%sfilm/aelita>" % DEFAULT_BASE,
    'PREFIX schema: <https://schema.org/>\nSELECT ?f ?n (STRLEN(?n) AS ?l) WHERE { ?f schema:name ?n . OPTIONAL { ?f schema:datePublished ?d } FILTER(REGEX(?n, "^th", "i")) } ORDER BY DESC(?l) LIMIT 10',
    "SELECT ?t (COUNT(*) AS ?n) WHERE { ?s a ?t } GROUP BY ?t HAVING (COUNT(*) > 1) ORDER BY ?n",
    "SELECT * WHERE { VALUES (?x ?y) { (1 \"a\"@en) (UNDEF <http://example.org/b>) } BIND(?x + 1 AS ?z) }",
    "SELECT * WHERE { ?a (<https://schema.org/about>|^<https://schema.org/about>)+ ?b } LIMIT 3",
    "SELECT * FROM <%s/graph> WHERE { ?s ?p ?o } LIMIT 1" % LISTENER,
    "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } MINUS { ?s a <%sClaim> } } LIMIT 7" % FG,
    *[ex.sparql(DEFAULT_BASE) for ex in list_examples()],
]
TOKENS = [
    "{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "+", "?", "|", "^", "/", "!", "&&", "||", "<", ">", "=", "!=",
    '"', "'", '"""', "'''", "#", "\\", "\\u0053", "\\U0001F680", "\x00", "\ufffd", "\U0001f680", "\u202e", "é",
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "VALUES",
    "BIND", "GROUP BY ?s", "ORDER BY ?o", "LIMIT 1", "OFFSET 99999999999999999999", "LIMIT -1", "DISTINCT",
    "PREFIX x: <http://x/>", "BASE <rel/>", "?x", "$y", "_:b", "a", "<>", "<http://x/>", "<<", ">>", "<<(", ")>>",
    "1e999", '"x"@en', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>', 'REGEX(?o, "(a*)*b")', "COUNT(*)",
    "NOW()", "RAND()", "EXISTS", "NOT EXISTS", "SUM(?x)", "GROUP_CONCAT(?o; separator=\"|\")",
    f"SERVICE <{LISTENER}/sparql> {{ ?s ?p ?o }}", f"SERVICE SILENT <{LISTENER}/sparql> {{ }}",
    f"FROM <{LISTENER}/g>", f"FROM NAMED <{LISTENER}/n>", f"<{LISTENER}/x>",
    "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", f"LOAD <{LISTENER}/d.ttl>", "CLEAR ALL", "DROP GRAPH <http://x/>",
]
ACCEPTS = [
    "", "*/*", "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
    "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html", "application/json",
    "application/xml", "text/plain", "image/png", "text/*", "application/*", "*/*;q=0",
]
MEDIA = [
    "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update", "application/json",
    "application/ld+json", "text/turtle", "multipart/form-data", "text/plain", "application/octet-stream", "", "*/*", "garbage",
]


# -- the app under fuzz: a short time limit, small caps, and a listener that must stay silent ----------


@pytest.fixture(scope="module")
def listener() -> Iterator[Loopback]:
    """Anything filmgraph fetched because of a fuzzed request would land here."""
    lst = Loopback()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The shipped dataset with a 1 s time limit and a small row cap, so that slow inputs are cheap; the other limits as shipped."""
    s = Settings(query_timeout=TIMEOUT, max_rows=200, query_workers=2, max_body=150_000)
    svc = Services.build(s, EmbeddedStore.build(s, tmp_path_factory.mktemp("fuzz") / "store"))
    yield svc
    svc.close()


@dataclass
class Tally:
    """What the fuzzed requests of this module got, by status; written out at the end when ``FILMGRAPH_FUZZ_TALLY`` names a file."""

    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    """503s of a query over the time limit (sound: the client asked for too much)."""

    def record(self, status: int, body: bytes) -> None:
        self.statuses[status] += 1
        if status == 503 and b"query_timeout" in body:
            self.timeouts += 1

    def summary(self, listener: Loopback) -> dict[str, object]:
        """Requests sent, by status class; server faults (a 5xx that is not a time limit) and outbound connections, both to be 0."""
        faults = sum(n for s, n in self.statuses.items() if s >= 500) - self.timeouts
        classes = Counter(f"{s // 100}xx" for s in self.statuses.elements())
        return {"requests": sum(self.statuses.values()), "by_class": dict(sorted(classes.items())), "server_faults": faults,
                "query_timeouts_503": self.timeouts, "outbound_connections": len(listener.hits)}


@pytest.fixture(scope="module")
def tally(listener: Loopback) -> Iterator[Tally]:
    """Counts every fuzzed request's status; the long run's figures come from here."""
    counted = Tally()
    yield counted
    out = os.environ.get("FILMGRAPH_FUZZ_TALLY")
    if out:
        Path(out).write_text(json.dumps(counted.summary(listener), indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def fuzz_app(fuzz_services: Services, tally: Tally):  # type: ignore[no-untyped-def]
    """The app under fuzz (its tally among its extensions)."""
    app = create_app(fuzz_services.settings, fuzz_services)
    app.config["TESTING"] = True
    app.extensions["fuzz.tally"] = tally
    return app


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app):  # type: ignore[no-untyped-def]
    """A test client of the app under fuzz."""
    return fuzz_app.test_client()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _form(**fields: str) -> bytes:
    """A form body with the bytes as given (lone surrogates become invalid UTF-8, as a hostile client would send)."""
    return urllib.parse.urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


def _send(client, method: str, path: str, listener: Loopback, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Send one request through the test client and check that the answer is sound and nothing went out."""
    started = time.monotonic()
    with client.open(path, method=method, **kwargs) as resp:
        body = resp.get_data()
    elapsed = time.monotonic() - started
    client.application.extensions["fuzz.tally"].record(resp.status_code, body)
    found = _problem(resp.status_code, resp.headers, body, method, path)
    assert found is None, f"{method} {path[:300]!r} {kwargs!r:.500}: {found}"
    assert elapsed < TIMEOUT + MARGIN, f"{method} {path[:300]!r} took {elapsed:.1f} s"
    assert listener.hits == [], f"{method} {path[:300]!r} made filmgraph contact {listener.hits[0].path}"


def _problem(status: int, headers: Mapping[str, str], body: bytes, method: str, path: str) -> str | None:
    """What is wrong with an answer (see ``wellformed.py``), knowing two answers it does not: a part of a file, a plain TSV download."""
    if status == 206:
        return _partial(headers.get("Content-Range") or "", body, method)
    if status == 200 and path.startswith("/dumps/") and media_type(headers.get("Content-Type")) == "text/tab-separated-values":
        widths = {line.count(b"\t") for line in body.splitlines()}
        return None if len(widths) == 1 else f"a TSV download of rows of different widths: {sorted(widths)[:5]}"
    return problem(status, headers.get("Content-Type"), body, method)


def _partial(content_range: str, body: bytes, method: str) -> str | None:
    """What is wrong with a 206 (a part of a file: its Content-Range must say which, and the body be that long)."""
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
    if m is None:
        return f"206 without a byte Content-Range: {content_range!r}"
    first, last, whole = (int(g) for g in m.groups())
    if not first <= last < whole or (method != "HEAD" and len(body) != last - first + 1):
        return f"206 of {len(body)} bytes says Content-Range: {content_range}"
    return None


# -- strategies ------------------------------------------------------------------------------------


NESTS = [("{", "}"), ("(", ")"), ("[", "]"), ("<<", ">>"), ("{ OPTIONAL ", "}"), ("STR(", ")"), ("EXISTS { FILTER(", ") }"), ("!", ""), ("1 + ", "1"), ("{} UNION ", "{}"), ("<http://x/p>/", "<http://x/p>"), ("?x || ", "?x")]


@st.composite
def mutated_query(draw: st.DrawFn) -> str:
    """A seed query, as is or with one to three mutations, mostly inside its body (where the parser gets deep)."""
    rnd = draw(st.randoms(use_true_random=False))
    q = rnd.choice(SEED_QUERIES)
    for _ in range(rnd.choice([0, 1, 1, 1, 2, 3])):
        op = rnd.choice(["insert", "delete", "replace", "token", "token", "token", "swap", "huge", "nest", "nest", "unicode"])
        body = q.find("{") + 1 if "{" in q and rnd.random() < 0.85 else 0
        i = rnd.randint(body, len(q))
        if op == "insert":
            q = q[:i] + "".join(chr(rnd.choice([rnd.randint(0, 127), rnd.randint(0, 0x10FFFF)])) for _ in range(rnd.randint(1, 5))) + q[i:]
        elif op == "delete":
            q = q[:i] + q[i + rnd.randint(1, 30):]
        elif op == "replace":
            q = q[:i] + chr(rnd.randint(0, 0x2FFF)) + q[i + 1:]
        elif op == "token":
            q = q[:i] + " " + rnd.choice(TOKENS) + " " + q[i:]
        elif op == "swap":
            a, b = sorted((i, rnd.randint(body, len(q))))
            q = q[:a] + q[b:] + q[a:b]
        elif op == "huge":
            q = q[:i] + ' "' + "x" * rnd.choice([1000, 60_000, 120_000]) + '" ' + q[i:]
        elif op == "nest":
            depth = rnd.choice([50, 400, 1500, 3000, 6000])
            opener, closer = rnd.choice(NESTS)
            q = q[:i] + " " + opener * depth + " ?s ?p ?o " + closer * depth + " " + q[i:]
        else:
            q = q[:i] + "".join(rnd.choice(["\x00", "\u202e", "\ufeff", "\U0001f680", "é", "\u0301", "\ud7ff", "\uffff"]) for _ in range(rnd.randint(1, 4))) + q[i:]
    return q


def _quote(q: str, listener: Loopback) -> str:
    return urllib.parse.quote(q.replace(LISTENER, listener.url), safe="", errors="surrogatepass")


@st.composite
def broken_percent(draw: st.DrawFn, encoded: str) -> str:
    """An encoded query string with invalid percent-escapes and invalid UTF-8 spliced in."""
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(encoded)))
        encoded = encoded[:i] + draw(st.sampled_from(["%", "%z", "%zz", "%0", "%00", "%C3%28", "%FF%FE", "%E2%82", "+", "&", "&query=", "=", "%25"])) + encoded[i:]
    return encoded


def _params(draw: st.DrawFn) -> str:
    name = draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
    value = draw(st.one_of(st.floats(allow_nan=True).map(str), st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters=",;"), max_size=10)))
    return f";{draw(st.sampled_from(['q', 'charset', 'profile', name]))}={value}"


@st.composite
def media_range(draw: st.DrawFn, choices: list[str]) -> str:
    """A media range: a known one, a random type/subtype, or latin-1 garbage, with random parameters."""
    base = draw(st.one_of(
        st.sampled_from(choices),
        st.from_regex(r"[a-z*+.-]{0,12}/[a-z0-9*+.-]{0,20}", fullmatch=True),
        st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=30),
    ))
    return base + "".join(_params(draw) for _ in range(draw(st.integers(0, 2))))


@st.composite
def accept_header(draw: st.DrawFn) -> str:
    """An Accept header of up to five media ranges."""
    return ", ".join(draw(media_range(ACCEPTS)) for _ in range(draw(st.integers(0, 5))))


@st.composite
def query_request(draw: st.DrawFn) -> tuple[str, str, dict[str, object]]:
    """A query sent the three protocol ways (GET, POST form, POST direct), with a random Accept."""
    q = draw(st.one_of(mutated_query(), mutated_query(), mutated_query(), st.text(max_size=200)))
    how = draw(st.sampled_from(["get", "get", "get", "form", "form", "direct", "direct", "direct-bytes"]))
    extra = draw(st.sampled_from(["", "&format=json", "&format=tsv", "&format=nope", "&output=xml", "&default-graph-uri=" + LISTENER, "&named-graph-uri=x"]))
    headers = {"Accept": draw(st.one_of(st.sampled_from(ACCEPTS[:12]), accept_header()))}
    return how, q + "\x1f" + extra, headers  # split again in the test (the listener URL is known only there)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def reconcile_query(draw: st.DrawFn) -> object:
    """One reconciliation query: well-shaped, slightly wrong, or random JSON."""
    good = {"query": draw(st.sampled_from(["Aelita", "The Silent Star", "nebo", "", "x" * 500])), "type": draw(st.sampled_from(["Film", "fg:FilmRecord", "Q11424", "", None, 7, ["Film"]])), "limit": draw(st.sampled_from([1, 3, 0, -1, 10**9, "5", None]))}
    if draw(st.booleans()):
        good["properties"] = draw(st.lists(st.fixed_dictionaries({"pid": st.sampled_from(["year", "P577", "releaseYear", "", "x"]), "v": JSON_VALUES}), max_size=3))
    return draw(st.one_of(st.just(good), JSON_VALUES, st.fixed_dictionaries({"query": JSON_VALUES})))


@st.composite
def json_text(draw: st.DrawFn, valid: st.SearchStrategy[object]) -> str:
    """JSON text: a valid document, a broken one, a deeply nested one, or a huge batch."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "broken", "nested", "huge", "random"]))
    if kind == "valid":
        return json.dumps(draw(valid))
    if kind == "broken":
        text = json.dumps(draw(valid))
        i = draw(st.integers(0, len(text)))
        return text[:i] + draw(st.sampled_from(["{", "]", ",", '"', "\\", "\x00", "NaN", "\ud800"])) + text[i + 1:]
    if kind == "nested":
        depth = draw(st.sampled_from([100, 990, 1500, 20_000]))
        o, c = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return o * depth + "1" + c * depth
    if kind == "huge":
        return json.dumps({f"q{i}": {"query": "Aelita"} for i in range(draw(st.sampled_from([101, 1000])))})
    return draw(st.text(max_size=100))


BATCH_V02 = st.dictionaries(st.from_regex(r"q[0-9]{1,3}", fullmatch=True), reconcile_query(), max_size=5)
BATCH_V1 = st.fixed_dictionaries({"queries": st.lists(st.fixed_dictionaries({"conditions": st.lists(st.fixed_dictionaries({"matchType": st.sampled_from(["name", "id", "property", "x"]), "propertyValue": JSON_VALUES, "propertyId": st.sampled_from(["year", "name", "", "P577"])}), max_size=3), "type": st.sampled_from(["Film", "x", None])}), max_size=4)})
EXTEND = st.one_of(
    st.fixed_dictionaries({
        "ids": st.lists(st.sampled_from(["film/aelita", "film/nebo-zovyot", "mission/luna-2", "nope", "", "../x", "film/" + "a" * 300]) | st.text(max_size=10), max_size=5),
        "properties": st.lists(st.fixed_dictionaries({"id": st.sampled_from(["year", "name", "director", "x", ""]) | JSON_VALUES, "settings": st.one_of(st.none(), st.fixed_dictionaries({"limit": JSON_VALUES}))}), max_size=3),
    }),
    JSON_VALUES,
)


# -- the properties --------------------------------------------------------------------------------


@settings(FUZZ, max_examples=250 * SCALE)
@given(req=query_request())
def test_fuzzed_queries_never_fault_hang_or_fetch(fuzz_client, listener: Loopback, req) -> None:  # type: ignore[no-untyped-def]
    how, packed, headers = req
    q, _, extra = packed.partition("\x1f")
    extra = extra.replace(LISTENER, listener.url)
    text = q.replace(LISTENER, listener.url)
    if how == "get":
        _send(fuzz_client, "GET", f"/sparql?query={_quote(q, listener)}{extra}", listener, headers=headers)
    elif how == "form":
        _send(fuzz_client, "POST", "/sparql" + ("?" + extra[1:] if extra else ""), listener, headers={**headers, **FORM}, data=_form(query=text))
    elif how == "direct":
        _send(fuzz_client, "POST", "/sparql", listener, headers={**headers, "Content-Type": "application/sparql-query"}, data=text.encode("utf-8", "surrogatepass"))
    else:
        raw = text.encode("utf-8", "surrogatepass")
        _send(fuzz_client, "POST", "/sparql", listener, headers={**headers, "Content-Type": "application/sparql-query; charset=utf-8"}, data=raw[: len(raw) // 2] + b"\xff\xc3" + raw[len(raw) // 2:])


@settings(FUZZ, max_examples=60 * SCALE)
@given(data=st.data())
def test_broken_percent_encodings_are_client_errors(fuzz_client, listener: Loopback, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    q = data.draw(st.sampled_from(SEED_QUERIES))
    encoded = data.draw(broken_percent(_quote(q, listener)))
    path = data.draw(st.sampled_from(["/sparql?query=", "/reconcile?queries=", "/reconcile/suggest/entity?prefix=", "/film/?format=", "/reconcile?callback=cb&query="]))
    _send(fuzz_client, "GET", path + encoded, listener)


@settings(FUZZ, max_examples=120 * SCALE)
@given(accept=accept_header(), path=st.sampled_from(["/", "/sparql", "/sparql?query=ASK%7B%7D", "/sparql?query=DESCRIBE%20%3Chttps%3A%2F%2Fw3id.org%2Ffilmgraph%2Ffilm%2Faelita%3E", "/film/aelita", "/film/aelita.ttl", "/film/", "/ontology", "/dataset", "/.well-known/void", "/dumps/", "/reconcile", "/nope", "/healthz"]), method=st.sampled_from(["GET", "HEAD", "OPTIONS", "DELETE"]))
def test_any_accept_header_gets_a_sound_answer(fuzz_client, listener: Loopback, accept: str, path: str, method: str) -> None:  # type: ignore[no-untyped-def]
    _send(fuzz_client, method, path, listener, headers={"Accept": accept, "Access-Control-Request-Method": "GET"} if method == "OPTIONS" else {"Accept": accept})


@settings(FUZZ, max_examples=120 * SCALE)
@given(ctype=media_range(MEDIA), body=st.one_of(st.binary(max_size=200), st.sampled_from([b"query=ASK%7B%7D", b"ASK {}", b'{"queries": {"q0": {"query": "Aelita"}}}', b'{"@context": "@LISTENER@/ctx", "@id": "http://x/a"}', b"update=CLEAR%20ALL", b"x" * 160_000])), path=st.sampled_from(["/sparql", "/reconcile", "/reconcile/v1/match", "/reconcile/v1/extend", "/film/aelita", "/dumps/filmgraph.ttl"]))
def test_any_content_type_gets_a_sound_answer(fuzz_client, listener: Loopback, ctype: str, body: bytes, path: str) -> None:  # type: ignore[no-untyped-def]
    body = body.replace(LISTENER.encode(), listener.url.encode())
    _send(fuzz_client, "POST", path, listener, headers={"Content-Type": ctype}, data=body)


@st.composite
def hostile_path(draw: st.DrawFn) -> str:
    """A resource path: random ids, dot segments, NUL bytes, encoded slashes, overlong ids, odd extensions."""
    kind = draw(st.sampled_from([*KINDS, "dumps", "ontology", "static", "reconcile/preview?id=", "reconcile/flyout/entity?id=", "nope", ""]))
    if kind.endswith("="):
        return "/" + kind + urllib.parse.quote(draw(st.text(max_size=40)), safe="%", errors="surrogatepass")
    piece = draw(st.one_of(
        st.sampled_from(["aelita", "..", "../..", "%2e%2e", "%2F", "%00", "a%00b", "..%2F..%2Fetc%2Fpasswd", "x" * 5000, "aelita.", ".ttl", "aelita.ttl.html", "AELITA", "aelita.exe", "%C3%28", "%", "%zz", "\u00e9", "?format=nope", "aelita?format=xml", "filmgraph.ttl", "filmgraph.nt.gz", "../../pyproject.toml", "film/aelita"]),
        st.text(st.characters(blacklist_characters="#", blacklist_categories=("Cs",)), max_size=40).map(lambda s: urllib.parse.quote(s, safe="/%.")),
    ))
    return f"/{kind}/{piece}" if kind else "/" + piece.lstrip("/")


@settings(FUZZ, max_examples=150 * SCALE)
@given(path=hostile_path(), accept=st.sampled_from(["", "text/html", "text/turtle", "application/json", "*/*", "application/ld+json"]))
def test_hostile_paths_are_answered_soundly(fuzz_client, listener: Loopback, path: str, accept: str) -> None:  # type: ignore[no-untyped-def]
    _send(fuzz_client, "GET", path, listener, headers={"Accept": accept})


@settings(FUZZ, max_examples=120 * SCALE)
@given(field=st.sampled_from(["queries", "query"]), text=json_text(BATCH_V02), method=st.sampled_from(["POST", "GET"]), jsonp=st.booleans())
def test_reconciliation_batches_are_answered_soundly(fuzz_client, listener: Loopback, field: str, text: str, method: str, jsonp: bool) -> None:  # type: ignore[no-untyped-def]
    if method == "POST":
        _send(fuzz_client, "POST", "/reconcile", listener, data=_form(**{field: text}), headers=FORM)
    else:
        qs = urllib.parse.urlencode({field: text, **({"callback": "cb"} if jsonp else {})}, encoding="utf-8", errors="surrogatepass")
        _send(fuzz_client, "GET", f"/reconcile?{qs}", listener)


@settings(FUZZ, max_examples=60 * SCALE)
@given(text=json_text(BATCH_V1), as_form=st.booleans())
def test_reconciliation_v1_batches_are_answered_soundly(fuzz_client, listener: Loopback, text: str, as_form: bool) -> None:  # type: ignore[no-untyped-def]
    if as_form:
        _send(fuzz_client, "POST", "/reconcile/v1/match", listener, data=_form(queries=text), headers=FORM)
    else:
        _send(fuzz_client, "POST", "/reconcile/v1/match", listener, data=text.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"})


@settings(FUZZ, max_examples=80 * SCALE)
@given(text=json_text(EXTEND), v1=st.booleans())
def test_data_extension_payloads_are_answered_soundly(fuzz_client, listener: Loopback, text: str, v1: bool) -> None:  # type: ignore[no-untyped-def]
    if v1:
        _send(fuzz_client, "POST", "/reconcile/v1/extend", listener, data=text.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"})
    else:
        _send(fuzz_client, "POST", "/reconcile", listener, data=_form(extend=text), headers=FORM)


@settings(FUZZ, max_examples=40 * SCALE)
@given(prefix=st.text(max_size=50), kind=st.sampled_from(["entity", "type", "property", "nope"]), cursor=st.sampled_from(["", "0", "5", "-1", "x", "99999999999999999999"]), limit=st.sampled_from(["", "3", "0", "1000", "abc"]), callback=st.sampled_from(["", "cb", "a.b", "alert(1)", "x" * 200]))
def test_suggest_parameters_are_answered_soundly(fuzz_client, listener: Loopback, prefix: str, kind: str, cursor: str, limit: str, callback: str) -> None:  # type: ignore[no-untyped-def]
    qs = urllib.parse.urlencode({"prefix": prefix, "cursor": cursor, "limit": limit, "callback": callback}, errors="surrogatepass")
    _send(fuzz_client, "GET", f"/reconcile/suggest/{kind}?{qs}", listener)


def _deep_queries(length: int = 99_000) -> dict[str, str]:
    """Queries as deep or as long as the length limit allows: each once killed a query worker (a 500)."""

    def fill(head: str, unit: str, tail: str) -> str:
        return head + unit * ((length - len(head) - len(tail)) // len(unit)) + tail

    return {
        "nested groups": "SELECT * WHERE " + "{" * 40_000 + "?s ?p ?o" + "}" * 40_000,
        "nested calls": "SELECT * WHERE { BIND(" + "STR(" * 19_000 + "1" + ")" * 19_000 + " AS ?x) }",
        "chained not": fill("SELECT * WHERE { FILTER(", "!", "true) }"),
        "nested groups within the limit": "SELECT * WHERE " + "{" * 999 + "?s ?p ?o" + "}" * 999,
        "nested calls within the limit": "SELECT * WHERE { BIND(" + "STR(" * 990 + "1" + ")" * 990 + " AS ?x) }",
        "long union": fill("SELECT * WHERE { ", "{} UNION ", "{} }"),
        "long sum": fill("SELECT * WHERE { BIND(", "1+", "1 AS ?x) }"),
        "long or": fill("SELECT * WHERE { FILTER(", "?a||", "?a) }"),
        "long path": fill("PREFIX x: <http://x/> SELECT * WHERE { ?s ", "x:p|", "x:p ?o }"),
        "long optional chain": fill("SELECT * WHERE { ?s ?p ?o ", "OPTIONAL{} ", "}"),
        "many filters": fill("SELECT * WHERE { ?s ?p ?o ", "FILTER(?o)", "}"),
        "many projections": "SELECT " + "".join(f"(1 AS ?v{i})" for i in range(7000)) + " WHERE {}",
    }


@pytest.mark.parametrize("name", list(_deep_queries()))
def test_deep_and_long_queries_are_refused_or_answered_never_fatal(fuzz_client, listener: Loopback, name: str) -> None:  # type: ignore[no-untyped-def]
    query = _deep_queries()[name]
    with fuzz_client.post("/sparql", data=query.encode(), headers={"Content-Type": "application/sparql-query"}) as resp:
        resp.get_data()
    assert problem(resp.status_code, resp.headers.get("Content-Type"), resp.get_data()) is None, resp.get_data()[:300]
    if "within" in name:
        assert resp.status_code == 200
    elif name.startswith(("nested", "chained")):
        assert resp.status_code == 400 and b"max_query_nesting" in resp.get_data()


# -- every route's parameters, taken from the app's own route table ---------------------------------

ROUTE_PARAMS: dict[str, tuple[str, ...]] = {
    "static": (),
    "sparql.endpoint": ("query", "default-graph-uri", "named-graph-uri", "format", "output", "results", "update", "using-graph-uri"),
    "health.healthz": (),
    "pages.home": ("format",),
    "pages.collection": ("year", "after", "type", "format"),
    "pages.search": ("q", "kind", "format"),
    "pages.resource": ("format", "profile"),
    "pages.context": (),
    "pages.context_version": (),
    "dumps.index": (),
    "dumps.download": (),
    "ontology.ontology": ("format",),
    "ontology.ontology_file": (),
    "ontology.ontology_version": ("format",),
    "dataset.dataset": ("format",),
    "dataset.dataset_document": (),
    "dataset.well_known_void": ("format",),
    "dataset.consistency": ("format",),
    "dataset.rule": ("format",),
    "reconcile.root": ("queries", "query", "extend", "callback"),
    "reconcile.suggest": ("prefix", "cursor", "limit", "type", "callback"),
    "reconcile.flyout": ("id", "callback"),
    "reconcile.preview": ("id",),
    "reconcile.propose": ("type", "limit", "callback"),
    "reconcile.about": (),
    "reconcile_v1.root_v1": (),
    "reconcile_v1.match_v1": ("queries",),
    "reconcile_v1.suggest_v1": ("prefix", "cursor", "limit", "type"),
    "reconcile_v1.preview_v1": ("id",),
    "reconcile_v1.extend_v1": ("extend",),
    "reconcile_v1.propose_v1": ("type", "limit"),
    "wikidata.page": ("format",),
}
"""The query parameters each route reads (by endpoint). A route missing here fails
``test_every_route_has_its_parameters_listed_for_fuzzing``; every route is fuzzed with every name anyway."""
ALL_PARAMS = sorted({name for names in ROUTE_PARAMS.values() for name in names})
SENSIBLE = {
    "query": ["ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 2", f"SELECT * FROM <{LISTENER}/g> WHERE {{ ?s ?p ?o }} LIMIT 1", "DESCRIBE <%sfilm/aelita>" % DEFAULT_BASE, "Aelita", '{"query": "Aelita"}'],
    "default-graph-uri": [f"{LISTENER}/g", DEFAULT_BASE + "graph"], "named-graph-uri": [f"{LISTENER}/n"],
    "format": ["json", "html", "ttl", "turtle", "jsonld", "nt", "xml", "csv", "tsv", "text/turtle", "application/ld+json", "nope"],
    "output": ["json", "xml"], "results": ["csv"], "year": ["1960", "1924", "-1", "0"], "after": ["aelita", "nebo-zovyot", "zzz", "Bad Id"],
    "type": ["fg:FilmRecord", "fg:Film", "Film", "fg:Claim"], "q": ["aelita", "небо", "the", "a*"], "kind": ["film", "mission", "planet"],
    "queries": ['{"q0": {"query": "Aelita"}}', '{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Aelita"}]}]}'],
    "extend": ['{"ids": ["film/aelita"], "properties": [{"id": "year"}]}'], "callback": ["cb", "a.b", "alert(1)"],
    "prefix": ["ae", "", "Луна"], "cursor": ["0", "5", "10000"], "limit": ["1", "3", "100"], "id": ["film/aelita", "mission/luna-2", "nope"],
    "profile": ["http://www.w3.org/ns/json-ld#compacted", "x"],
}
ODD = [
    "", " ", "²", "①", "٣", "３", "١٩٦٠", "１９６０", "-٣", "0", "-0", "-1", "+1", "007", "1.5", "1e999", "NaN", "Infinity", "0x10", " 5", "5 ",
    "9" * 20, "9" * 400, "9" * 5000, "-" + "9" * 30, "\x00", "a\x00b", "\r\n", "\n", "\r", "\t", "\u202e", "\ufeff", "\U0001f680", "é",
    "\ud800", "x" * 3000, "[]", "{", "null", "true", "../../pyproject.toml", "<script>alert(1)</script>", "%", "?", "&", "=", "#", ";q=2",
]
DIGITS = ["²", "①", "٣", "３", "١٩٦٠", "１９６０", "-٣", "-１", "٣٣", "1²", "¹⁰", "⑩", "௧௯௬௦", "߁", "𝟙𝟡𝟞𝟘", "--5", "5-", "-", "1_000", "9" * 19, "9" * 5000, "-" + "9" * 19, "0" * 200 + "1"]
"""Numbers as a client might write them: digits of other scripts (``int()`` reads some, ``isdigit()`` says yes to more), huge, signed."""
RAW = ["%", "%z", "%zz", "%FF", "%C3%28", "%ED%A0%80", "%E2%82", "%00", "%0D%0A", "%0A", "%2", "+", "&&", "=", "==", ";", "%25", "%C0%AF"]
"""Fragments spliced in as they are: broken escapes, invalid UTF-8, an encoded surrogate, NUL, CR/LF."""
RANGES = ["bytes=0-5", "bytes=99999999-", "items=0-5", "bytes=-5", "bytes=-99999999999999999999", "bytes=5-2", "bytes=0-1,3-4", "bytes=²-5", "bytes=", "", "bytes=0-0"]
PATH_VALUES: dict[str, list[str]] = {
    "pages.resource/name": ["aelita", "aelita.html", "aelita.ttl", "aelita.jsonld", "aelita.nt", "1960", "1960.html", "1960.ttl", "nebo-zovyot.jsonld", "nope", "nope.ttl", "²", "１９６０"],
    "reconcile.suggest/kind": ["entity", "type", "property", "nope"], "reconcile_v1.suggest_v1/kind": ["entity", "type", "property", "nope"],
    "dumps.download/filename": ["filmgraph.ttl", "filmgraph.ttl.gz", "filmgraph.nt", "filmgraph.nt.gz", "filmgraph.jsonld", "filmgraph.jsonld.gz", "filmgraph-mixnmatch.tsv", "nope.ttl"],
    "static/filename": ["filmgraph.css", "publish.css", "sparql-ui.js", "sparql-ui.css", "nope.css"],
    "dataset.rule/name": ["same-year-mismatch", "nope"],
    "kind": list(KINDS), "ext": ["html", "ttl", "jsonld", "nt", "rdf", "owl", "nope"], "version": ["1", "0.1", "latest", "x"],
}
_ARGUMENT = re.compile(r"<(?:[^<>]*:)?(\w+)>")


def _rules(app) -> list[tuple[str, str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    """(endpoint, rule, methods) of every route of the app, from its own route table."""
    return sorted((r.endpoint, r.rule, tuple(sorted(r.methods or ()))) for r in app.url_map.iter_rules())


def _quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="", errors="surrogatepass")


@st.composite
def odd_value(draw: st.DrawFn, name: str) -> str:
    """A parameter value as it goes into the query string (already encoded): sensible, odd, random, or broken."""
    kind = draw(st.sampled_from(["sensible", "digits", "digits", "odd", "odd", "number", "text", "raw", "spliced"]))
    if kind == "sensible":
        return _quoted(draw(st.sampled_from(SENSIBLE.get(name) or ODD)))
    if kind == "digits":
        return _quoted(draw(st.sampled_from(DIGITS)))
    if kind == "odd":
        return _quoted(draw(st.sampled_from(ODD)))
    if kind == "number":
        return str(draw(st.integers(min_value=-(10**40), max_value=10**40)))
    if kind == "text":
        return _quoted(draw(st.text(max_size=30)))
    if kind == "raw":
        return draw(st.sampled_from(RAW))
    base = _quoted(draw(st.sampled_from(SENSIBLE.get(name) or ODD)))
    i = draw(st.integers(0, len(base)))
    return base[:i] + draw(st.sampled_from(RAW)) + base[i:]


@st.composite
def route_request(draw: st.DrawFn, rules: list[tuple[str, str, tuple[str, ...]]]) -> tuple[str, str, dict[str, str], bytes | None]:
    """A request to any route of the app: its path filled in, odd values for its parameters (and others'), repeated ones, odd headers."""
    with_params = [r for r in rules if ROUTE_PARAMS.get(r[0])]
    endpoint, rule, methods = draw(st.sampled_from(with_params) if with_params and draw(st.integers(0, 3)) else st.sampled_from(rules))

    def fill(m: re.Match[str]) -> str:
        arg = m.group(1)
        choices = PATH_VALUES.get(f"{endpoint}/{arg}") or PATH_VALUES.get(arg) or ["x"]
        return _quoted(draw(st.sampled_from(choices)))

    path = _ARGUMENT.sub(fill, rule)
    own = ROUTE_PARAMS.get(endpoint, ())
    names = st.one_of(*( [st.sampled_from(own)] * 3 if own else []), st.sampled_from(ALL_PARAMS), st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.sampled_from(["", "%FF", "a%00", "format%0D%0A", "q[]"]))
    pairs = ([(draw(st.sampled_from(own)), False)] if own else []) + draw(st.lists(st.tuples(names, st.booleans()), max_size=5))
    parts = []
    for name, bare in pairs:
        value = draw(odd_value(name))
        parts.append(name if bare and draw(st.booleans()) else f"{name}={value}")
        if draw(st.integers(0, 5)) == 0:
            parts.append(f"{name}={draw(odd_value(name))}")  # the same parameter again
    qs = "&".join(parts)
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST"] if "POST" in methods else ["GET", "GET", "GET", "HEAD"]))
    headers = {"Accept": draw(st.one_of(st.sampled_from(ACCEPTS), accept_header()))}
    if draw(st.booleans()):
        headers["Range"] = draw(st.sampled_from(RANGES))
    body = None
    if method == "POST":
        headers["Content-Type"] = draw(st.sampled_from(["application/x-www-form-urlencoded", "application/json", "application/sparql-query", "text/plain"]))
        if draw(st.booleans()):
            body, qs = qs.encode("latin-1", "replace"), ""  # the parameters as a form body instead
        else:
            body = draw(st.sampled_from([b"", b"ASK {}", b'{"queries": []}', b"query=ASK%7B%7D%23%FF"]))
    return method, path + ("?" + qs if qs else ""), headers, body


def _listening(target: str, listener: Loopback) -> str:
    return target.replace(_quoted(LISTENER), _quoted(listener.url)).replace(LISTENER, listener.url)


@pytest.fixture(scope="module")
def rules(fuzz_app) -> list[tuple[str, str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    """Every route of the app under fuzz."""
    return _rules(fuzz_app)


def test_every_route_has_its_parameters_listed_for_fuzzing(rules: list[tuple[str, str, tuple[str, ...]]]) -> None:
    missing = sorted({endpoint for endpoint, _, _ in rules} - set(ROUTE_PARAMS))
    assert not missing, f"list the query parameters of these routes in ROUTE_PARAMS (and PATH_VALUES): {missing}"


@settings(FUZZ, max_examples=300 * SCALE)
@given(data=st.data())
def test_every_route_answers_odd_parameters_soundly(fuzz_client, listener: Loopback, rules, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    method, target, headers, body = data.draw(route_request(rules))
    target = _listening(target, listener)
    _send(fuzz_client, method, target, listener, headers=headers, data=body if body is None else _listening(body.decode("latin-1"), listener).encode("latin-1"))


# -- a smaller sample over a real socket, with raw bytes -----------------------------------------


@pytest.fixture(scope="module")
def fuzz_server(fuzz_app, serve_app):  # type: ignore[no-untyped-def]
    """The app under fuzz on a loopback port."""
    return serve_app(fuzz_app)


def _over_socket(server, tally: Tally, method: str, target: str, headers: dict[str, str], body: bytes | None, chunked: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Send one request over a real socket (the target quoted only where a request line must be) and check the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT + MARGIN)
    started = time.monotonic()
    hdrs = {k: v.encode("latin-1", "replace").decode("latin-1") for k, v in headers.items()}
    try:
        line = urllib.parse.quote(target, safe="/?&=%:;@+$,!*'()[]~#", errors="surrogatepass")
        if chunked and body is not None:
            conn.request(method, line, body=iter([body[: len(body) // 2], body[len(body) // 2:]]), headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, line, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    tally.record(resp.status, data)
    found = _problem(resp.status, resp.headers, data, method, target)
    assert found is None, f"{method} {target[:300]!r}: {found}"
    assert elapsed < TIMEOUT + MARGIN, f"{method} {target[:300]!r} took {elapsed:.1f} s"


@settings(FUZZ, max_examples=40 * SCALE)
@given(req=query_request(), path=hostile_path())
def test_raw_requests_over_a_socket_are_answered_soundly(fuzz_server, listener: Loopback, tally: Tally, req, path: str) -> None:  # type: ignore[no-untyped-def]
    how, packed, headers = req
    q, _, extra = packed.partition("\x1f")
    for method, target, body, ctype in (
        ("GET", f"/sparql?query={_quote(q, listener)}{extra.replace(LISTENER, listener.url)}", None, None),
        ("POST", "/sparql", q.replace(LISTENER, listener.url).encode("utf-8", "surrogatepass"), "application/sparql-query"),
        ("GET", path, None, None),
    ):
        _over_socket(fuzz_server, tally, method, target, {**headers, **({"Content-Type": ctype} if ctype else {})}, body)
    assert listener.hits == []


@settings(FUZZ, max_examples=40 * SCALE)
@given(data=st.data(), chunked=st.booleans())
def test_raw_route_requests_over_a_socket_are_answered_soundly(fuzz_server, listener: Loopback, tally: Tally, rules, data: st.DataObject, chunked: bool) -> None:  # type: ignore[no-untyped-def]
    method, target, headers, body = data.draw(route_request(rules))
    target = _listening(target, listener)
    if body is not None:
        body = _listening(body.decode("latin-1"), listener).encode("latin-1")
    _over_socket(fuzz_server, tally, method, target, headers, body, chunked=chunked)
    assert listener.hits == [], f"{method} {target[:300]!r} made filmgraph contact {listener.hits[0].path}"
