"""The one URL builder: canonical IRIs <-> local paths of the site, and the resource kinds.

A canonical IRI is ``{base}film/{id}``; the site serves it at ``/film/{id}``
(plus the script root when mounted below one), so pages link locally and a
local copy is browsable. Hash IRIs (``{base}mission/luna-2#impact``) belong to
the document of the IRI before the ``#``. No Flask here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("film", "mission", "theme", "year", "person", "work", "claim", "organization", "country")
"""Path segments of the resources that have their own pages (``{base}{kind}/{id}``)."""

ID = re.compile(r"[a-z0-9-]+")
"""What an id may be: short lowercase ASCII slugs (docs/model.md)."""


@dataclass(frozen=True)
class LocalName:
    """A canonical IRI split into kind, id and fragment (``mission``, ``luna-2``, ``impact``)."""

    kind: str
    id: str
    fragment: str | None = None


def valid_id(value: str) -> bool:
    """True when ``value`` is a well-formed resource id."""
    return ID.fullmatch(value) is not None


def resource_iri(base_iri: str, kind: str, id: str) -> str:
    """Return the canonical IRI of a resource, ``{base}{kind}/{id}``."""
    return f"{base_iri}{kind}/{id}"


def collection_iri(base_iri: str, kind: str) -> str:
    """Return the IRI of a kind's collection, ``{base}{kind}/`` (e.g. the theme scheme)."""
    return f"{base_iri}{kind}/"


def document_iri(iri: str) -> str:
    """Return the IRI whose document describes ``iri``: the IRI without its fragment."""
    return iri.split("#", 1)[0]


def split(iri: str, base_iri: str) -> LocalName | None:
    """Split a canonical resource IRI into kind, id and fragment; None when it is no resource of a kind."""
    if not iri.startswith(base_iri):
        return None
    rest = iri[len(base_iri):]
    path, _, fragment = rest.partition("#")
    kind, slash, id = path.partition("/")
    if not slash or kind not in KINDS or not valid_id(id):
        return None
    return LocalName(kind, id, fragment or None)


def local_path(iri: str, base_iri: str, root: str = "") -> str | None:
    """Return the site path of a canonical IRI (``/mission/luna-2#impact``), or None for an IRI outside the base.

    Every IRI under the base maps to a path: resources to their pages, the
    ontology's terms to ``/ontology#Term``, ``{base}dataset`` to ``/dataset``.
    ``root`` is the script root the site is mounted under (usually empty).
    """
    if not iri.startswith(base_iri):
        return None
    return f"{root.rstrip('/')}/{iri[len(base_iri):]}"


def document_path(kind: str, id: str, extension: str, root: str = "") -> str:
    """Return the site path of one document about a resource (``/film/{id}.ttl``)."""
    return f"{root.rstrip('/')}/{kind}/{id}.{extension}"


def canonical_iri(path: str, base_iri: str, root: str = "") -> str:
    """Return the canonical IRI a site path stands for (the inverse of :func:`local_path`)."""
    root = root.rstrip("/")
    if root and path.startswith(root):
        path = path[len(root):]
    return base_iri + path.lstrip("/")
