"""The comment header of a ``.rq`` file (``# label: ...``, ``# comment: ...``), shared by rules and examples."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^#\s*([a-z]+)\s*:\s*(.*?)\s*$")


def read_header(text: str) -> tuple[dict[str, str], int]:
    """Return the ``# key: value`` lines before the query (indented lines continue a value) and the query's first line index."""
    header: dict[str, str] = {}
    key: str | None = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            return header, index
        match = _HEADER.match(line)
        if match:
            key = match.group(1)
            header[key] = match.group(2)
        elif key and line[1:].startswith("  ") and line[1:].strip():
            header[key] += " " + line[1:].strip()
        else:
            key = None
    return header, len(lines)
