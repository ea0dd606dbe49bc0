"""The remote backend: any SPARQL 1.1 query endpoint, through SPARQLWrapper.

Queries go out by POST (form-encoded, so long queries fit), bindings as a
VALUES block (:mod:`.bind`), and answers come back as pyoxigraph terms, parsed
as they stream in: SPARQL JSON or XML for SELECT and ASK, N-Triples (or Turtle,
RDF/XML) for graphs, by the response's media type.

Limits: a query gets the time limit as its socket timeout (the remote may go on
computing after filmgraph stops waiting: SPARQL 1.1 has no way to cancel a
query, so a store's own time limit, such as ``oxigraph serve --timeout-s``,
should be set too), and as a deadline checked while the answer is read. The row
cap is enforced while parsing: only ``max_rows + 1`` rows are read before the
response is closed.

Stores differ (docs/deploy.md, "Which store"): the store's kind is read once
from its ``Server`` header. Virtuoso gets the query's time limit as its own
``timeout`` parameter (milliseconds), so it stops a query filmgraph stops
waiting for; an answer it cut at that limit (``X-SQL-State: S1TAT``, "anytime"
partial results with status 200) is a time-out, never a short answer. A store
whose default graph is the union of all its graphs (Virtuoso, with its system
graphs) is given the dataset's graph (setting ``store_graph``) as
``default-graph-uri`` on every query that names no dataset of its own. Virtuoso
also differs in what it sends: blank node ids that are not valid ones
(``nodeID://b1``: answers are read as SPARQL XML, where they are rewritten),
xsd:duration literals as seconds (``"1140.0"``: written back as ``PT19M``), a
DESCRIBE with the triples pointing at the resource (asked for its concise
bounded description instead), and a 500 for a query it cannot compile.

Errors: a query the remote refuses as malformed (400) is the client's
:class:`BadQuery` when the client wrote it, and filmgraph's fault (500) when it
is one of the site's own queries; an unreachable store, a 5xx or a broken answer
is :class:`Unavailable` (503), a time-out :class:`QueryTimeout` (503).
"""

from __future__ import annotations

import ast
import http.client
import io
import itertools
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from .. import formats as F
from ..core.errors import BadQuery, FilmgraphError, QueryTimeout, Unavailable
from ..sparql.execute import FORMATS_BY_NAME, Job
from ..sparql.querytext import shape
from ..sparql.results import Rendered, render_graph, render_rows, rows_capped, triples_capped, write_ask
from ..core.dataset import Bindings, Row
from ..sparql.bind import bind, sparql_term
from .capped import read_in_parts
from .virtuoso import COMPILE_ERROR, PARTIAL_STATES, TIMEOUT_STATES, ROW_CAP_HEADER, BlankIds, Solutions, from_virtuoso, row_cap

AGENT = "filmgraph (remote store client; https://w3id.org/filmgraph/)"
RESULTS_ACCEPT = f"{F.SPARQL_JSON.media_type}, {F.SPARQL_XML.media_type};q=0.9, {F.TSV.media_type};q=0.5"
# Virtuoso's blank node ids (nodeID://...) are made valid in SPARQL XML only (BlankIds), where no literal can hold them.
VIRTUOSO_RESULTS_ACCEPT = F.SPARQL_XML.media_type
GRAPH_ACCEPT = f"{F.NTRIPLES.media_type}, {F.TURTLE.media_type};q=0.9, {F.RDFXML.media_type};q=0.5"
ALL_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
PAGED_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT %d OFFSET %d"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SAMPLE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000"
SUBJECT_TRIPLES = "SELECT ?s ?p ?o WHERE { VALUES ?s { %s } ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 10000"  # Virtuoso sorts at most 10,000
FINGERPRINT_SUBJECTS = 50
PAGE = 10_000
# The triple count is shown on every service description and health check; a
# remote COUNT over a large store is not free, and a loaded store rarely changes.
COUNT_TTL = 60.0
MESSAGE_CHARS = 1000
VIRTUOSO = "virtuoso"


class _Deadline(io.RawIOBase):
    """A response body that refuses to be read past a deadline (the socket timeout bounds each read)."""

    def __init__(self, response: http.client.HTTPResponse, deadline: float | None) -> None:
        super().__init__()
        self._response = response
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TimeoutError("the answer took longer than the time limit to arrive")
        return self._response.readinto(buffer)


class RemoteStore:
    """A read-only dataset held by a remote SPARQL 1.1 endpoint."""

    def __init__(self, endpoint: str, base_iri: str, timeout: float = 10.0, graph: str = "") -> None:
        self.endpoint = endpoint
        self.base_iri = base_iri
        self.timeout = timeout
        self.graph = graph
        self._count: tuple[float, int] | None = None
        self._kind: str | None = None

    limit_name = "setting query_timeout"
    """What a time-out of the site's own queries names as the limit."""

    def limited(self, timeout: float, name: str = "") -> RemoteStore:
        """The same store with another time limit (the site's own long queries: indexing, rules), called ``name``."""
        other = RemoteStore(self.endpoint, self.base_iri, timeout, self.graph)
        other._kind = self._kind
        other.limit_name = name or self.limit_name
        return other

    @property
    def kind(self) -> str:
        """The store's kind from its ``Server`` header (``virtuoso``, else ``''``), asked once with an empty ASK."""
        if self._kind is None:
            request = urllib.request.Request(self.endpoint + "?query=ASK%7B%7D", headers={"Accept": F.SPARQL_JSON.media_type, "User-Agent": AGENT})
            try:
                with closing(open_url(request, min(self.timeout or 10.0, 10.0))) as response:
                    server = response.headers.get("Server", "")
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                return ""  # asked again with the next query; the query itself says what is wrong
            self._kind = VIRTUOSO if server.lower().startswith("virtuoso") else ""
        return self._kind

    def fingerprint(self, subjects: Sequence[str] | None = None) -> tuple[list[str], str]:
        """A cheap fingerprint of the store's state: the triples of a few subjects, sorted and hashed.

        The subjects (``subjects``, else up to :data:`FINGERPRINT_SUBJECTS` IRIs from the store's first rows, in
        its own order) are kept by whoever records the fingerprint and asked for again to compare: the first
        rows themselves differ between two starts of Virtuoso. Blank nodes count as blank (a reload of the same
        data is the same state). Any change to those subjects changes it; the triple count catches the rest."""
        import hashlib

        if subjects is None:
            found = (row["s"].value for row in self.select(SAMPLE) if isinstance(row.get("s"), ox.NamedNode))
            subjects = list(dict.fromkeys(found))[:FINGERPRINT_SUBJECTS]
        digest = hashlib.sha256()
        if subjects:
            values = " ".join(sparql_term(ox.NamedNode(iri)) for iri in subjects)
            rows = self.select(SUBJECT_TRIPLES % values)
            blank = lambda term: "_:" if isinstance(term, ox.BlankNode) else str(term)  # noqa: E731
            for line in sorted(f"{row.get('s')} {row.get('p')} {blank(row.get('o'))}" for row in rows):
                digest.update(line.encode() + b"\n")
        return list(subjects), digest.hexdigest()[:32]

    # -- the Store protocol (the site's own queries) ----------------------

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a SELECT; return its rows (unbound variables are absent from a row), all of them: an answer the
        store says it cut at its row cap (Virtuoso's ``ResultSetMaxRows``) is read again in parts (:mod:`.capped`)."""
        text = bind(query, bindings)
        rows, cut, names = self._select(text)
        if cut is None:
            return rows

        def part(query: str) -> tuple[list[Row], bool]:
            got, cap, _ = self._select(query)
            return got, cap is not None

        return list(read_in_parts(part, text, cut, names))

    def _select(self, text: str) -> tuple[list[Row], int | None, list[str]]:
        """A SELECT's rows, the row cap that cut them (``None``: whole), and its variables.

        The time limit bounds the whole answer, not only each read: a store that streams a long answer
        slowly (the Oxigraph server, a rule's answer at 10^6 films) is left at the limit, not at its own."""
        deadline = time.monotonic() + self.timeout if self.timeout and self.timeout > 0 else None
        with self._errors(client=False), self._results(text, "SELECT", deadline=deadline) as result:
            names = [v.value for v in result.variables]  # type: ignore[union-attr]
            rows = [{n: sol[n] for n in names} for sol in result]  # type: ignore[union-attr]
            cap = getattr(result, "cap", None)
        return [{n: v for n, v in row.items() if v is not None} for row in rows], cap, names

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        """Run an ASK."""
        text = bind(query, bindings)
        with self._errors(client=False), self._results(text, "ASK") as result:
            return bool(result)

    def construct(self, query: str, bindings: Bindings | None = None) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE; return its triples."""
        text = bind(query, bindings)
        form = shape(text).form
        with self._errors(client=False), self._graph(text, form) as triples:
            return list(triples)

    def triples(self) -> Iterator[ox.Triple]:
        """Stream every triple of the default graph: one streamed CONSTRUCT, pages if the store refuses it."""
        with self._errors(client=False):
            try:
                response = self._send(ALL_TRIPLES, "CONSTRUCT", GRAPH_ACCEPT)
            except (SPARQLWrapperException, urllib.error.HTTPError):
                response = None  # reachable, but it will not stream everything at once
        if response is None:
            yield from self.triples_paged()
            return
        with closing(response):
            with self._errors(client=False):
                yield from _parse_graph(response, None, self.kind == VIRTUOSO)

    def triples_paged(self, page: int = PAGE) -> Iterator[ox.Triple]:
        """Stream the default graph in ordered LIMIT/OFFSET pages (for stores that will not stream it whole)."""
        # Blank node labels are scoped to one response; stores that answer with their own
        # labels (Oxigraph, Fuseki, Virtuoso) give a node the same label on every page.
        for offset in itertools.count(0, page):
            with self._errors(client=False), self._graph(PAGED_TRIPLES % (page, offset), "CONSTRUCT") as got:
                batch = list(got)
            yield from batch
            if len(batch) < page:
                return

    def __len__(self) -> int:
        """Number of triples in the default graph (a remote COUNT, kept for COUNT_TTL seconds)."""
        now = time.monotonic()
        if self._count is None or now - self._count[0] > COUNT_TTL:
            rows = self.select(COUNT)
            value = rows[0]["n"].value if rows and "n" in rows[0] else "0"
            self._count = (now, int(value))
        return self._count[1]

    def close(self) -> None:
        """Nothing is held between requests (each query opens its own connection)."""
        self._count = None

    # -- client queries, under the endpoint's limits ----------------------

    def run_job(self, job: Job, timeout: float) -> Rendered:
        """Run a client's query on the remote store within the time limit and row cap, in the job's format."""
        fmt = FORMATS_BY_NAME[job.format_name]
        form = shape(job.query).form
        deadline = time.monotonic() + timeout if timeout > 0 else None
        graphs = (job.default_graphs, job.named_graphs)
        with self._errors(client=True, timeout=timeout):
            if form in ("SELECT", "ASK"):
                if fmt not in F.RESULTS:
                    fmt = F.SPARQL_JSON
                with self._results(job.query, form, graphs, timeout, deadline) as result:
                    if isinstance(result, ox.QueryBoolean):
                        return Rendered(write_ask(bool(result), fmt), fmt, False, 1)
                    variables = [v.value for v in result.variables]
                    rows, truncated = rows_capped(result, len(variables), job.max_rows, job.max_bytes)
                    store_cap = getattr(result, "cap", None)
                if store_cap is not None and not truncated:  # the store cut the answer first, and said so: not whole
                    return render_rows(variables, rows, fmt, True, len(rows), job.max_bytes, cut_by="store")
                return render_rows(variables, rows, fmt, truncated, job.max_rows, job.max_bytes)
            if fmt not in F.GRAPHS:
                fmt = F.TURTLE
            with self._graph(job.query, form, graphs, timeout, deadline) as triples:
                got, truncated = triples_capped(triples, job.max_rows, job.max_bytes)
            return render_graph(got, fmt, job.base_iri, truncated, job.max_rows, job.max_bytes)

    # -- HTTP ---------------------------------------------------------------

    def _send(
        self,
        query: str,
        form: str,
        accept: str,
        graphs: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> http.client.HTTPResponse:
        """POST one query; return the open response (the caller reads and closes it)."""
        wrapper = SPARQLWrapper(self.endpoint, agent=AGENT)
        wrapper.setMethod(POST)
        wrapper.setOnlyConneg(True)  # no format=/output= parameters: the Accept header says it
        own_dataset = bool(graphs[0] or graphs[1]) or shape(query).has_from
        if form == "DESCRIBE" and self.kind == VIRTUOSO:
            # Virtuoso describes a resource with the triples that point at it too; the others (and filmgraph's
            # embedded store) give its concise bounded description, which Virtuoso gives when asked so.
            query = f'define sql:describe-mode "CBD"\n{query}'
        # Set directly: setQuery() sniffs the form with a regex and warns on what it cannot classify;
        # filmgraph has already read the form with its own lexer.
        wrapper.queryString = query
        wrapper.queryType = form
        wrapper.setReturnFormat(JSON if form in ("SELECT", "ASK") else TURTLE)
        wrapper.addCustomHttpHeader("Accept", accept)
        for graph in graphs[0]:
            wrapper.addParameter("default-graph-uri", graph)
        for graph in graphs[1]:
            wrapper.addParameter("named-graph-uri", graph)
        if self.graph and not own_dataset:
            wrapper.addParameter("default-graph-uri", self.graph)
        limit = self.timeout if timeout is None else timeout
        if limit and limit > 0:
            wrapper.timeout = limit  # type: ignore[assignment]  # setTimeout() truncates to whole seconds
            if self.kind == VIRTUOSO:  # the store stops the query itself (SPARQL has no cancel)
                wrapper.addParameter("timeout", str(max(1, round(limit * 1000))))
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("time limit reached before the query was sent")
        response = send(wrapper)
        if response.headers.get("X-SQL-State", "") in PARTIAL_STATES:
            response.close()
            raise TimeoutError(f"the store cut its answer at its time limit: {response.headers.get('X-SQL-Message', '')[:200]}")
        return response

    @contextmanager
    def _results(
        self,
        query: str,
        form: str,
        graphs: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> Iterator[ox.QuerySolutions | ox.QueryBoolean]:
        virtuoso = self.kind == VIRTUOSO
        response = self._send(query, form, VIRTUOSO_RESULTS_ACCEPT if virtuoso else RESULTS_ACCEPT, graphs, timeout, deadline)
        with closing(response):
            media = response.headers.get("Content-Type", "")
            fmt = ox.QueryResultsFormat.from_media_type(media.split(";")[0].strip()) if media else None
            if fmt is None:
                raise Unavailable(f"the remote store answered a {form} with {media or 'no media type'}, not SPARQL results")
            body: io.RawIOBase = _Deadline(response, deadline)
            if virtuoso and fmt == ox.QueryResultsFormat.XML:
                body = BlankIds(body)
            result = ox.parse_query_results(body, fmt)
            yield Solutions(result, row_cap(response.headers.get(ROW_CAP_HEADER))) if virtuoso and isinstance(result, ox.QuerySolutions) else result  # type: ignore[misc]

    @contextmanager
    def _graph(
        self,
        query: str,
        form: str,
        graphs: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> Iterator[Iterator[ox.Triple]]:
        virtuoso = self.kind == VIRTUOSO
        response = self._send(query, form, GRAPH_ACCEPT, graphs, timeout, deadline)
        with closing(response):
            yield _parse_graph(response, deadline, virtuoso)

    @contextmanager
    def _errors(self, client: bool, timeout: float | None = None) -> Iterator[None]:
        """Turn what SPARQLWrapper, urllib and the parsers raise into filmgraph's typed errors."""
        limit = self.timeout if timeout is None else timeout
        named = "setting query_timeout" if client else self.limit_name
        where = f"the remote store at {self.endpoint} (setting store_url)"
        try:
            yield
        except FilmgraphError:
            raise
        except QueryBadFormed as exc:
            message = remote_message(exc)
            if client:
                raise BadQuery(f"query does not parse (remote store): {message}", parser=message) from None
            raise FilmgraphError(f"{where} refused one of filmgraph's own queries as malformed: {message}") from None
        except SPARQLWrapperException as exc:  # 401, 404, 414, 500
            message = remote_message(exc)
            if any(state in message for state in TIMEOUT_STATES):  # Virtuoso stopped it at the limit it was given
                raise QueryTimeout(
                    f"query stopped at the time limit of {limit:g} s ({named}) by the remote store: {message[:200]}",
                    limit="query_timeout", seconds=limit,
                ) from None
            raise Unavailable(f"{where} failed: {message}") from None
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                exc.close()
                raise Unavailable(
                    f"{where} answered a redirect ({exc.code}) to {exc.headers.get('Location', '(no Location)')}; "
                    "filmgraph follows no redirect from the store: set store_url to the address the store answers at"
                ) from None
            body = exc.read()[:MESSAGE_CHARS].decode("utf-8", "replace").strip()
            if any(state in body for state in TIMEOUT_STATES):  # Virtuoso stopped it at the limit it was given
                raise QueryTimeout(
                    f"query stopped at the time limit of {limit:g} s ({named}) by the remote store: {body[:200]}",
                    limit="query_timeout", seconds=limit,
                ) from None
            if exc.code == 500 and body.startswith(COMPILE_ERROR):
                # Virtuoso cannot compile a query it read (SQ074, SQ156: a 500, not a 400): the store's limit, not an outage
                head = body.split("\n\nSPARQL query:", 1)[0]
                if client:
                    raise BadQuery(f"the remote store cannot run this query: {head}", parser=head) from None
                raise FilmgraphError(f"{where} cannot run one of filmgraph's own queries: {head}") from None
            raise Unavailable(f"{where} answered HTTP {exc.code} {exc.reason}: {body}") from None
        except urllib.error.URLError as exc:
            raise Unavailable(f"{where} is unreachable: {exc.reason}") from None
        except TimeoutError:
            raise QueryTimeout(
                f"query stopped at the time limit of {limit:g} s ({named}); "
                "filmgraph stopped waiting for the remote store",
                limit="query_timeout",
                seconds=limit,
            ) from None
        except SyntaxError as exc:
            raise Unavailable(f"{where} sent an answer that does not parse: {exc}") from None
        except (http.client.HTTPException, OSError) as exc:
            raise Unavailable(f"{where} broke off the answer: {exc}") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turns every redirect into an HTTPError: a POSTed query would go on as a bare GET, possibly to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def open_url(request: urllib.request.Request, timeout: float | None = None) -> http.client.HTTPResponse:
    """Open a request to the store without following redirects (urllib's default follows them anywhere)."""
    opener = urllib.request.build_opener(_NoRedirect())
    return opener.open(request, timeout=timeout) if timeout else opener.open(request)  # type: ignore[no-any-return]


def send(wrapper: SPARQLWrapper) -> http.client.HTTPResponse:
    """Send a SPARQLWrapper request as ``wrapper.query()`` would, but follow no redirect; 400 is QueryBadFormed."""
    try:
        return open_url(wrapper._createRequest(), wrapper.timeout)  # type: ignore[arg-type]
    except urllib.error.HTTPError as exc:
        if exc.code == 400:
            raise QueryBadFormed(exc.read()) from None
        raise


def _parse_graph(response: http.client.HTTPResponse, deadline: float | None, virtuoso: bool = False) -> Iterator[ox.Triple]:
    media = response.headers.get("Content-Type", "")
    fmt = ox.RdfFormat.from_media_type(media.split(";")[0].strip()) if media else None
    if fmt is None:
        raise Unavailable(f"the remote store answered a graph query with {media or 'no media type'}, not RDF")
    for quad in ox.parse(_Deadline(response, deadline), fmt, base_iri=response.geturl()):
        obj = from_virtuoso(quad.object) if virtuoso else quad.object
        yield ox.Triple(quad.subject, quad.predicate, obj)  # type: ignore[arg-type]


def remote_message(exc: SPARQLWrapperException) -> str:
    """The remote's own error text out of a SPARQLWrapper error (which keeps it only as a bytes literal in its message)."""
    text = str(exc)
    head, sep, body = text.partition("\n\nResponse:\n")
    if not sep:
        return text
    try:
        raw = ast.literal_eval(body)
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    except (ValueError, SyntaxError):
        message = body
    return message.strip()[:MESSAGE_CHARS] or head
