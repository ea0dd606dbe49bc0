"""The security headers of every response, and the one exception: a response other sites may frame."""

from __future__ import annotations

from flask import Response

from ..core.settings import Settings

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Content-Security-Policy of every response: only the site's own scripts (no inline ones: the query UI
needs none), connections and images; inline styles allowed (YASGUI writes style attributes); framed by no one."""
FRAMEABLE_POLICY = PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
REFERRER_POLICY = "strict-origin-when-cross-origin"


def frameable(resp: Response) -> Response:
    """Let any site show this response in a frame (the reconciliation preview: OpenRefine shows it in an iframe)."""
    resp.headers["Content-Security-Policy"] = FRAMEABLE_POLICY
    resp.headers.pop("X-Frame-Options", None)
    return resp


def common_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers every response carries unless it says otherwise: CORS for reads, and the page policies."""
    headers = []
    if settings.cors_origins:
        headers.append(("Access-Control-Allow-Origin", settings.cors_origins))
        headers.append(("Access-Control-Expose-Headers", "Content-Type, Content-Length, ETag, Link, Location, Vary, X-Result-Truncated"))
    headers.append(("X-Content-Type-Options", "nosniff"))
    headers.append(("Referrer-Policy", REFERRER_POLICY))
    headers.append(("Content-Security-Policy", PAGE_POLICY))
    headers.append(("X-Frame-Options", "DENY"))
    return headers


FRAMING = ("Content-Security-Policy", "X-Frame-Options")
"""Headers a response with its own Content-Security-Policy decides for itself (:func:`frameable`)."""
