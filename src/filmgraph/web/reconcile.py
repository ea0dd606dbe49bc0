"""The reconciliation service: version 0.2 at ``/reconcile`` (what OpenRefine speaks), 1.0-draft at ``/reconcile/v1/``.

The two versions cannot share one root: 0.2 answers queries on the root itself
(``queries=``, ``extend=``) and names its other routes in the manifest, while
1.0-draft fixes its routes relative to the root (``/match``, ``/suggest/entity``).

| route | what |
| --- | --- |
| GET, POST ``/reconcile`` | manifest; ``queries=`` batch; ``query=`` single; ``extend=`` data extension |
| GET ``/reconcile/suggest/{entity,type,property}`` | suggest (``prefix``, ``cursor``) |
| GET ``/reconcile/flyout/entity``, ``/reconcile/preview`` | suggest flyout; HTML preview (``id``) |
| GET ``/reconcile/extend/propose`` | property proposals (``type``, ``limit``) |
| GET ``/reconcile/about`` | how to use the service: types, properties, features |
| GET ``/reconcile/v1/`` | 1.0-draft manifest |
| POST ``/reconcile/v1/match`` (also ``/reconcile``) | 1.0-draft query batch (JSON body) |
| GET ``/reconcile/v1/suggest/*``, ``/preview``, ``/extend/propose``; POST ``/extend`` | as above, 1.0-draft shapes |

Every response carries CORS headers (the spec requires them); the app answers
preflight ``OPTIONS``. GET answers of 0.2 take a JSONP ``callback=``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request

from .. import formats as F
from ..site.dump import register_download
from ..core.errors import BadRequest, UnsupportedMediaType
from ..core.numbers import client_int
from ..reconcile import extend as X
from ..reconcile import mixnmatch
from ..reconcile.schema import FEATURES, PROPERTIES, TYPES
from ..reconcile.service import ReconcileService, Urls, parse_json
from .current import services
from .headers import frameable

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
bp_v1 = Blueprint("reconcile_v1", __name__, url_prefix="/reconcile/v1")

_KEY = "filmgraph.reconcile"
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$", re.ASCII)  # \w of any script: A¹ is no JavaScript name


def service() -> ReconcileService:
    """The reconciliation service of the current app."""
    return current_app.extensions[_KEY]  # type: ignore[no-any-return]


def _urls() -> Urls:
    site = services().settings.public_url.rstrip("/") or (request.host_url.rstrip("/") + request.script_root)
    return Urls(site, f"{site}/reconcile", f"{site}/reconcile/v1")


def _json(data: Any, jsonp: bool = True) -> Response:
    """JSON, or JSONP when a GET names a ``callback`` (0.2 only: 1.0-draft dropped JSONP)."""
    body = json.dumps(data, ensure_ascii=False)
    callback = request.args.get("callback") if jsonp and request.method in ("GET", "HEAD") else None
    if callback:
        if not _CALLBACK.fullmatch(callback) or len(callback) > 100:
            raise BadRequest("callback must be a JavaScript identifier (letters, digits, _ and $, dotted)")
        return Response(f"/**/{callback}({body});", content_type=f"{F.JAVASCRIPT}; charset=utf-8")
    return Response(body, content_type=F.JSON.content_type)


def _int(name: str, default: int, most: int = 100) -> int:
    raw = request.args.get(name, "")
    return client_int(name, raw, most=most) if raw else default


def _cors(resp: Response) -> Response:
    resp.headers["Access-Control-Allow-Origin"] = services().settings.cors_origins or "*"
    return resp


bp.after_request(_cors)
bp_v1.after_request(_cors)

# -- version 0.2 -------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])
def root() -> Response:
    """The 0.2 endpoint: manifest, query batch, single query or data extension, by parameter."""
    values = request.values
    svc = service()
    if "queries" in values:
        return _json(svc.reconcile_v02(parse_json(values["queries"], "queries")))
    if "extend" in values:
        return _json(X.extend_v02(svc, parse_json(values["extend"], "extend")))
    if "query" in values:
        raw = values["query"]
        query = parse_json(raw, "query") if raw.lstrip().startswith("{") else raw
        return _json(svc.reconcile_one_v02(query))
    if request.method == "POST":
        raise BadRequest("POST needs queries= (a JSON batch), query= or extend= (form fields)")
    return _json(svc.manifest_v02(_urls()))


@bp.route("/suggest/<kind>")
def suggest(kind: str) -> Response:
    """Suggest entities, types or properties by prefix (0.2 shape)."""
    return _json(_suggest(kind))


@bp.route("/flyout/entity")
def flyout() -> Response:
    """The suggest flyout of an entity."""
    return _json(X.flyout(service(), request.args.get("id", "")))


@bp.route("/preview")
def preview() -> Response:
    """The HTML preview of an entity (shown in OpenRefine's candidate pop-up)."""
    return _preview()


@bp.route("/extend/propose")
def propose() -> Response:
    """Properties proposed for data extension of a type."""
    return _json(X.propose(service(), request.args.get("type") or None, _int("limit", 0) or None))


@bp.route("/about")
def about() -> Response:
    """How to use the service: endpoints, types, properties and matching features."""
    html = render_template("reconcile_about.html", urls=_urls(), types=TYPES, properties=PROPERTIES, features=FEATURES)
    return Response(html, content_type=F.HTML.content_type)


# -- version 1.0-draft --------------------------------------------------------


@bp_v1.route("/")
def root_v1() -> Response:
    """The 1.0-draft manifest."""
    return _json(service().manifest_v1(_urls()), jsonp=False)


@bp_v1.route("/match", methods=["POST"])
@bp_v1.route("/reconcile", methods=["POST"])
def match_v1() -> Response:
    """A 1.0-draft query batch (JSON body; a form field ``queries`` is read too)."""
    return _json(service().reconcile_v1(_body("queries")), jsonp=False)


@bp_v1.route("/suggest/<kind>")
def suggest_v1(kind: str) -> Response:
    """Suggest entities, types or properties by prefix."""
    return _json(_suggest(kind), jsonp=False)


@bp_v1.route("/preview")
def preview_v1() -> Response:
    """The HTML preview of an entity."""
    return _preview()


@bp_v1.route("/extend", methods=["POST"])
def extend_v1() -> Response:
    """A 1.0-draft data extension query (JSON body)."""
    return _json(X.extend_v1(service(), _body("extend")), jsonp=False)


@bp_v1.route("/extend/propose")
def propose_v1() -> Response:
    """Properties proposed for data extension of a type."""
    return _json(X.propose(service(), request.args.get("type") or None, _int("limit", 0) or None), jsonp=False)


# -- shared -------------------------------------------------------------------


def _body(field: str) -> Any:
    if request.mimetype == F.JSON.media_type:
        return parse_json(request.get_data(cache=False), "the request body")
    if request.mimetype == F.FORM and field in request.form:
        # A form field holding the whole JSON document ({"queries": [...]}, or the bare array).
        data = parse_json(request.form[field], field)
        return {"queries": data} if field == "queries" and isinstance(data, list) else data
    raise UnsupportedMediaType(f"send the JSON document as an {F.JSON.media_type} body")


def _suggest(kind: str) -> dict[str, Any]:
    svc = service()
    prefix, cursor, limit = request.args.get("prefix", ""), _int("cursor", 0, 10_000), _int("limit", 10) or 10
    if kind == "entity":
        return svc.suggest_entities(prefix, cursor, limit, request.args.get("type") or None)
    if kind == "type":
        return svc.suggest_types(prefix, cursor, limit)
    if kind == "property":
        return svc.suggest_properties(prefix, cursor, limit)
    raise BadRequest(f"suggest is offered for entity, type and property; not {kind!r}")


def _preview() -> Response:
    context = X.preview(service(), request.args.get("id", ""), _urls().site)
    # OpenRefine shows the preview in an iframe of its own origin: the one page any site may frame.
    return frameable(Response(render_template("reconcile_preview.html", **context), content_type=F.HTML.content_type))


def init_app(app: Flask) -> None:
    """Register both versions of the service and the Mix'n'match catalog download."""
    site = app.extensions["filmgraph"]
    app.extensions[_KEY] = ReconcileService(site.store, lambda: site.index)
    app.register_blueprint(bp)
    app.register_blueprint(bp_v1)
    register_download(
        "Mix'n'match catalog",
        mixnmatch.FILENAME,
        F.TSV.media_type,
        mixnmatch.generate,
        "Every film record of the list and every real film, tab-separated (id, name, desc, url, type) as Mix'n'match imports it.",
    )
