"""A scripted HTTP server on loopback: records every request it gets, answers what a test tells it to.

Used two ways: as a *listener* that must see no hit (anything filmgraph fetches
because of client input would land here), and as a fake remote store whose
answers (JSON-LD with a remote ``@context``, RDF/XML with an external entity,
a redirect) try to make filmgraph fetch something else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What to send back: status, headers, body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Script = Callable[[Hit], Answer]


def _empty_results(hit: Hit) -> Answer:
    body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
    return Answer(200, {"Content-Type": "application/sparql-results+json"}, body)


class Loopback:
    """A threaded HTTP server on 127.0.0.1 that records hits; ``close()`` stops it."""

    def __init__(self, script: Script = _empty_results) -> None:
        self.hits: list[Hit] = []
        self.script = script
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                owner.hits.append(hit)
                answer = owner.script(hit)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int) -> bool:
    """True when something accepts connections on the loopback port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def session_from(address: str) -> requests.Session:
    """A requests session whose connections leave from ``address`` (127.0.0.2, 127.0.0.3 ...): to the server, another client."""
    from requests.adapters import HTTPAdapter

    class _From(HTTPAdapter):
        def init_poolmanager(self, *args: object, **kwargs: object) -> None:
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]

    session = requests.Session()
    session.mount("http://", _From())
    return session
