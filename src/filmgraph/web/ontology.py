"""``/ontology``: the ontology as HTML documentation, Turtle, JSON-LD, N-Triples or RDF/XML.

A hash namespace: ``{base}ontology`` names the ontology document itself, and
its terms (``{base}ontology#Film``) are fragments of it. So ``/ontology``
answers 200 with the negotiated document, ``Vary: Accept`` and a
``Content-Location`` naming the document served (``/ontology.ttl`` ...); each
of those answers on its own URL too. Served from the configured ontology files
(base IRI rewritten), not from the whole dataset; each document is made once
per process.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, current_app, render_template, request

from .. import formats as F
from ..core.cache import Once
from ..core.errors import NotFound
from ..core.namespaces import OWL
from ..site.ontology_docs import OntologyDoc, build_doc, load_ontology
from .current import services
from .documents import by_extension, located, requested

bp = Blueprint("ontology", __name__)

OFFERED: tuple[F.Format, ...] = (F.HTML, F.TURTLE, F.JSONLD, F.NTRIPLES, F.RDFXML)
"""The ontology's documents; the first is the default for ``*/*`` and an empty Accept."""

_KEY = "filmgraph.ontology"


class OntologyDocuments:
    """The ontology's triples, documentation model and serialized documents, made once per process."""

    def __init__(self) -> None:
        self.triples = Once(lambda: load_ontology(services().settings.ontology, services().store.base_iri))
        self.doc: Once[OntologyDoc] = Once(lambda: build_doc(self.triples.get(), services().store.base_iri))
        self._bodies = {f.name: Once(lambda f=f: self._make(f)) for f in OFFERED}  # type: ignore[misc]

    def body(self, fmt: F.Format) -> bytes:
        """The document in one format."""
        return self._bodies[fmt.name].get()

    def _make(self, fmt: F.Format) -> bytes:
        if fmt is F.HTML:
            links = [(f, f"/ontology.{f.extension}") for f in OFFERED if f is not F.HTML]
            return render_template("ontology.html", doc=self.doc.get(), formats=links).encode()
        return F.serialize_graph(self.triples.get(), fmt, services().store.base_iri)


@bp.route("/ontology")
def ontology() -> Response:
    """The negotiated ontology document (200 with Content-Location: the IRI names the document)."""
    fmt = requested(OFFERED)
    return located(_document(fmt), "/ontology", fmt)


@bp.route("/ontology.<ext>")
def ontology_file(ext: str) -> Response:
    """One ontology document, named by its extension."""
    return _document(by_extension("/ontology", ext, OFFERED, "ontology document"))


@bp.route("/ontology/<version>")
def ontology_version(version: str) -> Response:
    """The version IRI (``owl:versionIRI``): 303 to the ontology when it is the version served."""
    docs: OntologyDocuments = current_app.extensions[_KEY]
    iri = f"{services().store.base_iri}ontology/{version}"
    versions = {str(t.object.value) for t in docs.triples.get() if t.predicate.value == OWL + "versionIRI"}
    if iri not in versions:
        raise NotFound(f"no ontology version {version!r} is served here; this site serves {', '.join(sorted(versions)) or 'no versioned ontology'}", path=f"/ontology/{version}")
    resp = Response(status=303, headers={"Location": "/ontology", "Vary": "Accept"})
    return resp


def _document(fmt: F.Format) -> Response:
    docs: OntologyDocuments = current_app.extensions[_KEY]
    body = docs.body(fmt)
    resp = Response(body, content_type=fmt.content_type)
    resp.set_etag(hashlib.sha256(body).hexdigest()[:40])
    resp.headers["Link"] = ", ".join(
        f'</ontology.{f.extension}>; rel=alternate; type="{f.media_type}"' for f in OFFERED if f is not fmt
    )
    resp.headers["Cache-Control"] = "no-cache"
    return resp.make_conditional(request)


def init_app(app: Flask) -> None:
    """Register the ontology blueprint."""
    app.extensions[_KEY] = OntologyDocuments()
    app.register_blueprint(bp)
