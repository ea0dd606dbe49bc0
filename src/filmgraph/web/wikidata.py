"""``/wikidata``: how a Wikidata editor links to filmgraph (HTML, or JSON by Accept / ``?format=json``).

The proposed external-identifier property with its formatter URL, URL match
pattern, format regex and examples, the reconciliation endpoint, the
Mix'n'match catalog and the licence: all computed by
:mod:`filmgraph.reconcile.wikidata` from the settings and the data (the
examples read once per process).
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Flask, Response, current_app, render_template, request

from .. import formats as F
from ..core.cache import Once
from ..formats.negotiate import choose
from ..reconcile import wikidata
from ..reconcile.wikidata import Example, Proposal, examples, proposal
from .current import services

bp = Blueprint("wikidata", __name__)

OFFERED: tuple[F.Format, ...] = (F.HTML, F.JSON)


def _proposal() -> Proposal:
    svc = services()
    site = svc.settings.public_url.rstrip("/") or (request.host_url.rstrip("/") + request.script_root)
    # The examples (two queries) are read once per process; the rest is a few strings of the site's address,
    # made per request, so a client's Host header never grows a cache.
    found: Once[list[Example]] = current_app.extensions.setdefault("filmgraph.wikidata", Once(lambda: examples(svc.query)))
    return proposal(svc.query, site, found.get())


@bp.route("/wikidata")
def page() -> Response:
    """The page for Wikidata editors (HTML), or the same values as JSON."""
    fmt = choose(request.headers.get("Accept"), OFFERED, request.args.getlist("format"))
    found = _proposal()
    if fmt is F.JSON:
        body = json.dumps(found.as_json(), ensure_ascii=False, indent=1).encode("utf-8")
    else:
        body = render_template("wikidata.html", p=found, P=wikidata).encode("utf-8")
    resp = Response(body, content_type=fmt.content_type)
    resp.set_etag(hashlib.sha256(body).hexdigest()[:32])
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, max-age=300"
    alternate = F.JSON if fmt is F.HTML else F.HTML
    resp.headers["Link"] = f'</wikidata?format={alternate.aliases[0] if alternate.aliases else alternate.name}>; rel="alternate"; type="{alternate.media_type}"'
    resp.make_conditional(request)
    return resp


def init_app(app: Flask) -> None:
    """Register the Wikidata blueprint."""
    app.register_blueprint(bp)
