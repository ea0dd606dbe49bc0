"""A real Oxigraph server on loopback for tests: started, waited for, and always stopped.

Use the ``oxigraph_server`` fixture (a factory, module scope) or the
:class:`OxigraphServer` class directly::

    from .oxigraph_server import oxigraph_server  # noqa: F401  (the fixture)

    def test_x(oxigraph_server):
        server = oxigraph_server()                 # read-write, data in a temporary directory
        server.query_url, server.update_url, server.store_url

The server runs the ``oxigraph`` command of the ``oxigraph`` PyPI package
(installed with the ``test`` extra); tests that need it are skipped when it is
missing. ``--timeout-s`` is set so that a query the tests abandon on purpose
stops burning CPU soon after.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import IO, TypeVar
from pathlib import Path

import pytest

STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
SERVER_TIMEOUT_S = 5


def oxigraph_command() -> str | None:
    """The ``oxigraph`` executable: next to this Python (a venv) or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    return shutil.which("oxigraph")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackProcess:
    """A server process of the tests: its log in a temporary file, waited for by a probe URL, stopped by its pid."""

    name = "server"
    startup_seconds = STARTUP_SECONDS
    process: subprocess.Popen[bytes]
    _log: IO[bytes]

    def _spawn(self, args: list[str], cwd: Path | None = None) -> None:
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def _launch(self, args: list[str], cwd: Path | None = None) -> None:
        """Spawn the server and wait until its ``query_url`` answers ``ASK {}``; stopped if it never does."""
        self._spawn(args, cwd)
        try:
            self._wait_until_ready(f"{self.query_url}?query=ASK%7B%7D", self.startup_seconds)  # type: ignore[attr-defined]
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, probe: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer within {seconds:g} s: {self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        """What the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """Stop the process by its pid: terminate, then kill if it does not exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=seconds)
        self._log.close()


class OxigraphServer(LoopbackProcess):
    """One ``oxigraph serve`` (or ``serve-read-only``) process on a loopback port."""

    name = "oxigraph"

    def __init__(self, location: Path, read_only: bool = False, timeout_s: int | None = SERVER_TIMEOUT_S) -> None:
        command = oxigraph_command()
        if command is None:
            raise FileNotFoundError("the oxigraph command is not installed (pip install oxigraph)")
        self.location = location
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [command, "serve-read-only" if read_only else "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"]
        if timeout_s:
            args += ["--timeout-s", str(timeout_s)]
        self._launch(args)

    @property
    def query_url(self) -> str:
        """The SPARQL query endpoint."""
        return f"{self.url}/query"

    @property
    def update_url(self) -> str:
        """The SPARQL update endpoint."""
        return f"{self.url}/update"

    @property
    def store_url(self) -> str:
        """The Graph Store Protocol endpoint."""
        return f"{self.url}/store"


_S = TypeVar("_S", bound=LoopbackProcess)


def servers_in_temporary_dirs(prefix: str, make: Callable[..., _S]) -> Iterator[Callable[..., _S]]:
    """A fixture's factory of servers: ``make(location, **options)``, each in a new temporary directory unless
    given one; at the end every server started is stopped and the directories are removed."""
    started: list[_S] = []
    dirs: list[Path] = []

    def start(location: Path | None = None, **options: object) -> _S:
        if location is None:
            location = Path(tempfile.mkdtemp(prefix=prefix))
            dirs.append(location)
        server = make(location, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def oxigraph_server() -> Iterator[Callable[..., OxigraphServer]]:
    """Factory: start Oxigraph servers (data in temporary directories); all are stopped and removed at the end."""
    if oxigraph_command() is None:
        pytest.skip("the oxigraph command is not installed (the test extra installs it)")
    yield from servers_in_temporary_dirs("filmgraph-oxigraph-", OxigraphServer)


@pytest.fixture()
def unused_url() -> str:
    """A loopback SPARQL URL where nothing listens (its port was free a moment ago)."""
    return f"http://127.0.0.1:{_free_port()}/query"


@pytest.fixture(scope="module")
def oxigraph(oxigraph_server: Callable[..., OxigraphServer]) -> OxigraphServer:
    """An Oxigraph server holding the shipped dataset, loaded with ``filmgraph load``."""
    from filmgraph.cli import main

    server = oxigraph_server()
    assert main(["load", "--into", server.query_url]) == 0
    return server
