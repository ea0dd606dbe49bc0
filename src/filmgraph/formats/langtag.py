"""Language tags as written: the BCP 47 case (``ru-Latn``, ``en-US``), restored on output.

Oxigraph lower-cases every language tag when it parses or builds a literal
(``ru-Latn`` becomes ``ru-latn``); RDF compares tags without regard to case, so
the data is the same, but readers and JSON users see the tags as BCP 47 writes
them. RFC 5646 section 2.1.1 gives the one conventional case of any tag, so the
tags are recased on output (documents, dumps, pages) without remembering how
each file wrote them.
"""

from __future__ import annotations

import re

from ..core.memo import sized_lru


@sized_lru(2**18, 1024)  # tags in a client's query results are client text
def canonical(tag: str) -> str:
    """The conventional case of a language tag: language lower, Script title, REGION upper (RFC 5646 2.1.1)."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    private = len(parts[0]) == 1  # "x-..." or "i-..." start with a singleton
    for part in parts[1:]:
        if private or len(part) == 1:
            private = True  # every subtag after a singleton (extension, private use) is lower case
            out.append(part.lower())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part[:1].upper() + part[1:].lower())
        else:
            out.append(part.lower())
    return "-".join(out)


# A closing quote of a literal (preceded by an even number of backslashes) followed by a tag with a subtag.
_SERIALIZED = re.compile(rb'(?<!\\)((?:\\\\)*"@)([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})+)')
_XML_LANG = re.compile(rb'(xml:lang=")([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})+)(")')


def recase_serialized(data: bytes) -> bytes:
    """Recase the language tags of Turtle, N-Triples (``"..."@ru-latn``) or RDF/XML (``xml:lang``) output."""
    if b"-" not in data:
        return data
    data = _SERIALIZED.sub(lambda m: m.group(1) + canonical(m.group(2).decode("ascii")).encode("ascii"), data)
    if b"xml:lang=" in data:
        data = _XML_LANG.sub(lambda m: m.group(1) + canonical(m.group(2).decode("ascii")).encode("ascii") + m.group(3), data)
    return data
