"""``/sparql``: the SPARQL 1.1 Protocol (query operation only), service description and query UI."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.http import quote_etag

from .. import formats as F
from ..core.errors import BadRequest, MethodNotAllowed, NotAcceptable, UnsupportedMediaType, UriTooLong
from ..core.settings import Settings
from ..formats.negotiate import choose
from ..sparql.query import refuse_update
from ..sparql.results import Rendered
from ..sparql.service_description import describe_service
from ..store import DatasetSpec
from . import query_ui
from .current import services
from .intake import body_too_large

bp = Blueprint("sparql", __name__)
FRONT = "filmgraph.front_cache"
"""Set in the environ by the asynchronous front (web/asgi.py) when it can keep whole answers."""

FAILED = "filmgraph.failed"
"""Set in the environ by the lean path (web/lean.py) to the error a query raised as it ran: the view raises it, so
that the one error mapper answers (the query is not run again)."""

FORMAT_PARAMS = ("format", "output", "results")
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
ALLOWED = ["GET", "HEAD", "POST", "OPTIONS"]


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"])
def endpoint() -> Response:
    """Answer a query, or describe the service, or show the query UI."""
    if request.method not in ALLOWED:
        raise MethodNotAllowed(f"{request.method} is not allowed on the SPARQL endpoint; use GET or POST", allowed=ALLOWED)
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": ", ".join(ALLOWED)})
    failed = request.environ.get(FAILED)
    if failed is not None:
        raise failed
    query, dataset = _read_request()
    if query is None:
        return _describe_or_ui()
    svc = services()
    overrides = [v for name in FORMAT_PARAMS for v in request.values.getlist(name)]
    prepared = svc.query.prepare(query, request.headers.get("Accept"), overrides, base=request.base_url)
    job = svc.query.job(prepared, dataset, request.base_url)
    tag = svc.query.etag(job) if request.method in ("GET", "HEAD") else None
    if tag is not None and request.if_none_match.contains_weak(tag):
        # The client holds this answer: the query is not run.
        return Response(status=304, headers=caching_headers(prepared.shape.volatile, tag))
    client = svc.query.admission.client(request.remote_addr, request.headers.getlist("X-Forwarded-For"), request.headers.getlist("Forwarded"))
    rendered = svc.query.run_job(job, client)
    resp = Response(rendered.body, headers=answer_headers(svc.settings, rendered, prepared.shape.volatile, tag))
    if request.environ.get(FRONT) and svc.query.fixed_answer(job):
        # The same bytes for every identical request (method, target, Host, Accept, Content-Type, body):
        # the asynchronous front may answer the next one itself (web/asgi.py), as the result cache would.
        resp.headers["X-Filmgraph-Front"] = "cache"
    return resp


def answer_headers(settings: Settings, rendered: Rendered, volatile: bool, tag: str | None) -> list[tuple[str, str]]:
    """The headers of a query's answer (the view's and the lean path's): its type, a truncation, and caching."""
    headers = [("Content-Type", rendered.format.content_type)]
    if rendered.truncated and rendered.cut_by == "max_result_bytes":
        headers.append(("X-Result-Truncated", f"true; max_result_bytes={settings.max_result_bytes}"))
    elif rendered.truncated and rendered.cut_by == "store":
        headers.append(("X-Result-Truncated", f"true; limit={rendered.count}; by=store"))
    elif rendered.truncated:
        headers.append(("X-Result-Truncated", f"true; limit={settings.max_rows}"))
    return headers + caching_headers(volatile, tag)


def caching_headers(volatile: bool, tag: str | None) -> list[tuple[str, str]]:
    """Validator, Vary and Cache-Control of a query's answer: stored but revalidated (ETag) before each use; an
    answer that changes on every evaluation, not stored."""
    headers = [("ETag", quote_etag(tag))] if tag is not None else []
    return headers + [("Vary", "Accept"), ("Cache-Control", "no-store" if volatile else "no-cache")]


def _read_request() -> tuple[str | None, DatasetSpec]:
    """Take the query and the protocol dataset out of a GET or POST, as the protocol says."""
    limit = services().settings.max_query_length
    if request.method in ("GET", "HEAD"):
        if any(p in request.args for p in UPDATE_PARAMS):
            raise refuse_update("update by GET")
        queries = request.args.getlist("query")
        if len(request.query_string) > 3 * limit or any(len(q) > limit for q in queries):
            raise UriTooLong(f"request URI is over the limit ({limit} characters of query, setting max_query_length)", limit="max_query_length")
        params = request.args
    else:
        mimetype = request.mimetype
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if mimetype == F.FORM:
            if any(p in request.form for p in UPDATE_PARAMS):
                raise refuse_update("update by POST form")
            queries = request.form.getlist("query")
            params = request.values  # URL and body both may carry the dataset
        elif mimetype == F.SPARQL_QUERY:
            if charset not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(f"a direct POST query must be UTF-8; got charset={charset}")
            try:
                queries = [request.get_data(cache=False).decode("utf-8")]
            except UnicodeDecodeError as exc:
                raise BadRequest(f"the query body is not valid UTF-8 (byte {exc.start})") from None
            params = request.args
        elif mimetype == F.SPARQL_UPDATE:
            raise refuse_update("update by direct POST")
        elif not mimetype:
            raise UnsupportedMediaType(
                f"POST needs a Content-Type: {F.FORM} (with query=) or {F.SPARQL_QUERY} (the query as body)"
            )
        else:
            raise UnsupportedMediaType(f"POST body of type {mimetype} is not a query; send {F.FORM} or {F.SPARQL_QUERY}")
        if request.content_length and request.content_length > services().settings.max_body:
            raise body_too_large(services().settings.max_body)
    if len(queries) > 1:
        raise BadRequest(f"exactly one query is allowed per request; got {len(queries)}")
    if not queries:
        if request.method == "POST":
            raise BadRequest("no query: send query= (form) or the query as an application/sparql-query body")
        return None, DatasetSpec()
    dataset = DatasetSpec(tuple(params.getlist("default-graph-uri")), tuple(params.getlist("named-graph-uri")))
    return queries[0], dataset


def _describe_or_ui() -> Response:
    """A plain GET: the query UI for browsers, the service description for everyone else."""
    offered = (*F.GRAPHS, F.HTML)
    accept = request.headers.get("Accept")
    try:
        fmt = choose(accept, offered, request.args.getlist("format"))
    except NotAcceptable:
        raise
    if fmt is F.HTML and accept and "text/html" in accept:
        resp = Response(render_template("sparql.html", **query_ui.context()), content_type=F.HTML.content_type)
    else:
        if fmt is F.HTML:
            fmt = F.TURTLE
        resp = Response(service_description(fmt), content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    return resp


def service_description(fmt: F.Format) -> bytes:
    """The service description serialized in an RDF format."""
    svc = services()
    public = svc.settings.public_url
    endpoint = (public.rstrip("/") + "/sparql") if public else url_for("sparql.endpoint", _external=True)
    dataset_page = (public.rstrip("/") + "/dataset") if public else request.host_url.rstrip("/") + "/dataset"
    triples = describe_service(endpoint, dataset_page, svc.store.base_iri, svc.triples)
    return F.serialize_graph(triples, fmt, svc.store.base_iri)
