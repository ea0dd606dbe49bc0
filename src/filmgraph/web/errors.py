"""The one place that turns any error into a response."""

from __future__ import annotations

import logging
import math

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import formats as F
from ..core.errors import FilmgraphError, MethodNotAllowed, NotAcceptable, PayloadTooLarge
from ..formats.negotiate import choose
from .current import services
from .intake import body_too_large

log = logging.getLogger("filmgraph")

_ERROR_FORMATS = (F.JSON, F.HTML)


def _plain(status: int, title: str, message: str) -> Response:
    return Response(f"{status} {title}\n\n{message}\n", status=status, content_type="text/plain; charset=utf-8")


def render_error(err: FilmgraphError) -> Response:
    """Render a typed error as HTML for browsers, JSON for JSON clients, plain text otherwise."""
    accept = request.headers.get("Accept", "")
    try:
        # A bare */* (curl) gets plain text; a browser's Accept names text/html beside */*.
        fmt = choose(accept, _ERROR_FORMATS) if accept and ("*/*" not in accept or "text/html" in accept) else None
    except NotAcceptable:
        fmt = None
    if fmt is F.HTML:
        try:
            resp = Response(
                render_template("error.html", error=err, status=err.status, title=err.title),
                status=err.status,
                content_type=F.HTML.content_type,
            )
        except Exception:  # no template (yet): never let the error page itself fail
            resp = _plain(err.status, err.title, err.message)
    elif fmt is F.JSON:
        resp = jsonify(err.to_dict())
        resp.status_code = err.status
    else:
        resp = _plain(err.status, err.title, err.message)
    if isinstance(err, MethodNotAllowed):
        resp.headers["Allow"] = ", ".join(err.allowed)
    wait = err.context.get("retry_after")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 <= wait < 10**9:
        resp.headers["Retry-After"] = str(math.ceil(wait))  # an error that knows when to come back says so (429, 503)
    resp.headers["Vary"] = "Accept"
    return resp


def init_app(app: Flask) -> None:
    """Register the error mapper on the app."""

    @app.errorhandler(FilmgraphError)
    def _typed(err: FilmgraphError) -> Response:
        if err.status == 500:
            log.error("server fault: %s", err.message)
        elif err.status == 502:  # another server's fault, worth a line for the operator
            log.warning("upstream fault: %s", err.message)
        return render_error(err)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(err: RequestEntityTooLarge) -> Response:
        limit = services().settings.max_body
        length = request.content_length
        if length is not None and length <= limit and request.mimetype in (F.FORM, "multipart/form-data"):
            # werkzeug says the same when a form has more fields than it reads: say which limit it was.
            parts = request.max_form_parts
            return render_error(PayloadTooLarge(f"the form has more than {parts} fields, the most a request may carry", limit="fields", fields=parts))
        return render_error(body_too_large(limit))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        typed = FilmgraphError(err.description or err.name)
        typed.status = status
        typed.title = err.name
        resp = render_error(typed)
        # What the exception says in headers stays said (Allow of a 405, Content-Range of a 416).
        for name, value in err.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                resp.headers[name] = value
        if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            resp.headers["Allow"] = ", ".join(err.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unexpected error")
        return render_error(FilmgraphError("internal server error; the fault is ours and has been logged"))

    @app.after_request
    def _retry_after(resp: Response) -> Response:
        # Every 503 (a time limit, a backend away, a store not ready) says when to come back.
        if resp.status_code == 503 and "Retry-After" not in resp.headers:
            resp.headers["Retry-After"] = str(retry_after())
        return resp


def retry_after() -> int:
    """Seconds a client should wait after a 503: one query time limit, by when a worker is free again."""
    return max(1, math.ceil(services().settings.query_timeout))
