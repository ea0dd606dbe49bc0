"""Running one client query against a pyoxigraph store and rendering it (no limits here).

This is what a query worker process does for each job; it is a plain function
so that it runs the same in a worker and in process.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .. import formats as F
from ..core.errors import BadGateway, BadQuery, BadRequest, FilmgraphError
from .results import Rendered, render_graph, render_rows, rows_capped, triples_capped, whole_json, whole_ntriples, write_ask

FORMATS_BY_NAME = {f.name: f for f in (*F.RESULTS, *F.GRAPHS)}


@dataclass(frozen=True)
class Job:
    """One query to run: text, dataset of the request, response format, row cap."""

    query: str
    format_name: str
    max_rows: int
    base_iri: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    query_base: str | None = None
    services: tuple[str, ...] = ()
    """The allow-listed SERVICE endpoints the query calls: their failures are the remote's (502), and their answers are not cached."""
    max_bytes: int = 0
    """Largest answer, bytes (0: no limit): a longer one is cut at a row and says so."""


def run_job(store: ox.Store, job: Job) -> Rendered:
    """Evaluate a job's query and serialize the result in its format, capped at max_rows."""
    fmt = FORMATS_BY_NAME[job.format_name]
    # Relative IRIs in a query resolve against the endpoint's URL (SPARQL 1.1 Protocol: a service-defined BASE).
    kwargs: dict[str, object] = {"base_iri": job.query_base} if job.query_base else {}
    try:
        if job.default_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        if job.named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
            if not job.default_graphs:
                # A request naming only named graphs has an empty default graph (SPARQL 1.1 Protocol 2.1.4).
                kwargs["default_graph"] = []
    except ValueError as exc:
        raise BadRequest(f"default-graph-uri and named-graph-uri must be absolute IRIs: {exc}") from None
    try:
        result = store.query(job.query, **kwargs)  # type: ignore[arg-type]
        # The engine's own writer where its bytes are filmgraph's; an answer over a limit is evaluated again and cut.
        if fmt is F.SPARQL_JSON and isinstance(result, ox.QuerySolutions):
            whole = whole_json(result, job.max_rows, job.max_bytes)
        elif fmt is F.NTRIPLES and isinstance(result, ox.QueryTriples):
            whole = whole_ntriples(result, job.max_rows, job.max_bytes)
        else:
            return _render(result, fmt, job)
        if whole is not None:
            return whole
        result = store.query(job.query, **kwargs)  # type: ignore[arg-type]
        return _render(result, fmt, job)
    except SyntaxError as exc:
        raise BadQuery(f"query does not parse: {exc}", parser=str(exc)) from None
    except (ValueError, TypeError, RuntimeError) as exc:
        # pyoxigraph raises RuntimeError for evaluation errors of the query itself (an unbound SERVICE variable, ...)
        raise BadQuery(f"query cannot be evaluated on this dataset: {exc}") from None
    except OSError as exc:
        if job.services:  # pyoxigraph reports a failed SERVICE call (refused, HTTP error, bad answer) as OSError
            raise BadGateway(f"SERVICE {', '.join(job.services)} failed: {exc}", services=list(job.services)) from None
        raise FilmgraphError(f"store error while evaluating the query: {exc}") from None


def _render(result: object, fmt: F.Format, job: Job) -> Rendered:
    if isinstance(result, ox.QueryBoolean):
        if fmt in F.GRAPHS:
            fmt = F.SPARQL_JSON
        return Rendered(write_ask(bool(result), fmt), fmt, False, 1)
    if isinstance(result, ox.QuerySolutions):
        if fmt in F.GRAPHS:
            fmt = F.SPARQL_JSON
        variables = [v.value for v in result.variables]
        rows, truncated = rows_capped(result, len(variables), job.max_rows, job.max_bytes)
        return render_rows(variables, rows, fmt, truncated, job.max_rows, job.max_bytes)
    if fmt in F.RESULTS:
        fmt = F.TURTLE
    triples, truncated = triples_capped(iter(result), job.max_rows, job.max_bytes)  # type: ignore[call-overload]
    return render_graph(triples, fmt, job.base_iri, truncated, job.max_rows, job.max_bytes)
