"""The WSGI app behind an asynchronous front: no connection holds a thread unless it has a whole request.

A WSGI app reads its body from a blocking stream, so under a WSGI server a
client that sends headers and half a body holds a worker thread until it sends
the rest (tried: 40 such clients froze the site). Here the asynchronous server
(Granian) owns the connections; this ASGI app reads the whole body in the event
loop, bounded in size (``max_body``: 413 at once for a declared size over it,
and as soon as a chunked one passes it) and in time (``body_timeout``: 408),
and only then hands the request to the WSGI app on a thread of a fixed pool.
A query answer the app marks as the same for every identical request (the
store is read-only) is kept here too, and the next identical request is
answered by the event loop without a thread or the app. A fast path (``fast``:
filmgraph's lean ``/sparql``, :mod:`filmgraph.web.lean`) may answer a request
first, in the event loop; what it leaves goes to the app as before.
One client (its address, or behind a trusted proxy the address it names) may
have at most ``max_client_requests`` requests in flight in a worker: past it,
429 at once, whatever state its other requests are in.
The answer comes back whole (every answer filmgraph writes is bounded, or a file)
and the event loop sends it, so a slow reader holds no thread either; a file
(``wsgi.file_wrapper``, as ``send_file`` uses for dumps) is sent in blocks.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..core.clients import Network, client_key
from ..core.numbers import ascii_int

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

BLOCK = 256 * 1024
"""Bytes of a file sent at a time."""
DRAIN = 64 * 2**20
DRAIN_SECONDS = 5.0
"""How much, and for how long, a refused body is read and dropped before the answer is sent."""


class FileWrapper:
    """``wsgi.file_wrapper``: marks a file answer, so that the event loop sends it in blocks."""

    def __init__(self, file: Any, block_size: int = BLOCK) -> None:
        self.file = file
        self.block_size = block_size

    def __iter__(self) -> Any:
        return iter(lambda: self.file.read(self.block_size), b"")

    def close(self) -> None:
        close = getattr(self.file, "close", None)
        if close is not None:
            close()


@dataclass
class Answer:
    """A whole answer made by a fast path (:attr:`BufferedWSGI.fast`) in the event loop, without the app."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    fixed: bool = False
    """The same bytes for every identical request: the front may keep it, as an answer the app marks."""


Fast = Callable[[Scope, bytes], Awaitable["Answer | dict[str, Any] | None"]]
"""A fast path: a whole request in, an :class:`Answer` out; or entries to add to the app's environ; or None (the app's)."""


class BufferedWSGI:
    """An ASGI app (HTTP only, no lifespan) that runs a WSGI app on ``threads`` threads once a request is whole."""

    def __init__(self, app: Callable[..., Iterable[bytes]], threads: int, max_body: int, body_timeout: float,
                 per_client: int = 0, trusted: Sequence[Network] = (), front_cache_bytes: int = 0, fast: Fast | None = None) -> None:
        self.app = app
        self.fast = fast
        """Tried first on every request the front does not answer from its cache (filmgraph's lean ``/sparql``)."""
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.threads = threads
        self.per_client = per_client
        """Requests one client may have in flight in this worker (sending its body, waiting, running); 0: no cap."""
        self.trusted = trusted
        self._in_flight: dict[str, int] = {}
        self.front = _FrontCache(front_cache_bytes)
        """Whole answers the app marked as fixed for their request (query answers of the read-only store)."""
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        # Made on first use: in the server's worker process, never in the parent it was forked from.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="filmgraph-web")
        return self._pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if not self.per_client:
            await self._serve(scope, receive, send)
            return
        client = self._client(scope)
        held = self._in_flight.get(client, 0)
        if held >= self.per_client:
            await self._drain(receive)
            await _plain(send, 429, f"this client has {held} requests in flight here, the most one client may have (setting max_client_requests)", [(b"retry-after", b"1")])
            return
        self._in_flight[client] = held + 1  # one event loop per worker: no lock needed
        try:
            await self._serve(scope, receive, send)
        finally:
            left = self._in_flight[client] - 1
            if left:
                self._in_flight[client] = left
            else:
                del self._in_flight[client]

    def _client(self, scope: Scope) -> str:
        peer = (scope.get("client") or ("", 0))[0]
        forwarded_for = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"forwarded"]
        return client_key(str(peer), forwarded_for, forwarded, self.trusted)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-length")
        length = None if declared is None else ascii_int(declared)
        if declared is not None and (length is None or length > self.max_body):
            await self._drain(receive)
            await _plain(send, 400 if length is None else 413, "Content-Length is not a number" if length is None else _too_large(self.max_body))
            return
        try:
            async with asyncio.timeout(self.body_timeout):  # no task a request, as wait_for would make
                body = await self._body(receive)
        except TimeoutError:
            await _plain(send, 408, f"the request body did not arrive within {self.body_timeout:g} s (setting body_timeout)")
            return
        except _BadBody as exc:
            # Granian reports a body it cannot read (bad chunk framing) as a disconnect: the client may well be
            # waiting for an answer. If it has really gone, the answer goes nowhere.
            await _plain(send, 400, f"the request body is malformed or cut short{': ' + str(exc) if str(exc) else ''}")
            return
        if body is None:
            await self._drain(receive)
            await _plain(send, 413, _too_large(self.max_body))
            return
        key = self.front.key(scope, body)
        if key is not None:
            held = self.front.get(key)
            if held is not None:  # answered from the event loop: no thread, no app
                await send({"type": "http.response.start", "status": 200, "headers": held[0]})
                await send({"type": "http.response.body", "body": held[1], "more_body": False})
                return
        extra: dict[str, Any] | None = None
        if self.fast is not None:
            made = await self.fast(scope, body)
            if isinstance(made, Answer):
                if key is not None and made.fixed and made.status == 200:
                    self.front.put(key, made.headers, made.body)
                await send({"type": "http.response.start", "status": made.status, "headers": made.headers})
                await send({"type": "http.response.body", "body": made.body, "more_body": False})
                return
            extra = made
        environ = _environ(scope, body)
        if extra:
            environ.update(extra)
        if key is not None:
            environ["filmgraph.front_cache"] = True
        loop = asyncio.get_running_loop()
        status, headers, chunks, file = await loop.run_in_executor(self.pool, _call, self.app, environ)
        if any(name == FRONT_HEADER for name, _ in headers):
            headers = [(name, value) for name, value in headers if name != FRONT_HEADER]
            if key is not None and status == 200 and file is None:
                self.front.put(key, headers, b"".join(chunks))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if file is not None:
            try:
                while True:
                    block = await loop.run_in_executor(self.pool, file.file.read, file.block_size)
                    if not block:
                        break
                    await send({"type": "http.response.body", "body": block, "more_body": True})
            finally:
                file.close()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})

    async def _drain(self, receive: Receive) -> None:
        """Read and drop what a refused body still sends, for a while: a connection closed with unread bytes is
        reset, and a reset can take the answer with it before the client reads it."""
        async def drain() -> None:
            dropped = 0
            while dropped <= DRAIN:
                try:
                    message = await receive()
                except Exception:
                    return
                dropped += len(message.get("body", b""))
                if message["type"] == "http.disconnect" or not message.get("more_body", False):
                    return

        try:
            await asyncio.wait_for(drain(), min(self.body_timeout, DRAIN_SECONDS))
        except asyncio.TimeoutError:
            pass

    async def _body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes ``max_body``."""
        data = bytearray()
        while True:
            try:
                message = await receive()
            except Exception as exc:  # the server could not read the body: bad chunk framing, a reset
                raise _BadBody(str(exc)[:100] or type(exc).__name__) from None
            if message["type"] == "http.disconnect":
                raise _BadBody("")
            data += message.get("body", b"")
            if len(data) > self.max_body:
                return None
            if not message.get("more_body", False):
                return bytes(data)


class _BadBody(Exception):
    pass


FRONT_HEADER = b"x-filmgraph-front"
"""Set by the app on an answer that is the same for every request with the same method, target, Host, Accept,
Content-Type and body (a query answer of the read-only store: no SERVICE, nothing volatile); never sent on."""
_FRONT_PATHS = {"/sparql"}


class _FrontCache:
    """A small LRU of whole answers, bounded in bytes (keys counted), kept by the event loop of one worker."""

    def __init__(self, budget: int) -> None:
        from collections import OrderedDict

        self.budget = budget
        self._items: OrderedDict[tuple[bytes, ...], tuple[list[tuple[bytes, bytes]], bytes, int]] = OrderedDict()
        self._size = 0

    def key(self, scope: Scope, body: bytes) -> tuple[bytes, ...] | None:
        if not self.budget or scope["method"] not in ("GET", "POST") or scope["path"] not in _FRONT_PATHS:
            return None
        wanted = {b"host": b"", b"accept": b"", b"content-type": b""}
        for name, value in scope["headers"]:
            name = name.lower()
            if name in (b"if-none-match", b"if-modified-since", b"range"):
                return None  # conditional or partial: the app decides
            if name in wanted:
                wanted[name] += value + b"\n"
        return (scope["method"].encode(), scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""),
                wanted[b"host"], wanted[b"accept"], wanted[b"content-type"], body)

    def get(self, key: tuple[bytes, ...]) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0], found[1]

    def put(self, key: tuple[bytes, ...], headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        size = sum(map(len, key)) + len(body) + sum(len(a) + len(b) for a, b in headers) + 200
        if size > self.budget // 16:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._size -= old[2]
        self._items[key] = (headers, body, size)
        self._size += size
        while self._size > self.budget and self._items:
            _, dropped = self._items.popitem(last=False)
            self._size -= dropped[2]


def _too_large(limit: int) -> str:
    return f"request body is over the limit of {limit} bytes (setting max_body)"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


async def _plain(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """An answer made here, before the app sees the request: the connection is closed after it."""
    body = f"{status} {message}\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), (b"connection", b"close"), *(extra or [])]
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
    except Exception:  # the client has gone: nobody to tell
        pass


def _environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ASGI request whose body has been read (PEP 3333 from the ASGI HTTP scope)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path")
    if raw_path is not None:
        from urllib.parse import unquote_to_bytes

        path = unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("latin-1")
    else:
        path = scope["path"].encode("utf-8").decode("latin-1")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }
    for key, value in scope["headers"]:
        name = key.decode("latin-1").upper().replace("-", "_")
        if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the body is whole: its length is known
        text = value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = text
            continue
        name = "HTTP_" + name
        environ[name] = f"{environ[name]},{text}" if name in environ else text
    return environ


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], list[bytes], FileWrapper | None]:
    """Run the WSGI app on a pool thread; return its status, headers and whole answer (or the file to send)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [status, headers]
        return lambda data: None

    try:
        result = app(environ, start_response)
        if isinstance(result, FileWrapper):
            return _status(started), _headers(started), [], result
        try:
            chunks = [bytes(c) for c in result]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception as exc:  # the app maps its own errors; this is a fault of the app itself
        print(f"filmgraph: unhandled {type(exc).__name__} in the app: {exc}", file=sys.stderr)
        body = b"500 Internal error\n"
        return 500, [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())], [body], None
    return _status(started), _headers(started), chunks, None


def _status(started: list[Any]) -> int:
    return int(str(started[0]).split(" ", 1)[0])


def _headers(started: list[Any]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in started[1]]
