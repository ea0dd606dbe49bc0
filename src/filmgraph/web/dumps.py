"""``/dumps/``: the index of downloads and the files themselves (ETag, Last-Modified, 304, Range).

Each file is generated once per process into a cache directory (see
:mod:`filmgraph.site.dump`) and served from disk with ``send_file``. Gzip files are
downloads of their own (``application/gzip``), never a Content-Encoding, so
clients keep the compressed bytes; the same bytes are sent whatever the
Accept-Encoding, so no response varies on it.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, send_file

from .. import formats as F
from ..site.dump import Download, DumpCache, DumpFile, register_download
from .intake import whole_when_shorter

__all__ = ["bp", "init_app", "register_download", "dump_cache"]

bp = Blueprint("dumps", __name__)

_KEY = "filmgraph.dumps"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def dump_cache() -> DumpCache:
    """The dump cache of the current app (one per app and process)."""
    return current_app.extensions[_KEY]  # type: ignore[no-any-return]


@bp.route("/dumps/")
def index() -> Response:
    """List every download: what it is, its size when already made, the triple count, the licence."""
    cache = dump_cache()
    rows = [_row(d, cache.known(d.filename)) for d in cache.downloads()]
    html = render_template(
        "dumps.html",
        dataset=[r for r in rows if r["download"].format is not None],
        extra=[r for r in rows if r["download"].format is None],
        triples=cache.triples.get(),
        modified=cache.modified.get(),
        license=LICENSE,
    )
    resp = Response(html, content_type=F.HTML.content_type)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/dumps/<filename>")
def download(filename: str) -> Response:
    """Serve one download from the cache (generated first if this process has not yet)."""
    cache = dump_cache()
    made = cache.file(filename)
    d = made.download
    whole_when_shorter(made.size)
    resp = send_file(
        made.path,
        mimetype=d.media_type,
        as_attachment=True,
        download_name=d.filename,
        conditional=True,
        etag=made.etag,
        last_modified=cache.modified.get(),
    )
    if d.format is not None:
        alternates = [f"</dumps/{o.filename}>; rel=alternate; type=\"{o.media_type}\"" for o in cache.downloads() if o.format is not None and not o.is_gzip and o.filename != d.filename]
        resp.headers["Link"] = ", ".join(["</dataset>; rel=describedby", *alternates])
    return resp


def _row(d: Download, made: DumpFile | None) -> dict[str, object]:
    return {"download": d, "size": made.size if made else None, "href": f"/dumps/{d.filename}"}


def init_app(app: Flask) -> None:
    """Register the dumps blueprint and give the app its dump cache."""
    app.extensions[_KEY] = DumpCache(app.extensions["filmgraph"])
    app.register_blueprint(bp)
