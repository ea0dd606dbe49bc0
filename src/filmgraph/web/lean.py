"""``/sparql`` without Flask: the common query requests answered by the event loop, the rest left to the app.

Profiled, an uncached ASK spent most of its 0.7 ms outside the engine: the hop
from the event loop to a thread, Flask's request, hooks and response objects,
and a thread blocked on the query worker's pipe. A GET with ``query=``, or a
POST of a form with ``query=`` or of an ``application/sparql-query`` body, is
answered here instead, from the asynchronous front (:mod:`filmgraph.web.asgi`):
the same reading of the request as the view's, the same services (the query's
scan and limits, negotiation, the result cache, the fair queue, the query
workers, awaited on their pipe by the event loop) and the same headers
(:func:`filmgraph.web.sparql.answer_headers`, :func:`filmgraph.web.common_headers`).

Anything else goes to the app, untouched: another method, a conditional
request, a dataset or update parameter, a body or query string that is not
clean UTF-8, a query the service refuses before it runs (the app then says
why, as it always has), the first query of a process (the app starts the query
workers). An error raised once the query went to the fair queue (a budget
spent, a full queue, a time limit, a query the engine refuses) is not run
again: it is handed to the app (:data:`filmgraph.web.sparql.FAILED`),
whose one error mapper answers it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_options_header
from werkzeug.sansio.utils import get_current_url, get_host

from .. import formats as F
from ..core.errors import FilmgraphError
from ..site.services import Services
from ..sparql.execute import Job
from ..sparql.query import Prepared
from .asgi import Answer, Scope
from .headers import common_headers
from .intake import check_utf8
from .sparql import DATASET_PARAMS, FAILED, FORMAT_PARAMS, UPDATE_PARAMS, answer_headers

PATH = "/sparql"
MAX_FIELDS = 1000
"""Form fields werkzeug reads at most (``max_form_parts``): a form with more is the app's to refuse."""
_SKIP = frozenset((*UPDATE_PARAMS, *DATASET_PARAMS))
_WANTED = {b"accept", b"content-type", b"host", b"if-none-match", b"x-forwarded-for", b"forwarded"}


class LeanSparql:
    """The lean path of ``/sparql``: an :class:`Answer`, or environ entries for the app, or None (the app's)."""

    def __init__(self, services: Services) -> None:
        self.svc = services
        self.common = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in common_headers(services.settings)]
        self._bases: dict[tuple[str, str, str, int], str] = {}

    async def __call__(self, scope: Scope, body: bytes) -> Answer | dict[str, Any] | None:
        if scope["path"] != PATH or scope["method"] not in ("GET", "POST") or scope.get("root_path"):
            return None
        try:
            ready = self._prepare(scope, body)
        except Exception:  # noqa: BLE001 - refused before it runs, or something unforeseen: the app reads it again and says why
            return None
        if ready is None:
            return None
        prepared, job, tag, client = ready
        svc = self.svc.query
        try:
            rendered = await svc.run_job_async(job, client)
        except Exception as exc:  # noqa: BLE001 - the app's one error mapper answers it (a fault of ours: 500)
            return {FAILED: exc}
        if rendered is None:
            return None  # no query workers running in this process yet: the app starts them
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer_headers(self.svc.settings, rendered, prepared.shape.volatile, tag)]
        headers.append((b"content-length", str(len(rendered.body)).encode()))
        return Answer(200, headers + self.common, rendered.body, fixed=svc.fixed_answer(job))

    def _prepare(self, scope: Scope, body: bytes) -> tuple[Prepared, Job, str | None, str] | None:
        """The checked query, its job, its ETag (GET) and its client, as the view makes them; None: the app's."""
        found: dict[bytes, list[str]] = {}
        for name, value in scope["headers"]:
            name = name.lower()
            if name in _WANTED:
                found.setdefault(name, []).append(value.decode("latin-1"))
        if b"if-none-match" in found:
            return None  # the client may hold the answer: the app says 304
        request = self._read(scope, body, found)
        base = self._base(scope, found)
        if request is None or base is None:
            return None
        query, overrides, method = request
        svc = self.svc.query
        accept = ",".join(found[b"accept"]) if b"accept" in found else None
        prepared = svc.prepare(query, accept, overrides, base=base)
        job = svc.job(prepared, base=base)
        tag = svc.etag(job) if method == "GET" else None
        peer = (scope.get("client") or ("", 0))[0]
        client = svc.admission.client(str(peer), found.get(b"x-forwarded-for", ()), found.get(b"forwarded", ()))
        return prepared, job, tag, client

    def _read(self, scope: Scope, body: bytes, found: dict[bytes, list[str]]) -> tuple[str, list[str], str] | None:
        """The query and format overrides of a request the view would read the same way, or None."""
        raw = scope.get("query_string", b"")
        args = _pairs(raw, "query string")
        if args is None:
            return None
        method = scope["method"]
        if method == "GET":
            if body:
                return None  # the app checks a body whatever the method
            params = args
            queries = [v for k, v in args if k == "query"]
            limit = self.svc.settings.max_query_length
            if len(raw) > 3 * limit:
                return None  # the app's 414
        else:
            if len(found.get(b"content-type", ())) != 1:
                return None
            mimetype, options = parse_options_header(found[b"content-type"][0])
            mimetype = mimetype.lower()
            if mimetype == F.FORM:
                if body.count(b"&") >= MAX_FIELDS - 1:
                    return None
                form = _pairs(body, "form body")
                if form is None:
                    return None
                params = args + form
                queries = [v for k, v in form if k == "query"]
            elif mimetype == F.SPARQL_QUERY and options.get("charset", "utf-8").lower() in ("utf-8", "utf8"):
                try:
                    queries = [body.decode("utf-8")]
                except UnicodeDecodeError:
                    return None
                params = args
            else:
                return None
        if len(queries) != 1 or any(k in _SKIP for k, _ in params):
            return None
        overrides = [v for name in FORMAT_PARAMS for k, v in params if k == name]
        return queries[0], overrides, method

    def _base(self, scope: Scope, found: dict[bytes, list[str]]) -> str | None:
        """The endpoint's URL as the request names it (werkzeug's ``request.base_url``): relative IRIs resolve against it."""
        scheme = scope.get("scheme", "http")
        server = scope.get("server") or ("localhost", 80)
        host_header = ",".join(found[b"host"]) if b"host" in found else None
        key = (scheme, host_header or "", str(server[0]), int(server[1] or 0))
        base = self._bases.get(key)
        if base is None:
            host = get_host(scheme, host_header, (str(server[0]), int(server[1]) if server[1] else None))
            if not host:
                return None
            base = get_current_url(scheme, host, "", PATH)
            if len(self._bases) >= 64:  # client-chosen Host headers: a few remembered
                self._bases.clear()
            self._bases[key] = base
        return base


def _pairs(encoded: bytes, what: str) -> list[tuple[str, str]] | None:
    """Name-value pairs of a query string or form body, as werkzeug reads them; None unless clean UTF-8."""
    if not encoded:
        return []
    try:
        check_utf8(encoded, what)
        return parse_qsl(encoded.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (FilmgraphError, UnicodeDecodeError):
        return None
