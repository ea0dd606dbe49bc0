"""What a request brings in, checked before any view reads it: its query string, its body, its Range header.

- A query string that percent-decodes to invalid UTF-8 is a 400 (werkzeug would
  quietly put U+FFFD in its place), as a direct POST body is; so is a form body.
- Every body is held to ``max_body``: a sized one by werkzeug (Content-Length),
  a chunked one here, by reading at most ``max_body + 1`` bytes of it (werkzeug
  would cut it short at the limit without a word and pass the rest on).
- A Range header that is not one well-formed byte range (another unit, a
  malformed or multiple range) is ignored, as RFC 9110 section 14.2 allows: the
  whole representation is served. An unsatisfiable byte range stays a 416.
"""

from __future__ import annotations

import io
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.http import parse_range_header

from .. import formats as F
from ..core.errors import BadRequest, PayloadTooLarge
from .current import services

_READ = 64 * 1024


def _body_read_errors() -> tuple[type[Exception], ...]:
    """What a server's reader of a request body raises on a malformed or cut-short body (werkzeug: OSError)."""
    errors: list[type[Exception]] = [OSError, ValueError]
    try:
        from gunicorn.http.errors import ParseException  # InvalidChunkSize, ChunkMissingTerminator, ...
    except ImportError:
        pass
    else:
        errors.append(ParseException)
    return tuple(errors)


_BODY_READ_ERRORS = _body_read_errors()


def body_too_large(limit: int) -> PayloadTooLarge:
    """The 413 of a body over ``max_body``, with the limit in bytes and the setting's name."""
    return PayloadTooLarge(f"request body is over the limit of {limit} bytes (setting max_body)", limit="max_body", max_body=limit)


def check_utf8(encoded: bytes, what: str) -> None:
    """400 unless ``encoded`` (a query string or form body) percent-decodes to UTF-8."""
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the {what} is not valid UTF-8 once percent-decoded (byte {exc.start})") from None


def _query_string() -> None:
    check_utf8(request.query_string, "query string")


def _bounded_body() -> None:
    """Read a chunked body here, at most ``max_body + 1`` bytes: over the limit it is a 413, as a sized body is."""
    environ = request.environ
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    limit = services().settings.max_body
    stream, data = environ["wsgi.input"], bytearray()
    try:
        while len(data) <= limit:
            chunk = stream.read(min(_READ, limit + 1 - len(data)))
            if not chunk:
                break
            data += chunk
    except _BODY_READ_ERRORS as exc:  # the server's reader of chunks: a bad chunk size, a missing line end, cut short
        raise BadRequest(f"the chunked request body is malformed or cut short: {str(exc)[:100] or type(exc).__name__}") from None
    if len(data) > limit:
        raise body_too_large(limit)
    # From here on the body is a sized one: the views read it as if it had come with a Content-Length.
    environ["wsgi.input"] = io.BytesIO(bytes(data))
    environ["CONTENT_LENGTH"] = str(len(data))
    del environ["HTTP_TRANSFER_ENCODING"]


def _form_body() -> None:
    if request.mimetype == F.FORM:
        check_utf8(request.get_data(cache=True), "form body")  # kept: request.form parses the same bytes


def _range() -> None:
    value = request.environ.get("HTTP_RANGE")
    if value is None:
        return
    parsed = parse_range_header(value)
    if request.method not in ("GET", "HEAD") or parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        del request.environ["HTTP_RANGE"]


def whole_when_shorter(size: int) -> None:
    """A suffix range longer than the representation selects all of it (RFC 9110 section 14.1.3), not a 416."""
    parsed = parse_range_header(request.environ.get("HTTP_RANGE"))
    if parsed is not None and len(parsed.ranges) == 1:
        start, end = parsed.ranges[0]
        if start < 0 and end is None and -start > size:
            request.environ["HTTP_RANGE"] = "bytes=0-"


def init_app(app: Flask) -> None:
    """Check every request's query string, body and Range header before its view runs."""
    for check in (_query_string, _bounded_body, _form_body, _range):
        app.before_request(check)
