"""The web application: ``create_app(settings)`` builds it; nothing happens at import time."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from ..services import Services
from ..settings import Settings


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
    return app


def _register_optional(app: Flask) -> None:
    # Areas built as separate blueprints register themselves here when present.
    import importlib

    for name in ("pages", "dumps", "ontology", "dataset", "reconcile"):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.init_app(app)


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["filmgraph"]  # type: ignore[no-any-return]


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


PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Content-Security-Policy of every response: only the site's own scripts (no inline ones: the query UI
needs none), connections and images; inline styles allowed (YASGUI writes style attributes); framed by no one."""
FRAMEABLE_POLICY = PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
REFERRER_POLICY = "strict-origin-when-cross-origin"


def frameable(resp: Response) -> Response:
    """Let any site show this response in a frame (the reconciliation preview: OpenRefine shows it in an iframe)."""
    resp.headers["Content-Security-Policy"] = FRAMEABLE_POLICY
    resp.headers.pop("X-Frame-Options", None)
    return resp


def _common_headers(resp: Response) -> Response:
    origins = services().settings.cors_origins
    if origins:
        resp.headers.setdefault("Access-Control-Allow-Origin", origins)
        resp.headers.setdefault("Access-Control-Expose-Headers", "Content-Type, Content-Length, ETag, Link, Location, Vary, X-Result-Truncated")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if "Content-Security-Policy" not in resp.headers:
        resp.headers["Content-Security-Policy"] = PAGE_POLICY
        resp.headers.setdefault("X-Frame-Options", "DENY")
    return resp
