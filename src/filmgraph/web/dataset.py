"""``/dataset`` and ``/.well-known/void``: the VoID + DCAT description of the dataset.

``{base}dataset`` names the dataset, a thing, so ``/dataset`` answers like the
other things: ``303 See Other`` to the negotiated document (``/dataset.html``,
``.ttl``, ``.jsonld``, ``.nt``) with ``Vary: Accept``. ``/.well-known/void``
(RFC 8615, VoID section 7) answers the description itself, Turtle unless the
client asks otherwise, with ``Content-Location``. The consistency report
(``{base}dataset/consistency``) and its rules (``{base}rule/{name}``) are
described in the same document, so their IRIs 303 there too.

The statistics and the rules' report are computed once per process; the
public URLs (endpoint, dumps) come from the setting ``public_url`` or, when it
is empty, from the request's host.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request

from .. import formats as F
from ..formats import jsonld
from ..core.cache import Once
from ..site.context import site_context
from ..site.dump import DumpCache, data_modified, dataset_downloads
from ..core.errors import NotFound
from ..truth.rules import Report, list_rules
from ..site.void import FINDINGS_LISTED, Description, Distribution, Statistics, compute_statistics, distribution_anchor
from .current import services
from .documents import by_extension, located, requested

bp = Blueprint("dataset", __name__)

DOCUMENTS: tuple[F.Format, ...] = F.DOCUMENTS
"""The description's documents; HTML first (the default of ``/dataset``)."""
WELL_KNOWN: tuple[F.Format, ...] = (F.TURTLE, F.JSONLD, F.NTRIPLES, F.HTML)
"""``/.well-known/void`` offers the same documents with Turtle as the default."""

_KEY = "filmgraph.dataset"


class DatasetCache:
    """The statistics and the consistency report, computed once per process."""

    def __init__(self) -> None:
        # Computed at first use, inside a request, from that app's services.
        self.stats: Once[Statistics] = Once(lambda: services().index.statistics() or compute_statistics(services().query, services().store.base_iri))
        self.report: Once[Report] = Once(lambda: services().report(FINDINGS_LISTED))


def description() -> Description:
    """The dataset description for the current request (public URLs from the settings or the host)."""
    svc = services()
    cached: DatasetCache = current_app.extensions[_KEY]
    public = svc.settings.public_url or request.host_url
    public = public if public.endswith("/") else public + "/"
    dumps: DumpCache | None = current_app.extensions.get("filmgraph.dumps")
    distributions = []
    for d in dataset_downloads():
        assert d.format is not None
        made = dumps.known(d.filename) if dumps is not None else None
        distributions.append(
            Distribution(distribution_anchor(d.filename), d.label, f"{public}dumps/{d.filename}", d.media_type, d.format, d.is_gzip, made.size if made else None)
        )
    modified = dumps.modified.get() if dumps is not None else data_modified(svc)
    return Description(svc.store.base_iri, public, cached.stats.get(), tuple(distributions), cached.report.get(), modified)


@bp.route("/dataset")
def dataset() -> Response:
    """The dataset (a thing): 303 to the document the client asked for."""
    fmt = requested(DOCUMENTS)
    return _see_other(f"/dataset.{fmt.extension}")


@bp.route("/dataset.<ext>")
def dataset_document(ext: str) -> Response:
    """The description in one format."""
    return _document(by_extension("/dataset", ext, DOCUMENTS))


@bp.route("/.well-known/void")
def well_known_void() -> Response:
    """The description itself (Turtle by default), as VoID asks of a well-known location."""
    fmt = requested(WELL_KNOWN)
    return located(_document(fmt), "/dataset", fmt)


@bp.route("/dataset/consistency")
def consistency() -> Response:
    """The consistency report (a thing described in the dataset description): 303 there."""
    fmt = requested(DOCUMENTS)
    return _see_other(f"/dataset.{fmt.extension}" + ("#consistency" if fmt is F.HTML else ""))


@bp.route("/rule/<name>")
def rule(name: str) -> Response:
    """A consistency rule (described with the report): 303 to the description."""
    if name not in {r.name for r in list_rules()}:
        raise NotFound(f"no consistency rule named {name!r}", rule=name)
    fmt = requested(DOCUMENTS)
    return _see_other(f"/dataset.{fmt.extension}" + (f"#rule-{name}" if fmt is F.HTML else ""))


def _see_other(location: str) -> Response:
    resp = redirect(location, code=303)
    resp.headers["Vary"] = "Accept"
    return resp


def _document(fmt: F.Format) -> Response:
    desc = description()
    triples = desc.triples()
    if fmt is F.HTML:
        embedded = jsonld.dumps(triples, desc.base_iri).decode()
        body = render_template(
            "dataset.html",
            d=desc,
            formats=[f for f in DOCUMENTS if f is not F.HTML],
            embedded=embedded.replace("</", "<\\/"),
            local=_local(desc.base_iri),
            rule_labels={r.name: r.label for r in desc.report.rules},
            findings_listed=FINDINGS_LISTED,
        ).encode()
    elif fmt is F.JSONLD:  # one object for JSON users, in the site's context; ?profile= or Accept's profile for RDF tools
        profile = jsonld.requested_profile(request.headers.get("Accept"), request.args.get("profile"))
        body = jsonld.document(site_context(services().store), desc.iri, triples, profile)
    else:
        body = F.serialize_graph(triples, fmt, desc.base_iri)
    resp = Response(body, content_type=fmt.content_type)
    resp.set_etag(hashlib.sha256(body).hexdigest()[:40])
    resp.headers["Link"] = ", ".join(
        [f'</dataset.{f.extension}>; rel=alternate; type="{f.media_type}"' for f in DOCUMENTS if f is not fmt]
        + ['</sparql>; rel="http://rdfs.org/ns/void#sparqlEndpoint"']
    )
    resp.headers["Cache-Control"] = "no-cache"
    if fmt is F.JSONLD:
        resp.headers["Vary"] = "Accept"  # the JSON-LD profile comes from Accept
    return resp.make_conditional(request)


def _local(base_iri: str):  # type: ignore[no-untyped-def]
    def local(iri: str) -> str:
        """A local path for an IRI of this dataset (so a local copy is browsable); other IRIs unchanged."""
        return "/" + iri[len(base_iri):] if iri.startswith(base_iri) else iri

    return local


def init_app(app: Flask) -> None:
    """Register the dataset blueprint."""
    app.extensions[_KEY] = DatasetCache()
    app.register_blueprint(bp)

