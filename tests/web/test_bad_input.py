"""A precise 4xx for every bad input (issue 12), never a 5xx for the client's fault.

Numbers in digits of other scripts (``²``, ``①``, ``٣``, ``３``), invalid
percent-encoded UTF-8, chunked bodies over ``max_body`` (over real sockets, to
werkzeug's server and to ``filmgraph serve``), malformed q-values, Range headers
of other units or past the end, Retry-After on every 503, and answers that change
on every evaluation (never cached, never tagged).
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Response
from werkzeug.exceptions import ServiceUnavailable

from filmgraph.core.errors import BadRequest, QueryTimeout, Unavailable
from filmgraph.formats.negotiate import weight
from filmgraph.core.numbers import ascii_int, client_int
from filmgraph.reconcile.extend import values
from filmgraph.reconcile.index import Entry, Value
from filmgraph.reconcile.matching import split_year
from filmgraph.reconcile.schema import PROPERTY_BY_ID
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

from ..loopback import free_port, port_is_open

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = 60_000
UNICODE_DIGITS = ["²", "①", "٣", "３", "١٩٦٠", "１９６０", "-٣", "--5", "5-", " 5", "+5", "0x10", "1e3", "9" * 101]
"""Digits of other scripts and other things that are no ASCII integer (``int()`` or ``isdigit()`` say yes to many)."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The shipped dataset with a result cache (the default), a small body limit, and no query workers."""
    s = Settings(max_body=MAX_BODY, query_workers=0, query_timeout=3.0)
    svc = Services.build(s, EmbeddedStore.build(s, tmp_path_factory.mktemp("bad-input") / "store"))
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def bad_app(site: Services):  # type: ignore[no-untyped-def]
    """The app, with a few routes that fail as a backend would (503s)."""
    app = create_app(site.settings, site)
    app.config["TESTING"] = True

    def timeout() -> Response:
        raise QueryTimeout("the query ran past the time limit of 3 s (setting query_timeout)", limit="query_timeout")

    def unavailable() -> Response:
        raise Unavailable("the remote store is unreachable")

    def unavailable_for_a_while() -> Response:
        raise Unavailable("the query queue is full", retry_after=2.5)

    def werkzeug_503() -> Response:
        raise ServiceUnavailable()

    def plain_503() -> Response:
        return Response("away\n", status=503, content_type="text/plain; charset=utf-8")

    for view in (timeout, unavailable, unavailable_for_a_while, werkzeug_503, plain_503):
        app.add_url_rule(f"/_test/{view.__name__}", view.__name__, view)
    return app


@pytest.fixture()
def web(bad_app):  # type: ignore[no-untyped-def]
    """A test client of that app."""
    return bad_app.test_client()


# -- 1. numbers: ASCII digits only ------------------------------------------------------------------


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_ascii_int_reads_nothing_but_ascii_digits(text: str) -> None:
    assert ascii_int(text, signed=True) is None
    with pytest.raises(BadRequest, match="limit="):
        client_int("limit", text)


def test_ascii_int_reads_ascii_digits_and_a_sign_where_allowed() -> None:
    assert ascii_int("1960") == 1960 and ascii_int("007") == 7 and ascii_int("-12", signed=True) == -12
    assert ascii_int("-12") is None
    assert client_int("cursor", "99999999999999999999", most=10_000) == 10_000


@pytest.mark.parametrize("text", UNICODE_DIGITS)
def test_a_listing_year_in_other_digits_is_a_400_naming_the_parameter(web, text: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/film/", query_string={"year": text})
    assert r.status_code == 400, r.get_data()[:300]
    assert b"year=" in r.get_data()


@pytest.mark.parametrize("path", ["/reconcile/suggest/entity", "/reconcile/suggest/type", "/reconcile/v1/suggest/property"])
@pytest.mark.parametrize("name", ["cursor", "limit"])
@pytest.mark.parametrize("text", ["²", "①", "٣", "３", "-1", "9" * 5000])
def test_a_suggest_cursor_or_limit_in_other_digits_is_a_400(web, path: str, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get(path, query_string={"prefix": "a", name: text})
    assert r.status_code == 400, r.get_data()[:300]
    assert f"{name}=".encode() in r.get_data()


@pytest.mark.parametrize("path", ["/reconcile/extend/propose", "/reconcile/v1/extend/propose"])
@pytest.mark.parametrize("text", ["²", "①", "٣", "３"])
def test_a_propose_limit_in_other_digits_is_a_400(web, path: str, text: str) -> None:  # type: ignore[no-untyped-def]
    assert web.get(path, query_string={"limit": text}).status_code == 400


@pytest.mark.parametrize("value", ["²²²²", "①②③④", "١٩٢٤", "１９２４", ["²²²²"], {"name": "①②③④"}])
def test_a_reconciliation_year_in_other_digits_is_a_400(web, value: object) -> None:  # type: ignore[no-untyped-def]
    batch = {"q0": {"query": "Aelita", "properties": [{"pid": "year", "v": value}]}}
    r = web.post("/reconcile", data={"queries": json.dumps(batch)})
    assert r.status_code == 400 and b"year" in r.get_data(), r.get_data()[:300]
    v1 = {"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Aelita"}, {"matchType": "property", "propertyId": "year", "propertyValue": value}]}]}
    r = web.post("/reconcile/v1/match", json=v1)
    assert r.status_code == 400 and b"year" in r.get_data(), r.get_data()[:300]


def test_a_reconciliation_year_in_ascii_digits_still_matches(web) -> None:  # type: ignore[no-untyped-def]
    batch = {"q0": {"query": "Aelita", "properties": [{"pid": "year", "v": "1924-09-25"}]}}
    r = web.post("/reconcile", data={"queries": json.dumps(batch)})
    assert r.status_code == 200 and r.get_json()["q0"]["result"][0]["id"] == "film/aelita"


@pytest.mark.parametrize("limit", ["²", "①", "٣", "３", True, 2.5, [1], {"n": 1}])
def test_an_extension_limit_setting_in_other_digits_is_a_400(web, limit: object) -> None:  # type: ignore[no-untyped-def]
    query = {"ids": ["film/aelita"], "properties": [{"id": "year", "settings": {"limit": limit}}]}
    r = web.post("/reconcile", data={"extend": json.dumps(query)})
    assert r.status_code == 400 and b"limit" in r.get_data(), r.get_data()[:300]
    r = web.post("/reconcile/v1/extend", json=query)
    assert r.status_code == 400 and b"limit" in r.get_data(), r.get_data()[:300]


def test_an_extension_limit_setting_in_ascii_digits_is_read(web) -> None:  # type: ignore[no-untyped-def]
    query = {"ids": ["film/aelita"], "properties": [{"id": "year", "settings": {"limit": "1"}}]}
    assert web.post("/reconcile/v1/extend", json=query).status_code == 200


@pytest.mark.parametrize("text", ["²", "①", "٣", "-٣"])
def test_a_number_property_value_in_other_digits_is_text_not_a_fault(text: str) -> None:
    entry = Entry("film/x", "https://w3id.org/filmgraph/film/x", ("film",), {"listPosition": (Value(text),)})
    assert values(None, entry, PROPERTY_BY_ID["list_position"]) == [{"str": text}]  # type: ignore[arg-type]


def test_a_trailing_year_in_other_digits_is_part_of_the_title() -> None:
    assert split_year("Aelita (1924)") == ("Aelita", 1924)
    assert split_year("Aelita (١٩٢٤)") == ("Aelita (١٩٢٤)", None)
    assert split_year("Aelita (１９２４)") == ("Aelita (１９２４)", None)


# -- 2. invalid percent-encoded UTF-8 -----------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/sparql?query=ASK%7B%7D%23%FF",  # in a comment: the query would run with U+FFFD in it
    "/sparql?query=ASK%7B%7D%23%C3%28",
    "/sparql?query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fx%2F%E2%82",
    "/search?q=aelita%FF",
    "/film/?after=%C3%28",
    "/reconcile/suggest/entity?prefix=ae%FE",
    "/reconcile?query=Aelita%ED%A0%80",  # an encoded surrogate is not UTF-8 either
])
def test_invalid_percent_encoded_utf8_in_a_query_string_is_a_400(web, path: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get(path)
    assert r.status_code == 400, r.get_data()[:300]
    assert b"UTF-8" in r.get_data()


def test_valid_percent_encoded_utf8_in_a_query_string_is_read(web) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/sparql?query=ASK%7B%7D%23%C3%A9%E2%82%AC+%F0%9F%9A%80")
    assert r.status_code == 200 and r.get_json()["boolean"] is True


@pytest.mark.parametrize("path", ["/sparql", "/reconcile"])
def test_invalid_utf8_in_a_form_body_is_a_400(web, path: str) -> None:  # type: ignore[no-untyped-def]
    r = web.post(path, data=b"query=ASK%7B%7D%23%FF", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and b"UTF-8" in r.get_data(), r.get_data()[:300]


# -- 3. every body held to max_body, sized or chunked -------------------------------------------------

BODIES = {
    "direct POST": ("/sparql", "application/sparql-query", b"ASK {} #"),
    "form POST": ("/sparql", "application/x-www-form-urlencoded", b"query=ASK%7B%7D%23"),
    "reconciliation form": ("/reconcile", "application/x-www-form-urlencoded", b"query=Aelita"),
    "reconciliation JSON": ("/reconcile/v1/match", "application/json", b'{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "Aelita"}]}]}'),
    "extension JSON": ("/reconcile/v1/extend", "application/json", b'{"ids": ["film/aelita"], "properties": [{"id": "year"}]}'),
}


def _body(name: str, size: int) -> tuple[str, str, bytes]:
    """A body of exactly ``size`` bytes for a route: its head, then padding that changes nothing (a comment, blanks, a field)."""
    path, ctype, head = BODIES[name]
    if head.endswith((b"#", b"%23")):
        body = head + b"x" * (size - len(head))
    elif ctype == "application/json":
        body = head + b" " * (size - len(head))
    else:
        body = head + b"&pad=" + b"x" * (size - len(head) - 5)
    assert len(body) == size
    return path, ctype, body


def _states_the_limit(text: bytes) -> bool:
    return f"{MAX_BODY} bytes".encode() in text and b"max_body" in text


@pytest.mark.parametrize("name", list(BODIES))
def test_a_chunked_body_over_max_body_is_a_413_stating_the_limit(web, name: str) -> None:  # type: ignore[no-untyped-def]
    path, ctype, body = _body(name, MAX_BODY + 1)
    r = web.post(path, input_stream=io.BytesIO(body), headers={"Content-Type": ctype, "Transfer-Encoding": "chunked"})
    assert r.status_code == 413 and _states_the_limit(r.get_data()), r.get_data()[:300]


@pytest.mark.parametrize("name", list(BODIES))
def test_a_chunked_body_of_max_body_is_read_whole(web, name: str) -> None:  # type: ignore[no-untyped-def]
    path, ctype, body = _body(name, MAX_BODY)
    r = web.post(path, input_stream=io.BytesIO(body), headers={"Content-Type": ctype, "Transfer-Encoding": "chunked"})
    assert r.status_code == 200, r.get_data()[:300]


@pytest.mark.parametrize("name", list(BODIES))
def test_a_sized_body_over_max_body_is_a_413_stating_the_limit(web, name: str) -> None:  # type: ignore[no-untyped-def]
    path, ctype, body = _body(name, MAX_BODY + 1)
    r = web.post(path, data=body, headers={"Content-Type": ctype})
    assert r.status_code == 413 and _states_the_limit(r.get_data()), r.get_data()[:300]


def test_a_form_of_too_many_fields_says_so_not_that_the_body_is_too_large(web) -> None:  # type: ignore[no-untyped-def]
    part = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
    body = part * 1001 + b"--b--\r\n"
    assert len(body) < MAX_BODY
    r = web.post("/reconcile", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and b"fields" in r.get_data() and b"max_body" not in r.get_data(), r.get_data()[:300]


def _raw_post(port: int, path: str, ctype: str, body: bytes, chunked: bool, chunk: int = 700, half_close: bool = True) -> tuple[int, dict[str, str], bytes]:
    """POST over a real socket, the body chunked or sized, sent whole before the answer is read.

    With ``half_close`` the client then shuts its sending side (werkzeug's server reads past a 413 until it
    does); Granian (hyper) closes a connection whose client half-closed without answering, so not there.
    """
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\nConnection: close\r\n"
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        payload = b"".join(f"{len(body[i:i + chunk]):x}\r\n".encode() + body[i:i + chunk] + b"\r\n" for i in range(0, len(body), chunk)) + b"0\r\n\r\n"
    else:
        head += f"Content-Length: {len(body)}\r\n\r\n"
        payload = body
    return _exchange(port, head.encode() + payload, half_close)


def _exchange(port: int, request: bytes, half_close: bool = True) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes, then read the whole answer: status, headers (lowercase names), body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request)
            # Said sent: werkzeug's server reads what a client sent past a 413 until the client stops sending.
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading all of it: the answer is what counts
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    if not received:
        return 0, {}, b""
    status_line, _, rest = received.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    headers = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        content = _dechunk(content)
    return int(status_line.split()[1]), headers, content


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


@pytest.fixture(scope="module")
def werkzeug_server(bad_app, serve_app):  # type: ignore[no-untyped-def]
    """The app on werkzeug's threaded server, on a loopback port."""
    server = serve_app(bad_app)
    return int(server.url.rsplit(":", 1)[1])


class Serve:
    """``filmgraph serve`` (Granian or gunicorn) on a free loopback port with a small ``--max-body``; ``stop()`` ends it."""

    def __init__(self, store: Path, log: Path, server: str = "granian") -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "filmgraph.cli", "serve", "--store-path", str(store), "--port", str(self.port),
                "--max-body", str(MAX_BODY), "--workers", "1", "--threads", "4", "--server", server, "--body-timeout", "3"]
        self._log = log.open("wb")
        self.log = log
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 90
        while not port_is_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"filmgraph serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def gunicorn_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``filmgraph serve`` over a store made by ``filmgraph build``, on each HTTP server it offers."""
    work = tmp_path_factory.mktemp("serve")
    built = subprocess.run([sys.executable, "-m", "filmgraph.cli", "build", str(work / "store")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    server = Serve(work / "store", work / "serve.log", request.param)
    yield server.port
    server.stop()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "sized"])
@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_over_max_body_is_a_413_stating_the_limit_over_a_socket_to_werkzeug(werkzeug_server: int, name: str, chunked: bool) -> None:
    path, ctype, body = _body(name, MAX_BODY + 1)
    status, _, content = _raw_post(werkzeug_server, path, ctype, body, chunked)
    assert status == 413 and _states_the_limit(content), content[:300]
    path, ctype, body = _body(name, MAX_BODY)
    status, _, content = _raw_post(werkzeug_server, path, ctype, body, chunked)
    assert status == 200, content[:300]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "sized"])
@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_over_max_body_is_a_413_stating_the_limit_over_a_socket_to_filmgraph_serve(gunicorn_server: int, name: str, chunked: bool) -> None:
    path, ctype, body = _body(name, MAX_BODY + 1)
    status, _, content = _raw_post(gunicorn_server, path, ctype, body, chunked, half_close=False)
    assert status == 413 and _states_the_limit(content), content[:300]
    path, ctype, body = _body(name, MAX_BODY)
    status, _, content = _raw_post(gunicorn_server, path, ctype, body, chunked, half_close=False)
    assert status == 200, content[:300]


MALFORMED_CHUNKS = {
    "bad chunk size": b"zz\r\nASK {}\r\n0\r\n\r\n",
    "negative chunk size": b"-1\r\nx\r\n0\r\n\r\n",
    "chunk without its line end": b"6\r\nASK {}",
    "no last chunk": b"6\r\nASK {}\r\n",
}


def _malformed(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head = f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    return _exchange(port, head.encode() + raw)


@pytest.mark.parametrize("name", list(MALFORMED_CHUNKS))
def test_a_malformed_chunked_body_is_a_client_error_over_a_socket_to_werkzeug(werkzeug_server: int, name: str) -> None:
    status, _, content = _malformed(werkzeug_server, MALFORMED_CHUNKS[name])
    assert 400 <= status < 500, (status, content[:300])


@pytest.mark.parametrize("name", list(MALFORMED_CHUNKS))
def test_a_malformed_chunked_body_is_a_client_error_over_a_socket_to_filmgraph_serve(gunicorn_server: int, name: str) -> None:
    status, _, content = _malformed(gunicorn_server, MALFORMED_CHUNKS[name])
    assert status == 0 or 400 <= status < 500, (status, content[:300])  # 0: the server closed without an answer


def test_a_long_chunked_body_is_refused_having_read_no_more_than_the_limit(werkzeug_server: int) -> None:
    """Far more than the limit, chunked: a 413, not a body cut short at the limit and run."""
    status, _, content = _raw_post(werkzeug_server, "/sparql", "application/sparql-query", b"ASK {} #" + b"x" * (MAX_BODY * 5), True)
    assert status == 413 and _states_the_limit(content), content[:300]


# -- 4. negotiation: q-values as RFC 9110 section 12.4.2 says --------------------------------------------


@pytest.mark.parametrize("accept", ["text/turtle;q=2", "text/turtle;q=abc", "text/turtle;q=-1", "text/turtle;q=0.1234", "text/turtle;q=", "text/turtle; q=1e3", "text/turtle;q=2, text/html;q=0.5"])
def test_a_malformed_or_out_of_range_q_value_is_ignored_not_a_406(web, accept: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/film/aelita", headers={"Accept": accept})
    assert r.status_code == 303 and r.headers["Location"].endswith("/film/aelita.ttl"), (r.status_code, r.get_data()[:200])


@pytest.mark.parametrize("q, expected", [(None, 1.0), ("1", 1.0), ("0.5", 0.5), ("0.1234", 0.123), ("0.0001", 0.001), ("0", 0.0), ("0.000", 0.0), ("2", 1.0), ("-1", 1.0), ("abc", 1.0), ("", 1.0), ("٠.٥", 1.0)])
def test_a_q_value_weighs_as_the_rfc_says(q: str | None, expected: float) -> None:
    assert weight(q) == expected


def test_a_q_of_zero_still_refuses_a_format(web) -> None:  # type: ignore[no-untyped-def]
    assert web.get("/film/aelita", headers={"Accept": "text/turtle;q=0"}).status_code == 406
    r = web.get("/film/aelita", headers={"Accept": "text/turtle;q=0.0001, text/html;q=0"})
    assert r.status_code == 303 and r.headers["Location"].endswith(".ttl")


# -- 5. Range ----------------------------------------------------------------------------------------------

DUMP = "/dumps/filmgraph.nt"


def _fetch(client, path: str, range_: str | None = None) -> tuple[int, dict[str, str], bytes]:  # type: ignore[no-untyped-def]
    """GET a file (closing the response: a file is open behind it)."""
    with client.get(path, headers={"Range": range_} if range_ else {}) as r:
        return r.status_code, dict(r.headers), r.get_data()


@pytest.fixture(scope="module")
def dump_bytes(bad_app) -> bytes:  # type: ignore[no-untyped-def]
    """The whole dump, as a GET without Range gets it."""
    status, _, body = _fetch(bad_app.test_client(), DUMP)
    assert status == 200
    return body


@pytest.mark.parametrize("value", ["items=0-5", "rows=1-2", "bytes=abc", "bytes=5-2", "bytes=²-5", "bytes=0-1,5-9", "bytes 0-5", "=0-5"])
def test_a_range_of_another_unit_or_malformed_is_ignored(web, dump_bytes: bytes, value: str) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = _fetch(web, DUMP, value)
    assert status == 200 and body == dump_bytes
    assert "Content-Range" not in headers


@pytest.mark.parametrize("value", ["bytes=99999999-", "bytes=99999999-100000000"])
def test_an_unsatisfiable_byte_range_is_a_416_with_the_full_length(web, dump_bytes: bytes, value: str) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = _fetch(web, DUMP, value)
    assert status == 416, body[:300]
    assert headers["Content-Range"] == f"bytes */{len(dump_bytes)}"


def test_a_satisfiable_byte_range_is_a_206(web, dump_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = _fetch(web, DUMP, "bytes=10-19")
    assert status == 206 and body == dump_bytes[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(dump_bytes)}"


def test_a_suffix_range_longer_than_the_file_is_the_whole_file(web, dump_bytes: bytes) -> None:  # type: ignore[no-untyped-def]
    status, _, body = _fetch(web, DUMP, f"bytes=-{len(dump_bytes) * 10}")
    assert status in (200, 206) and body == dump_bytes


def test_a_static_file_ignores_a_range_of_another_unit(web) -> None:  # type: ignore[no-untyped-def]
    status, _, whole = _fetch(web, "/static/filmgraph.css")
    assert status == 200
    assert _fetch(web, "/static/filmgraph.css", "items=0-5")[::2] == (200, whole)


# -- 6. Retry-After on every 503 ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_test/timeout", "/_test/unavailable", "/_test/werkzeug_503", "/_test/plain_503"])
@pytest.mark.parametrize("accept", ["", "application/json", "text/html"])
def test_every_503_says_retry_after(web, path: str, accept: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get(path, headers={"Accept": accept})
    assert r.status_code == 503
    assert r.headers.get("Retry-After", "").isascii() and int(r.headers["Retry-After"]) >= 1


def test_a_503_that_knows_when_to_come_back_says_so(web) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/_test/unavailable_for_a_while", headers={"Accept": "application/json"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"


def test_a_health_check_that_is_not_ready_says_retry_after(web, site: Services, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def away(*args: object, **kwargs: object) -> bool:
        raise Unavailable("the store is away")

    monkeypatch.setattr(site.store, "ask", away)
    r = web.get("/healthz")
    assert r.status_code == 503 and "Retry-After" in r.headers


# -- 7. nothing that changes per evaluation is cached or tagged ----------------------------------------------


@pytest.mark.parametrize("expression", ["STRUUID()", "UUID()", "RAND()", "BNODE()", "NOW()", "CONCAT(STR(RAND()), \"x\")"])
def test_a_volatile_query_is_evaluated_every_time_and_never_tagged(web, expression: str) -> None:  # type: ignore[no-untyped-def]
    query = f"SELECT ?v WHERE {{ BIND({expression} AS ?v) }}"
    answers = []
    for _ in range(2):
        r = web.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.get_data()[:300]
        assert "ETag" not in r.headers
        assert r.headers["Cache-Control"] == "no-store"
        answers.append(r.get_json()["results"]["bindings"][0]["v"]["value"])
        time.sleep(0.01)  # NOW() moves on
    assert answers[0] != answers[1]


def test_a_volatile_query_is_neither_looked_up_in_nor_kept_in_the_result_cache(web, site: Services) -> None:  # type: ignore[no-untyped-def]
    cache = site.query.cache
    assert cache is not None
    looked_up, kept = cache.hits + cache.misses, len(cache._items)
    r = web.get("/sparql", query_string={"query": "SELECT (STRUUID() AS ?u) {} # not kept"})
    assert r.status_code == 200
    assert (cache.hits + cache.misses, len(cache._items)) == (looked_up, kept)


def test_a_steady_query_is_still_tagged_and_revalidated(web) -> None:  # type: ignore[no-untyped-def]
    query = {"query": "SELECT (STRLEN(\"uuid()\") AS ?n) WHERE {}"}
    r = web.get("/sparql", query_string=query)
    assert r.status_code == 200 and r.headers.get("ETag") and r.headers["Cache-Control"] == "no-cache"
    again = web.get("/sparql", query_string=query, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


# -- found by the long fuzz run ----------------------------------------------------------------------------


@pytest.mark.parametrize("callback", ["A¹", "x٣", "cb①", "é", "a.b²"])
def test_a_jsonp_callback_of_other_scripts_letters_or_digits_is_a_400(web, callback: str) -> None:  # type: ignore[no-untyped-def]
    r = web.get("/reconcile/extend/propose", query_string={"callback": callback})
    assert r.status_code == 400 and b"callback" in r.get_data(), r.get_data()[:300]


@pytest.mark.parametrize("path, body", [
    ("/reconcile/v1/extend", b'{"ids": ["\xed\xa0\x80film/aelita"], "properties": []}'),  # a surrogate's bytes: not UTF-8
    ("/reconcile/v1/extend", b'{"ids": ["\\ud800film/aelita"], "properties": []}'),  # a lone surrogate escape: no character
    ("/reconcile/v1/match", b'{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "\\udc00"}]}]}'),
])
def test_a_json_body_with_a_lone_surrogate_is_a_400(web, path: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    r = web.post(path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data()[:300]


def test_a_lone_surrogate_escape_in_a_reconciliation_form_is_a_400(web) -> None:  # type: ignore[no-untyped-def]
    r = web.post("/reconcile", data={"queries": '{"\\ud800": {"query": "Aelita"}}'})
    assert r.status_code == 400, r.get_data()[:300]


def test_a_surrogate_pair_escape_is_a_character(web) -> None:  # type: ignore[no-untyped-def]
    r = web.post("/reconcile/v1/extend", data=b'{"ids": ["\\ud83d\\ude80"], "properties": []}', headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.get_json()["rows"][0]["id"] == "\U0001f680"
