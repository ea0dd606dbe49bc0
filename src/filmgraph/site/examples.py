"""Example queries about the dataset, shown in the query UI: ``queries/examples/*.rq``.

Each file holds one query and starts with a header of ``#`` lines, as the rule
files do::

    # label: Films of the list by year
    # comment: What it finds (continuation lines are indented: "#   ...")

Files are ordered by name (``1-...``, ``2-...``). Like the rules, the files
declare no prefixes: the declarations of the prefixes a query uses are
prepended for the store's base IRI, since ``fg:`` is ``{base}ontology#`` and
the base is a setting.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources

from ..core.namespaces import prefixes
from ..core.rqheader import read_header



@dataclass(frozen=True)
class Example:
    """One example query: its name (the file name), label, comment and body."""

    name: str
    label: str
    comment: str
    body: str = field(repr=False)

    def sparql(self, base_iri: str) -> str:
        """Return the query as a user sees it: the comment, the prefixes it uses, the query."""
        known = prefixes(base_iri)
        used = set(re.findall(r"(?<![\w<:/#.-])([A-Za-z][\w-]*):", self.body))
        declarations = [f"PREFIX {p}: <{iri}>" for p, iri in known.items() if p in used]
        comment = _wrap(self.comment, 76)
        return "\n".join([*(f"# {line}" for line in comment), *declarations, "", self.body.strip(), ""])


def parse_example(name: str, text: str) -> Example:
    """Read an example from its file name (without ``.rq``) and text."""
    header, start = read_header(text)
    lines = text.splitlines()
    missing = [k for k in ("label", "comment") if not header.get(k)]
    if missing:
        raise ValueError(f"example query {name}.rq: the header lacks {', '.join(missing)}")
    return Example(name, header["label"], header["comment"], "\n".join(lines[start:]))


def list_examples() -> list[Example]:
    """Return the example queries shipped in ``queries/examples``, in file-name order."""
    folder = resources.files("filmgraph") / "queries" / "examples"
    found = [parse_example(e.name[: -len(".rq")], e.read_text(encoding="utf-8")) for e in folder.iterdir() if e.name.endswith(".rq")]
    return sorted(found, key=lambda e: e.name)


def examples_fingerprint(examples: list[Example], base_iri: str) -> str:
    """A short hash of the examples for a base IRI: the query UI keeps its saved tabs per fingerprint."""
    digest = hashlib.sha256(base_iri.encode())
    for ex in examples:
        digest.update(b"\0" + ex.name.encode() + b"\0" + ex.sparql(base_iri).encode())
    return digest.hexdigest()[:12]


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines
