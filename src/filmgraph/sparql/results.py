"""Writing SPARQL results with a row cap that is never silent.

SELECT results are written here rather than by Oxigraph's serializer because a
truncated result must say so inside the body where the format allows it (JSON:
a ``filmgraph`` member and a ``head.link``; XML: a ``link`` in the head; Turtle,
N-Triples and RDF/XML: a comment). Graph results go through Oxigraph's
serializers, capped by slicing the triple stream.

An answer is also held to a number of bytes (``max_result_bytes``): rows are
taken from the engine only while their text fits (so a worker never holds much
more than the limit), each is written and counted, and the answer stops at the
last whole row that fits, marked as for the row cap. An answer whose first row
alone is over the limit cannot be cut and is refused (:class:`ResultTooLarge`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .. import formats as F
from ..formats.langtag import recase_serialized
from ..core.errors import ResultTooLarge

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
    cut_by: str = "max_rows"
    """What cut a truncated answer: the setting ``max_rows`` or ``max_result_bytes``, or ``store`` (a remote store's own row cap)."""


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


TERM_OVERHEAD = 16
"""Bytes a term's syntax adds at least to its text (quotes, brackets, separators), for the estimate of a row."""


def term_bytes(t: object) -> int:
    """About how many bytes a term takes when written (its text, its datatype or language, the syntax around it)."""
    if t is None:
        return 1
    if isinstance(t, ox.Literal):
        return len(t.value) + len(t.language or t.datatype.value) + TERM_OVERHEAD
    if isinstance(t, ox.Triple):
        return term_bytes(t.subject) + term_bytes(t.predicate) + term_bytes(t.object) + TERM_OVERHEAD
    return len(getattr(t, "value", "")) + TERM_OVERHEAD


def rows_capped(solutions: Iterable[ox.QuerySolution], width: int, cap: int, max_bytes: int = 0) -> tuple[list[tuple], bool]:
    """Take at most ``cap`` rows, and (``max_bytes``) no more than about that many bytes of terms; say whether more were there.

    Fewer than ``cap`` rows with ``True`` means the bytes cut the answer.
    """
    rows: list[tuple] = []
    size = 0
    for s in itertools.islice(solutions, cap + 1):
        row = tuple(s[i] for i in range(width))
        if max_bytes:
            size += sum(term_bytes(t) for t in row)
            if size > max_bytes and rows:  # the first row is kept: the writer decides whether it fits
                return rows, True
        rows.append(row)
    truncated = len(rows) > cap
    return (rows[:cap] if truncated else rows), truncated


class _Over(Exception):
    """The engine's writer passed the byte limit of an answer."""


class _Bounded:
    """A binary writer that keeps what it is given and stops the engine's serializer past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _Over
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def whole_json(solutions: ox.QuerySolutions, cap: int, max_bytes: int = 0) -> Rendered | None:
    """A SELECT answer in SPARQL JSON written by the engine's own serializer (the same bytes as
    :func:`render_rows`, several times faster), when it is within ``cap`` rows and ``max_bytes`` (0: no limit);
    else None, and the solutions are spent: the caller evaluates the query again and cuts it row by row.

    The writer stops as soon as the bytes pass the limit, so a worker holds no more than that. Rows are counted
    as the objects that open the bindings array or follow a comma in it (``[{``, ``,{``); a value holding one of
    those counts too, so the count may be over, never under: an answer near the cap may be cut for nothing.
    """
    body = _engine_written(solutions, ox.QueryResultsFormat.JSON, max_bytes)
    rows = -1 if body is None else body.count(b"[{") + body.count(b",{")
    if body is None or rows > cap:
        return None
    return Rendered(body, F.SPARQL_JSON, False, rows)


def whole_ntriples(triples: ox.QueryTriples, cap: int, max_bytes: int = 0) -> Rendered | None:
    """A CONSTRUCT or DESCRIBE answer in N-Triples written by the engine's serializer (the same bytes as
    :func:`render_graph`), when it is within ``cap`` triples and ``max_bytes``; else None, and the triples are
    spent (see :func:`whole_json`). One triple a line: N-Triples escapes the line ends of literals."""
    body = _engine_written(triples, ox.RdfFormat.N_TRIPLES, max_bytes)
    count = -1 if body is None else body.count(b"\n")
    if body is None or count > cap:
        return None
    return Rendered(recase_serialized(body), F.NTRIPLES, False, count)


def _engine_written(result: ox.QuerySolutions | ox.QueryTriples, fmt: ox.QueryResultsFormat | ox.RdfFormat, max_bytes: int) -> bytes | None:
    """A query result serialized by the engine, or None as soon as it passes ``max_bytes`` (0: no limit)."""
    out = _Bounded(max_bytes or sys.maxsize)
    try:
        result.serialize(output=out, format=fmt)  # type: ignore[arg-type]
    except _Over:
        return None
    return b"".join(out.parts)


def render_rows(variables: Sequence[str], rows: list[tuple], fmt: F.Format, truncated: bool, cap: int, max_bytes: int = 0, cut_by: str = "max_rows") -> Rendered:
    """SELECT rows written in a result format, within ``max_bytes`` (0: no limit), cut at a row and marked if over;
    ``cut_by`` names what cut ``rows`` at ``cap``: ``max_rows``, or ``store`` (a remote store's own row cap)."""
    by = "max_result_bytes" if truncated and len(rows) < cap else cut_by
    chunks = [_row_chunk(variables, row, fmt) for row in rows] if fmt is not F.CSV else _csv_chunks(rows)
    if max_bytes:
        room = max_bytes - sum(map(len, _frame(variables, fmt, True, cap, len(rows), max_bytes, "max_result_bytes")))
        total, kept = 0, 0
        for chunk in chunks:
            if total + len(chunk) > room:
                break
            total += len(chunk)
            kept += 1
        if kept < len(chunks):
            if kept == 0:
                raise too_large(max_bytes)
            chunks, rows, truncated, by = chunks[:kept], rows[:kept], True, "max_result_bytes"
    head, tail = _frame(variables, fmt, truncated, cap, len(rows), max_bytes, by)
    sep = b"," if fmt is F.SPARQL_JSON else b""
    return Rendered(head + sep.join(chunks) + tail, fmt, truncated, len(rows), by)


def too_large(max_bytes: int) -> ResultTooLarge:
    """The error for an answer that cannot be cut to ``max_bytes``."""
    return ResultTooLarge(
        f"the answer is over the limit of {max_bytes} bytes for one answer (setting max_result_bytes) and its first "
        "row alone is over it, so it cannot be cut; ask for shorter values (SUBSTR, STRLEN) or fewer of them",
        limit="max_result_bytes",
        max_result_bytes=max_bytes,
    )


def _notice(truncated: bool, cap: int, count: int, max_bytes: int, by: str) -> str:
    if by == "max_result_bytes":
        return f"result truncated to {count} rows, the most that fit in {max_bytes} bytes (max_result_bytes)"
    if by == "store":
        return f"result truncated to {cap} rows by the store's own row cap (Virtuoso: ResultSetMaxRows)"
    return f"result truncated to {cap} rows (max_rows)"


def _frame(variables: Sequence[str], fmt: F.Format, truncated: bool, cap: int, count: int, max_bytes: int, by: str) -> tuple[bytes, bytes]:
    """What comes before and after the rows of a SELECT result."""
    note = _notice(truncated, cap, count, max_bytes, by)
    if fmt is F.SPARQL_JSON:
        head: dict[str, object] = {"vars": list(variables)}
        doc: dict[str, object] = {"head": head}
        if truncated:
            head["link"] = [NOTICE_LINK]
            # Before "results": streaming parsers (Oxigraph's) refuse anything after the bindings.
            if by == "max_result_bytes":
                doc["filmgraph"] = {"truncated": True, "limit": max_bytes, "setting": by, "message": note}
            elif by == "store":
                doc["filmgraph"] = {"truncated": True, "limit": cap, "setting": "the store's row cap", "message": note}
            else:
                doc["filmgraph"] = {"truncated": True, "limit": cap, "message": note}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        return (text[:-1] + ',"results":{"bindings":[').encode(), b"]}}"
    if fmt is F.SPARQL_XML:
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        if truncated:
            parts.append(f'<link href="{NOTICE_LINK}"/><!-- {note} -->')
        parts.append("</head>\n<results>\n")
        return "".join(parts).encode(), b"</results>\n</sparql>\n"
    if fmt is F.CSV:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(variables)
        return buf.getvalue().encode(), b""
    if fmt is F.TSV:
        return ("\t".join("?" + v for v in variables) + "\n").encode(), b""
    raise ValueError(f"not a result format: {fmt.name}")


def _row_chunk(variables: Sequence[str], row: tuple, fmt: F.Format) -> bytes:
    if fmt is F.SPARQL_JSON:
        return json.dumps({v: _json_term(t) for v, t in zip(variables, row) if t is not None}, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt is F.SPARQL_XML:
        inner = "".join(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row) if t is not None)
        return f"<result>{inner}</result>\n".encode()
    if fmt is F.TSV:
        return ("\t".join(_tsv_term(t) for t in row) + "\n").encode()
    raise ValueError(f"not a result format: {fmt.name}")


def _csv_chunks(rows: list[tuple]) -> list[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    out = []
    for row in rows:
        buf.seek(0)
        buf.truncate()
        w.writerow([_csv_term(t) for t in row])
        out.append(buf.getvalue().encode())
    return out


def write_select(variables: Sequence[str], rows: list[tuple], fmt: F.Format, truncated: bool, cap: int) -> bytes:
    """Serialize SELECT rows in one of the result formats."""
    return render_rows(variables, rows, fmt, truncated, cap).body


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


def triples_capped(triples: Iterator[ox.Triple], cap: int, max_bytes: int = 0) -> tuple[list[ox.Triple], bool]:
    """Take at most ``cap`` triples, and (``max_bytes``) no more than about that many bytes of terms; say whether more were there."""
    if not max_bytes:
        got = list(itertools.islice(triples, cap + 1))
        return (got[:cap], True) if len(got) > cap else (got, False)
    got = []
    size = 0
    for t in itertools.islice(triples, cap + 1):
        size += term_bytes(t)
        if size > max_bytes and got:
            return got, True
        got.append(t)
    return (got[:cap], True) if len(got) > cap else (got, False)


def render_graph(triples: list[ox.Triple], fmt: F.Format, base_iri: str, truncated: bool, cap: int, max_bytes: int = 0) -> Rendered:
    """A CONSTRUCT/DESCRIBE result written in an RDF format, within ``max_bytes`` (0: no limit), cut and marked if over."""
    by = "max_result_bytes" if truncated and len(triples) < cap else "max_rows"
    body = write_graph(triples, fmt, base_iri, truncated, cap, by, max_bytes)
    # The serializer's syntax (prefixes, escapes, JSON-LD's nesting) is not known before: cut further while over.
    for _ in range(8):
        if not max_bytes or len(body) <= max_bytes:
            break
        keep = min(len(triples) - 1, int(len(triples) * max_bytes / len(body) * 0.9))
        if keep <= 0:
            raise too_large(max_bytes)
        triples, truncated, by = triples[:keep], True, "max_result_bytes"
        body = write_graph(triples, fmt, base_iri, truncated, cap, by, max_bytes)
    else:
        raise too_large(max_bytes)
    return Rendered(body, fmt, truncated, len(triples), by)


def write_graph(triples: list[ox.Triple], fmt: F.Format, base_iri: str, truncated: bool, cap: int, by: str = "max_rows", max_bytes: int = 0) -> bytes:
    """Serialize a CONSTRUCT/DESCRIBE result, with a truncation comment where the format has comments."""
    body = F.serialize_graph(triples, fmt, base_iri)
    if not truncated:
        return body
    if by == "max_result_bytes":
        note = f"result truncated to {len(triples)} triples, the most that fit in {max_bytes} bytes (max_result_bytes)"
    else:
        note = f"result truncated to {cap} triples (max_rows)"
    if fmt in (F.TURTLE, F.NTRIPLES):
        return f"# {note}\n".encode() + body
    if fmt is F.RDFXML and body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + f"\n<!-- {note} -->".encode() + body[end:]
    return body
