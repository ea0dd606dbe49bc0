"""``/healthz``: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..core.errors import FilmgraphError
from .current import services

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    """Live when this answers; ready when the store answers a query."""
    svc = services()
    try:
        ready = svc.store.ask("ASK { ?s ?p ?o }")
        detail = "store answers"
    except FilmgraphError as exc:
        ready, detail = False, exc.message
    resp = jsonify({"live": True, "ready": ready, "detail": detail, "triples": svc.triples if ready else None})
    resp.status_code = 200 if ready else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp
