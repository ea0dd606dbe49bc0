"""The security headers of every response, and the one exception: a response other sites may frame."""

from __future__ import annotations

from flask import Response

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
