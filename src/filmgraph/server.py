"""Running the app on gunicorn: the site is built once, then served by forked workers."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from .settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        self.cfg.set("bind", f"{s.host}:{s.port}")
        self.cfg.set("workers", s.workers)
        self.cfg.set("threads", s.threads)
        self.cfg.set("worker_class", "gthread")
        # The query time limit is enforced by query workers; gunicorn's own timeout is a last resort.
        self.cfg.set("timeout", int(s.query_timeout * 3) + 30)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("preload_app", True)
        self.cfg.set("limit_request_line", min(8190, max(4094, s.max_query_length * 3)))
        self.cfg.set("accesslog", "-")

    def load(self) -> object:
        from .web import create_app

        app = create_app(self.settings)
        # Said once the site is built: a data fault stops startup before anything listens.
        s = self.settings
        print(f"filmgraph: serving {s.base_iri} on http://{s.host}:{s.port}/", file=sys.stderr)
        return app


def serve(settings: Settings) -> None:
    """Build the store, then serve until stopped."""
    _Gunicorn(settings).run()
