"""The web application: ``create_app(settings)`` builds it; nothing happens at import time.

The only wing that imports Flask: one blueprint per area (``sparql``, ``pages``, ``dataset``, ``dumps``,
``ontology``, ``reconcile``, ``wikidata``, ``health``), one error mapper (``errors``), the request intake
(``intake``), the current app's services (``current``), the security headers (``headers``), and ``server``,
which runs the app under Granian (``asgi``) or gunicorn (``filmgraph serve``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

from ..site.services import Services
from ..core.settings import Settings
from .current import services
from .headers import FRAMING, common_headers


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the Flask app over the dataset the settings describe."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["filmgraph"] = services or Services.build(settings)

    from . import errors, health, intake, sparql

    errors.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(health.bp)
    _register_optional(app)
    app.before_request(_preflight)
    intake.init_app(app)
    app.after_request(_common_headers)
    app.wsgi_app = _AtRoot(app.wsgi_app)  # type: ignore[method-assign]
    return app


class _AtRoot:
    """WSGI middleware: the site is served at the root, whatever ``SCRIPT_NAME`` the server passes on. gunicorn takes
    one from a request header (and from its environment); a client must not choose the links of a page, nor make a
    cached copy of a page per prefix. (Mounting under a prefix would need a setting, and page templates whose own
    links follow ``request.script_root``: today they are written from the root.)"""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        environ["SCRIPT_NAME"] = ""
        return self.app(environ, start_response)


def _register_optional(app: Flask) -> None:
    # Areas built as separate blueprints register themselves here when present.
    import importlib

    for name in ("pages", "dumps", "ontology", "dataset", "reconcile", "wikidata"):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.init_app(app)


def _preflight() -> Response | None:
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        resp = Response(status=204)
        resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Content-Type, Accept"
        )[:500]
        resp.headers["Access-Control-Max-Age"] = "86400"
        return resp
    return None


def _common_headers(resp: Response) -> Response:
    framed = "Content-Security-Policy" in resp.headers  # a response with its own policy decides its framing
    for name, value in common_headers(services().settings):
        if not (framed and name in FRAMING):
            resp.headers.setdefault(name, value)
    return resp
