"""One root error with an HTTP status; every failure filmgraph reports is one of these."""

from __future__ import annotations


class FilmgraphError(Exception):
    """Root of filmgraph's errors; ``status`` is the HTTP status it maps to."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (query workers); keep their context.
        return (_rebuild, (type(self), self.message, dict(self.context)))

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready description of the error."""
        out: dict[str, object] = {"error": self.title, "status": self.status, "message": self.message}
        out.update({k: v for k, v in self.context.items() if isinstance(v, str | int | float | list | bool)})
        return out


class BadRequest(FilmgraphError):
    """The request is malformed (protocol level)."""

    status = 400
    title = "Bad request"


class BadQuery(BadRequest):
    """The query does not parse; carries the parser's message and position."""

    title = "Malformed query"


class QueryRefused(FilmgraphError):
    """The query parses but asks for something this endpoint does not do (update, SERVICE)."""

    status = 403
    title = "Query refused"


class NotFound(FilmgraphError):
    """No such resource; carries what was looked for."""

    status = 404
    title = "Not found"


class Gone(FilmgraphError):
    """The resource existed and was retired; its id is never reused."""

    status = 410
    title = "Gone"


class MethodNotAllowed(FilmgraphError):
    """The HTTP method is not allowed here."""

    status = 405
    title = "Method not allowed"

    def __init__(self, message: str, allowed: list[str], **context: object) -> None:
        super().__init__(message, allowed=allowed, **context)
        self.allowed = allowed


class NotAcceptable(FilmgraphError):
    """No offered format matches what the client accepts; lists the offered ones."""

    status = 406
    title = "Not acceptable"

    def __init__(self, message: str, offered: list[str], **context: object) -> None:
        super().__init__(message, offered=offered, **context)
        self.offered = offered


class PayloadTooLarge(FilmgraphError):
    """The request body or query is over its limit."""

    status = 413
    title = "Payload too large"


class UriTooLong(FilmgraphError):
    """The request URI (a GET query) is over its limit."""

    status = 414
    title = "URI too long"


class UnsupportedMediaType(FilmgraphError):
    """The request body's media type is not one this route reads."""

    status = 415
    title = "Unsupported media type"


class ResultTooLarge(FilmgraphError):
    """A query's answer is over the byte limit of one answer and cannot be cut at a row."""

    status = 422
    title = "Result too large"


class TooManyRequests(FilmgraphError):
    """A client has used its share (its budget of query time); carries ``retry_after``, seconds."""

    status = 429
    title = "Too many requests"


class QueryTimeout(FilmgraphError):
    """The query ran past the time limit and was stopped."""

    status = 503
    title = "Query time limit reached"


class BadGateway(FilmgraphError):
    """A remote SPARQL service that a query calls (an allow-listed SERVICE) failed or answered wrongly."""

    status = 502
    title = "Bad gateway"


class Unavailable(FilmgraphError):
    """A backend (remote store, query workers) is not available."""

    status = 503
    title = "Service unavailable"


class InvalidData(FilmgraphError):
    """Data files are unreadable or do not conform to the shapes; names file, node and rule."""

    status = 500
    title = "Invalid data"


def _rebuild(cls: type[FilmgraphError], message: str, context: dict[str, object]) -> FilmgraphError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.message = message
    err.context = context
    for name in ("offered", "allowed"):
        if name in context:
            setattr(err, name, context[name])
    return err
