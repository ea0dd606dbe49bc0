"""Is a response sound? Never a server fault, and a body that is what its Content-Type says.

Shared by the fuzz and traffic tests: whatever a client sends, filmgraph answers
with a status below 500 (or 503 when a query hit the time limit), and a body
that parses as its declared type: JSON parses, XML parses, RDF parses (with
Oxigraph, which fetches nothing), HTML has a body, an error carries a message.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from xml.etree import ElementTree

import pyoxigraph as ox

_JSONP = re.compile(rb"^/\*\*/[A-Za-z_$][\w$.]*\((.*)\);$", re.S)
_RDF = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header value."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def problem(status: int, content_type: str | None, body: bytes, method: str = "GET") -> str | None:
    """What is wrong with a response, or None when it is sound."""
    if status >= 500 and not (status == 503 and b"query_timeout" in body):
        return f"server fault {status}: {body[:300]!r}"
    if status in (204, 304) or method == "HEAD":
        return None
    if 300 <= status < 400:
        # A redirect's body is a courtesy (werkzeug's is a bare HTML fragment); its Location is the answer.
        return None
    media = media_type(content_type)
    if not body and not (status < 300 and media in ("text/turtle", "application/n-triples")):
        return f"{status} {media} with an empty body"  # (an empty Turtle or N-Triples document is an empty graph)
    try:
        _parse(media, body)
    except Exception as exc:  # any parser's complaint is the finding
        return f"{status} {media}: the body does not parse: {type(exc).__name__}: {exc}; {body[:200]!r}"
    if status >= 400 and not _has_message(media, body):
        return f"{status} {media}: an error without a message: {body[:200]!r}"
    return None


def _parse(media: str, body: bytes) -> None:
    if media in _RDF:
        fmt = _RDF[media]
        if fmt is ox.RdfFormat.JSON_LD:
            json.loads(body)
        list(ox.parse(body, fmt, base_iri="http://127.0.0.1/"))
    elif media in _RESULTS:
        if media == "application/sparql-results+json":
            json.loads(body)
        result = ox.parse_query_results(io.BytesIO(body), _RESULTS[media])
        if isinstance(result, ox.QuerySolutions):
            list(result)
    elif media == "text/csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        if not rows or len({len(r) for r in rows if r}) > 1:
            raise ValueError("CSV rows of different lengths")
    elif media == "application/json":
        json.loads(body)
    elif media == "application/javascript":
        m = _JSONP.match(body.strip())
        if m is None:
            raise ValueError("not a JSONP call")
        json.loads(m.group(1))
    elif media in ("application/xml", "text/xml"):
        ElementTree.fromstring(body)
    elif media == "text/html":
        text = body.decode("utf-8")
        if not re.search(r"<body\b[^>]*>.*\S.*</body>", text, re.S | re.I):
            raise ValueError("HTML without a body")
    elif media == "text/plain":
        if not body.decode("utf-8").strip():
            raise ValueError("blank text")
    elif media == "application/gzip":
        gzip.decompress(body)
    elif media == "text/css" or media.endswith("javascript"):
        body.decode("utf-8")
    else:
        raise ValueError(f"unexpected media type {media!r}")


def _has_message(media: str, body: bytes) -> bool:
    if media in ("application/json", "application/javascript"):
        data = json.loads(_JSONP.match(body.strip()).group(1) if media == "application/javascript" else body)  # type: ignore[union-attr]
        return isinstance(data, dict) and bool(str(data.get("message") or data.get("error") or "").strip())
    return len(body.strip()) > 10
