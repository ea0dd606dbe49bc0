"""Running the app: the site is built once, then served by forked workers, on Granian (default) or gunicorn.

Granian (a Rust HTTP server) owns the connections asynchronously: an idle,
slow or half-sent connection costs no thread, headers must arrive within
``header_timeout``, and the app sees a request only once its body is whole
(:mod:`filmgraph.web.asgi`). Its workers are forked from the process that built
the site, as gunicorn's are with ``preload_app``, so the store and the site
index are loaded once. gunicorn (``--server gunicorn``) stays for comparison:
there a connection holds a thread from its first byte.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable

from gunicorn.app.base import BaseApplication

from ..core.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.site: object | None = None
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        self.cfg.set("bind", _bind(s.host, s.port))
        self.cfg.set("workers", s.workers)
        self.cfg.set("threads", s.threads)
        self.cfg.set("worker_class", "gthread")
        # The query time limit is enforced by query workers; gunicorn's own timeout is a last resort.
        self.cfg.set("timeout", int(s.query_timeout * 3) + 30)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("preload_app", True)
        self.cfg.set("limit_request_line", min(8190, max(4094, s.max_query_length * 3)))
        if s.access_log:
            self.cfg.set("accesslog", "-")
        self.cfg.set("worker_exit", _worker_exit)
        self.cfg.set("pre_request", _closing_past(s.max_body))
        # gunicorn would take SCRIPT_NAME and PATH_INFO from request headers of any peer in forwarded_allow_ips
        # (loopback by default, so anything a local proxy passes on): a client would choose the links of a page.
        # The site is served at the root (see web.create_app), never under a prefix a request names.
        self.cfg.set("forwarder_headers", "")
        # gunicorn's control socket defaults to one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
        # ~/.gunicorn/gunicorn.ctl): a second instance takes it over from the first, and stopping either removes
        # it. filmgraph is configured by its settings, not at run time, so it runs none.
        self.cfg.set("control_socket_disable", True)

    def load(self) -> object:
        from . import create_app

        app = create_app(self.settings)
        self.site = app
        # Said once the site is built: a data fault stops startup before anything listens.
        s = self.settings
        print(f"filmgraph: serving {s.base_iri} on http://{_bind(s.host, s.port)}/", file=sys.stderr)
        _freeze()
        return app


def _bind(host: str, port: int) -> str:
    """gunicorn's bind address: an IPv6 address goes in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(settings: Settings) -> None:
    """Build the store, then serve until stopped."""
    if settings.server == "granian":
        _serve_granian(settings)
        return
    server = _Gunicorn(settings)
    try:
        server.run()
    finally:
        # Release the store while the interpreter is whole: RocksDB torn down during
        # interpreter exit aborts the process ("terminate called after throwing ...").
        if server.site is not None:
            _release(server.site)
            server.site = None


def _serve_granian(settings: Settings) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    from . import create_app
    from .asgi import BufferedWSGI

    app = create_app(settings)
    from ..core.clients import parse_networks

    from .lean import LeanSparql

    front = BufferedWSGI(app, settings.threads, settings.max_body, settings.body_timeout, settings.max_client_requests, parse_networks(settings.trusted_proxies),
                         front_cache_bytes=settings.result_cache_mb * 2**20 // 4, fast=LeanSparql(app.extensions["filmgraph"]) if settings.lean_sparql else None)
    server = Server(
        "filmgraph",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGINL,
        workers=settings.workers,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(settings.header_timeout * 1000))),
        # Requests in flight per worker, waiting for their body or a thread included: an idle connection is
        # not one. Threads, not this, bound the work done at once.
        backlog=2048,
        backpressure=2048,
        respawn_failed_workers=True,
        workers_kill_timeout=max(1, int(settings.query_timeout) + 10),
        log_access=settings.access_log,
    )
    print(f"filmgraph: serving {settings.base_iri} on http://{_bind(settings.host, settings.port)}/ (granian)", file=sys.stderr)
    _freeze()
    try:
        server.serve(target_loader=lambda: front, wrap_loader=False)
    finally:
        _release(app)


def _freeze() -> None:
    """Before the web workers are forked: what the site built stays in the pages they share. The collector would
    write to every object it visits (its header), copying each page it is on into every worker; frozen, it never
    visits them."""
    gc.collect()
    gc.freeze()


def _release(app: object) -> None:
    """Stop the query workers and drop the store of an app, then collect."""
    services = app.extensions["filmgraph"]  # type: ignore[attr-defined]
    services.close()
    services.store.close()
    gc.collect()


def _closing_past(max_body: int) -> Callable[[object, object], None]:
    """A ``pre_request`` hook: a body declared over the limit is answered 413 unread, and then
    gunicorn drops the connection (it drains 64 KiB at most), so say ``Connection: close`` up
    front instead of ``keep-alive``: a client must not send its next request on that connection."""

    def pre_request(worker: object, req: object) -> None:
        length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")  # type: ignore[attr-defined]
        if length.isdigit() and int(length) > max_body:
            req.force_close()  # type: ignore[attr-defined]

    return pre_request


def _worker_exit(arbiter: object, worker: object) -> None:
    # A web worker has nothing to clean up (temporary folders belong to the master), and tearing
    # down the store it inherited across fork() aborts the interpreter; leave at once, cleanly.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
