"""Factory-built fixtures: settings, services, the app, a test client and a live server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from werkzeug.serving import make_server

from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ACCEPTANCE = SHARED / "acceptance-data"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The checkout's root."""
    return ROOT


@pytest.fixture(scope="module")
def ontology(repo_dir: Path) -> Graph:
    """The ontology file, parsed with rdflib (a fresh graph per module: tests may add to it)."""
    return Graph().parse(repo_dir / "ontology" / "filmgraph.ttl", format="turtle")


@pytest.fixture(scope="module")
def shapes(repo_dir: Path) -> Graph:
    """The SHACL shapes file, parsed with rdflib."""
    return Graph().parse(repo_dir / "ontology" / "shapes.ttl", format="turtle")


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test when that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (the shared folder sits beside the checkout)")
    return path


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default settings over the shipped dataset, with a short query time limit for tests."""
    # No result cache here: tests that check "nothing changed" must reach the store every time.
    return Settings(query_timeout=3.0, max_rows=1000, query_workers=2, result_cache_mb=0)


@pytest.fixture(scope="session")
def services(settings: Settings) -> Iterator[Services]:
    """The site's services over an on-disk copy of the shipped dataset (with query workers)."""
    svc = Services.build(settings, EmbeddedStore.temporary_copy(settings))
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services):  # type: ignore[no-untyped-def]
    """The Flask app over the shipped dataset."""
    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    """A Flask test client (no socket)."""
    return app.test_client()


class LiveServer:
    """A threaded WSGI server on a loopback port, stopped by its fixture."""

    def __init__(self, app: object) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The app served over a real socket on loopback."""
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def serve_app() -> Iterator[Callable[..., LiveServer]]:
    """Factory: serve another app (other settings or store) on loopback; all are stopped at the end."""
    started: list[LiveServer] = []

    def _serve(app: object) -> LiveServer:
        server = LiveServer(app)
        started.append(server)
        return server

    yield _serve
    for s in started:
        s.stop()
