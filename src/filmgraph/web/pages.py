"""Resource pages and the home page: ``/``, ``/{kind}/``, ``/{kind}/{id}`` (303) and ``/{kind}/{id}.{ext}``.

| path | answer |
| --- | --- |
| ``/`` | the home page (HTML) |
| ``/{kind}/`` | the list of a kind's resources (HTML, or RDF by Accept / ``?format=``) |
| ``/{kind}/{id}`` | ``303 See Other`` to the document the client asked for (Accept or ``?format=``) |
| ``/{kind}/{id}.html``, ``.ttl``, ``.jsonld``, ``.nt`` | the documents about it |
| ``/context.jsonld`` | the JSON-LD context every JSON-LD document and the dump use (ETag, long caching) |
| ``/context-{version}.jsonld`` | the same context under its version (immutable) |

Unknown ids are 404 (with suggestions), retired ids 410, malformed ids 404
without touching the store. Every answer says ``Vary: Accept``; documents carry
a strong ETag (304 on ``If-None-Match``) and ``Link: rel="alternate"`` to their
other formats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from pyoxigraph import NamedNode, Triple

from ..site import describe, home as home_model, listing
from .. import formats as F
from ..formats import jsonld
from ..core import iris
from ..core.cache import Once
from ..core.errors import NotFound
from ..core.namespaces import RDF, ontology_ns
from ..formats.negotiate import choose
from ..core.numbers import ascii_int, client_int
from ..site.context import site_context
from ..site.page import resource_page
from ..sparql.query import QueryService
from ..truth.rules import Report
from ..site.schemaorg import script_json
from ..site.void import FINDINGS_LISTED
from .current import services

bp = Blueprint("pages", __name__)

KIND = "any(" + ", ".join(iris.KINDS) + ")"
FORMAT_PARAMS = ("format",)
LISTING_FORMATS = (F.HTML, F.JSON, *F.DOCUMENTS[1:])
"""A collection page: HTML, plain JSON, or the page's members as RDF."""
YEAR_MOST = 999_999
"""The largest year a listing is asked for (``year=``): six digits, either side of zero."""


# -- values computed once per process (the store is read-only) -----------------------


def _once(name: str, make: Callable[[], object]) -> object:
    cache = current_app.extensions.setdefault("filmgraph.pages", {})
    if name not in cache:
        cache[name] = Once(make)
    return cache[name].get()


def consistency_report() -> Report:
    """The rules' report: kept in the site index by the build, else computed once per process."""
    svc = services()

    def make() -> Report:
        return svc.report(FINDINGS_LISTED)

    return _once("report", make)  # type: ignore[return-value]


def term_labels() -> dict[str, str]:
    """The ontology's labels of its properties and classes, read once per process."""
    query = services().query

    def make() -> dict[str, str]:
        out: dict[str, str] = {}
        for row in query.select("resource-property-labels"):
            out.setdefault(row["term"].value, row["label"].value)  # type: ignore[union-attr]
        return out

    return _once("labels", make)  # type: ignore[return-value]


# -- responses -------------------------------------------------------------------------


def _links(alternates: list[tuple[str, F.Format]], about: str | None = None) -> str:
    parts = [f'<{href}>; rel="alternate"; type="{fmt.media_type}"' for href, fmt in alternates]
    if about:
        parts.append(f'<{about}>; rel="describes"')
    return ", ".join(parts)


def _document(body: bytes, fmt: F.Format, link: str | None = None, profile: str | None = None) -> Response:
    """A document: strong ETag from the body, 304 on a matching If-None-Match, Vary: Accept."""
    content_type = f'{fmt.media_type}; profile="{profile}"; charset=utf-8' if profile else fmt.content_type
    resp = Response(body, content_type=content_type)
    resp.set_etag(hashlib.sha256(body).hexdigest()[:32])
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, max-age=300"
    if link:
        resp.headers["Link"] = link
    resp.make_conditional(request)
    return resp


def _negotiate(offered: tuple[F.Format, ...] = F.DOCUMENTS) -> F.Format:
    return choose(request.headers.get("Accept"), offered, [v for n in FORMAT_PARAMS for v in request.args.getlist(n)])


def _root() -> str:
    return request.script_root or ""


def _resolve(kind: str, id: str) -> describe.Resource:
    """Look the resource up; a 404 for a well-formed id carries similar ids of the same kind."""
    query = services().query
    try:
        return describe.resolve(query, kind, id, _root())
    except NotFound as err:
        if iris.valid_id(id):
            found = listing.suggestions(services().index, query.store.base_iri, kind, id)
            err.context["suggestions"] = [iris.document_path(kind, i, "html", _root()) for i in found]
        raise


# -- views -------------------------------------------------------------------------------


@bp.route("/")
def home() -> Response:
    """The home page: the dataset, how honest it is, the ten films and the timeline."""
    _negotiate((F.HTML,))
    svc = services()
    root = _root()

    def make() -> bytes:
        model = home_model.build(svc.query, svc.index, consistency_report(), root)
        return render_template("home.html", home=model, triples=svc.index.triples, kinds=listing.TITLES).encode("utf-8")

    return _document(_once(f"home {root}", make), F.HTML)  # type: ignore[arg-type]


def _page_args(kind: str) -> dict[str, object]:
    """The paging and filter parameters of a collection page: ``after`` (an id), ``year``, ``type``."""
    year = request.args.get("year") or None
    return {
        "after": request.args.get("after") or None,
        "year": client_int("year", year, least=-YEAR_MOST, most=YEAR_MOST, signed=True, clamp=False) if year is not None else None,
        "type_name": request.args.get("type") or None,
    }


@bp.route(f"/<{KIND}:kind>/")
def collection(kind: str) -> Response:
    """A page of a kind's resources, sorted by label (``?after=id`` for the next): HTML, JSON, or RDF."""
    fmt = _negotiate(LISTING_FORMATS)
    args = _page_args(kind)
    svc = services()
    query, base, root = svc.query, svc.query.store.base_iri, _root()
    keep = {"year": args["year"], "type": args["type_name"], "after": args["after"]}
    alternates = [(listing.page_href(kind, root, **keep, format=f.aliases[0]), f) for f in LISTING_FORMATS if f is not fmt]
    given = {"format": request.args["format"]} if request.args.get("format") else {}
    page = listing.listing(query, svc.index, kind, root, extra=given, **args)  # type: ignore[arg-type]
    link = _links(alternates)
    if page.next_href:
        link += f', <{page.next_href}>; rel="next"'
    if page.first_href:
        link += f', <{page.first_href}>; rel="first"'
    if fmt is F.JSON:
        body = jsonify(listing.listing_json(page, base)).get_data()
    elif fmt is F.JSONLD:  # the page's nodes, each once, in the site's context (the keys of the documents)
        triples = listing.listing_graph(query, svc.index, kind, **args)  # type: ignore[arg-type]
        body = jsonld.document(site_context(query.store), "", triples, jsonld.FLATTENED)
    elif fmt is not F.HTML:
        body = F.serialize_graph(listing.listing_graph(query, svc.index, kind, **args), fmt, base)  # type: ignore[arg-type]
    else:
        body = render_template("collection.html", listing=page, alternates=alternates, kinds=listing.TITLES).encode("utf-8")
    return _document(body, fmt, link)


@bp.route("/search")
def search() -> Response:
    """Search the titles and names of every resource, in any script (``?q=``, ``&kind=film``): HTML or JSON."""
    fmt = _negotiate((F.HTML, F.JSON))
    text = request.args.get("q", "").strip()
    kind = request.args.get("kind") or None
    svc = services()
    base = svc.query.store.base_iri
    results = listing.found(svc.index, base, text, kind, _root()) if text else listing.Found(text, kind, [], False)
    alternates = [(f"{_root()}/search?" + urlencode({k: v for k, v in (("q", text), ("kind", kind), ("format", f.aliases[0])) if v}), f)
                  for f in (F.HTML, F.JSON) if f is not fmt]
    if fmt is F.JSON:
        body = jsonify(listing.search_json(results, base)).get_data()
    else:
        body = render_template("search.html", results=results, alternates=alternates, kinds=listing.TITLES).encode("utf-8")
    return _document(body, fmt, _links(alternates))


@bp.route(f"/<{KIND}:kind>/<name>")
def resource(kind: str, name: str) -> Response:
    """The thing itself (303 to the negotiated document) or one of its documents (``name.ext``)."""
    if "." in name:
        id, _, extension = name.rpartition(".")
        return _resource_document(kind, id, extension)
    found = _resolve(kind, name)
    fmt = _negotiate()
    location = iris.document_path(found.kind, found.id, fmt.extension, _root())
    resp = Response(f"303 See Other: {location}\n", status=303, content_type="text/plain; charset=utf-8")
    resp.headers["Location"] = location
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = _links([(iris.document_path(found.kind, found.id, f.extension, _root()), f) for f in F.DOCUMENTS])
    return resp


def _resource_document(kind: str, id: str, extension: str) -> Response:
    fmt = F.by_extension(extension, F.DOCUMENTS)
    if fmt is None or not iris.valid_id(id):
        offered = ", ".join(f".{f.extension}" for f in F.DOCUMENTS)
        raise NotFound(f"no document /{kind}/{id[:100]}.{extension[:20]} here; the documents of a resource end in {offered}", kind=kind)
    found = _resolve(kind, id)
    query = services().query
    alternates = [(iris.document_path(kind, id, f.extension, _root()), f) for f in F.DOCUMENTS if f is not fmt]
    link = _links(alternates, found.iri)
    if fmt is F.JSONLD:
        profile = jsonld.requested_profile(request.headers.get("Accept"), request.args.get("profile"))
        body = jsonld.document(site_context(query.store), found.iri, rdf_document(query, found.iri), profile)
        link += f', <{_root()}{jsonld.CONTEXT_PATH}>; rel="http://www.w3.org/ns/json-ld#context"'
        return _document(body, fmt, link, profile)
    if fmt is not F.HTML:
        return _document(F.serialize_graph(rdf_document(query, found.iri), fmt, query.store.base_iri), fmt, link)
    page_url = request.host_url.rstrip("/") + iris.document_path(kind, id, "html", _root())
    page, schema = resource_page(query, found, term_labels(), consistency_report().about, page_url, _root())
    films = _films_of_year(id) if kind == "year" else None
    html = render_template("resource.html", page=page, jsonld=script_json(schema) if schema else None,
                           alternates=alternates, kinds=listing.TITLES, year_films=films)
    return _document(html.encode("utf-8"), fmt, link)


def rdf_document(query: QueryService, iri: str) -> list[Triple]:
    """The RDF document of a resource: its own document, a record's claims with the names of what they link to.

    The ontology's terms linked as values (``fg:Supported``, ``fg:Identified``) are left to the ontology's own
    document, so JSON users read ``"assessment": "Supported"``, not an object.
    """
    fg = ontology_ns(query.store.base_iri)
    triples = describe.document_graph(query, iri)
    node = NamedNode(iri)
    if any(t.subject == node and t.predicate.value == RDF + "type" and t.object == NamedNode(fg + "FilmRecord") for t in triples):
        claims = describe.claims_graph(query, iri)
        mine = {t.subject for t in claims if t.predicate.value == fg + "about" and t.object == node}
        triples += [t for t in claims if t.subject in mine or t.predicate.value in describe.LABELS]
    return describe.sorted_triples(t for t in triples if not (isinstance(t.subject, NamedNode) and t.subject.value.startswith(fg)))


@bp.route(jsonld.CONTEXT_PATH)
def context() -> Response:
    """The JSON-LD context of the site (generated from the ontology and the data): ETag, cached for a day."""
    ctx = site_context(services().store)
    resp = Response(ctx.body, content_type=F.JSONLD.content_type)
    resp.set_etag(ctx.version)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    resp.headers["Link"] = f'<{_root()}/context-{ctx.version}.jsonld>; rel="alternate"; type="{F.JSONLD.media_type}"'
    resp.make_conditional(request)
    return resp


@bp.route("/context-<version>.jsonld")
def context_version(version: str) -> Response:
    """The context under its version: immutable (a new context gets a new version)."""
    ctx = site_context(services().store)
    if version != ctx.version:
        raise NotFound(f"no context of version {version[:40]!r} here; the current one is {_root()}/context-{ctx.version}.jsonld", version=version[:40])
    resp = Response(ctx.body, content_type=F.JSONLD.content_type)
    resp.set_etag(ctx.version)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.make_conditional(request)
    return resp


def _films_of_year(id: str) -> listing.Listing | None:
    """The first page of the films of a year (from the site index), for the year's page."""
    year = ascii_int(id)
    if year is None or year > YEAR_MOST:
        return None
    svc = services()
    return listing.listing(svc.query, svc.index, "film", _root(), year=year)


def init_app(app: Flask) -> None:
    """Register the pages blueprint."""
    app.register_blueprint(bp)
