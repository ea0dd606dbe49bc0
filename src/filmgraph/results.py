"""Writing SPARQL results with a row cap that is never silent.

SELECT results are written here rather than by Oxigraph's serializer because a
truncated result must say so inside the body where the format allows it (JSON:
a ``filmgraph`` member and a ``head.link``; XML: a ``link`` in the head; Turtle,
N-Triples and RDF/XML: a comment). Graph results go through Oxigraph's
serializers, capped by slicing the triple stream.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from . import formats as F

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
NOTICE_LINK = "urn:filmgraph:truncated"


@dataclass(frozen=True)
class Rendered:
    """A serialized query result and what the response headers must say about it."""

    body: bytes
    format: F.Format
    truncated: bool
    count: int


def _json_term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> dict[str, object]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    return {
        "type": "triple",
        "value": {"subject": _json_term(t.subject), "predicate": _json_term(t.predicate), "object": _json_term(t.object)},
    }


def _xml_term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
        f"<object>{_xml_term(t.object)}</object></triple>"
    )


def _csv_term(t: object) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    if isinstance(t, ox.NamedNode | ox.Literal):
        return t.value
    return str(t)


def _tsv_term(t: object) -> str:
    # TSV carries terms in SPARQL/Turtle syntax, which str() of an Oxigraph term gives.
    return "" if t is None else str(t)


def rows_capped(solutions: Iterable[ox.QuerySolution], width: int, cap: int) -> tuple[list[tuple], bool]:
    """Take at most ``cap`` rows; say whether more were there."""
    rows = [tuple(s[i] for i in range(width)) for s in itertools.islice(solutions, cap + 1)]
    truncated = len(rows) > cap
    return (rows[:cap] if truncated else rows), truncated


def write_select(variables: Sequence[str], rows: list[tuple], fmt: F.Format, truncated: bool, cap: int) -> bytes:
    """Serialize SELECT rows in one of the result formats."""
    if fmt is F.SPARQL_JSON:
        head: dict[str, object] = {"vars": list(variables)}
        bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None} for row in rows]
        doc: dict[str, object] = {"head": head}
        if truncated:
            head["link"] = [NOTICE_LINK]
            # Before "results": streaming parsers (Oxigraph's) refuse anything after the bindings.
            doc["filmgraph"] = {"truncated": True, "limit": cap, "message": f"result truncated to {cap} rows (max_rows)"}
        doc["results"] = {"bindings": bindings}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt is F.SPARQL_XML:
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        if truncated:
            parts.append(f'<link href="{NOTICE_LINK}"/><!-- result truncated to {cap} rows (max_rows) -->')
        parts.append("</head>\n<results>\n")
        for row in rows:
            parts.append("<result>")
            parts += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row) if t is not None]
            parts.append("</result>\n")
        parts.append("</results>\n</sparql>\n")
        return "".join(parts).encode()
    if fmt is F.CSV:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        w.writerows([_csv_term(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    if fmt is F.TSV:
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join(_tsv_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"not a result format: {fmt.name}")


def write_ask(answer: bool, fmt: F.Format) -> bytes:
    """Serialize an ASK answer in one of the result formats."""
    if fmt is F.SPARQL_JSON:
        return json.dumps({"head": {}, "boolean": answer}).encode()
    if fmt is F.SPARQL_XML:
        value = "true" if answer else "false"
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{value}</boolean></sparql>\n"
        ).encode()
    if fmt is F.CSV:
        return f"_askResult\r\n{'true' if answer else 'false'}\r\n".encode()
    if fmt is F.TSV:
        return f"?_askResult\n{'true' if answer else 'false'}\n".encode()
    raise ValueError(f"not a result format: {fmt.name}")


def triples_capped(triples: Iterator[ox.Triple], cap: int) -> tuple[list[ox.Triple], bool]:
    """Take at most ``cap`` triples; say whether more were there."""
    got = list(itertools.islice(triples, cap + 1))
    return (got[:cap], True) if len(got) > cap else (got, False)


def write_graph(triples: list[ox.Triple], fmt: F.Format, base_iri: str, truncated: bool, cap: int) -> bytes:
    """Serialize a CONSTRUCT/DESCRIBE result, with a truncation comment where the format has comments."""
    body = F.serialize_graph(triples, fmt, base_iri)
    if not truncated:
        return body
    note = f"result truncated to {cap} triples (max_rows)"
    if fmt in (F.TURTLE, F.NTRIPLES):
        return f"# {note}\n".encode() + body
    if fmt is F.RDFXML and body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + f"\n<!-- {note} -->".encode() + body[end:]
    return body
