"""A document served in several formats: negotiate it, name it by its extension, say which one was served."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response, request

from .. import formats as F
from ..core.errors import NotFound
from ..formats.negotiate import choose


def requested(offered: Sequence[F.Format]) -> F.Format:
    """The offered format the request asks for (``Accept``, or a ``format`` parameter that overrides it)."""
    return choose(request.headers.get("Accept"), offered, request.args.getlist("format"))


def by_extension(stem: str, ext: str, offered: Sequence[F.Format], what: str = "document") -> F.Format:
    """The format of ``{stem}.{ext}``; a 404 listing the offered documents when there is no such one."""
    fmt = F.by_extension(ext, offered)
    if fmt is None:
        raise NotFound(f"no {what} {stem}.{ext}; offered: {', '.join(f'{stem}.{f.extension}' for f in offered)}", path=f"{stem}.{ext}")
    return fmt


def located(resp: Response, stem: str, fmt: F.Format) -> Response:
    """Mark a negotiated answer: ``Content-Location`` names the document served, ``Vary: Accept``."""
    resp.headers["Content-Location"] = f"{stem}.{fmt.extension}"
    resp.headers["Vary"] = "Accept"
    return resp
