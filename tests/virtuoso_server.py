"""A real Virtuoso Open Source server on loopback for tests: its own data directory and ports, always stopped.

Debian's ``virtuoso-opensource`` (``scripts/setup --test`` installs it) gives
``virtuoso-t``. Each server gets a ``virtuoso.ini`` written into a temporary
directory, with its database, its SQL port and its HTTP port (both on
127.0.0.1), and runs in the foreground as a child of the test, stopped by its
pid. Tests that need it are skipped when ``virtuoso-t`` is missing.

The data goes into a named graph (:data:`GRAPH`, filmgraph's ``store_graph``):
Virtuoso's default graph is the union of all its graphs, its system graphs
included. It is loaded through the authenticated graph store
(``/sparql-graph-crud-auth``, digest authentication as ``dba``: a new database's
administrator password is ``dba``; the server listens on loopback only).
``MaxQueryExecutionTime`` plays the part of ``oxigraph serve --timeout-s``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .oxigraph_server import LoopbackProcess, _free_port, servers_in_temporary_dirs

STARTUP_SECONDS = 60.0
STOP_SECONDS = 30.0
SERVER_TIMEOUT_S = 5
GRAPH = "https://w3id.org/filmgraph/graph"
"""The named graph the tests load the dataset into (filmgraph's store_graph)."""
USER, PASSWORD = "dba", "dba"

INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxQueryMem = 1G
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
ThreadCleanupInterval = 0
ResourcesCleanupInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 20
ServerThreads = 20
MaxKeepAlives = 20
KeepAliveTimeout = 10
EnabledDavVSP = 0
HTTPProxyEnabled = 0
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = {timeout_s}
"""


def virtuoso_command() -> str | None:
    """The ``virtuoso-t`` executable (Debian's virtuoso-opensource)."""
    return shutil.which("virtuoso-t")


class VirtuosoServer(LoopbackProcess):
    """One ``virtuoso-t +foreground`` process with its own ini, database directory and loopback ports."""

    name = "virtuoso-t"
    startup_seconds = STARTUP_SECONDS

    def __init__(self, location: Path, timeout_s: int = SERVER_TIMEOUT_S, buffers: int = 20_000, max_rows: int = 1_000_000) -> None:
        command = virtuoso_command()
        if command is None:
            raise FileNotFoundError("virtuoso-t is not installed (Debian: apt-get install virtuoso-opensource; scripts/setup --test does)")
        self.location = Path(location)
        self.location.mkdir(parents=True, exist_ok=True)
        self.sql_port, self.port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ini = self.location / "virtuoso.ini"
        self.ini.write_text(INI.format(d=self.location, sql_port=self.sql_port, http_port=self.port, timeout_s=timeout_s,
                                       buffers=buffers, dirty=buffers * 3 // 4, max_rows=max_rows))
        self._launch([command, "+configfile", str(self.ini), "+foreground"], cwd=self.location)

    @property
    def query_url(self) -> str:
        """The SPARQL endpoint."""
        return f"{self.url}/sparql"

    @property
    def graph_store_url(self) -> str:
        """The authenticated Graph Store Protocol endpoint, with the administrator's credentials in it."""
        return f"http://{USER}:{PASSWORD}@127.0.0.1:{self.port}/sparql-graph-crud-auth"

    graph = GRAPH

    def stop(self, seconds: float = STOP_SECONDS) -> None:
        """Stop it by its pid (it checkpoints and exits on SIGTERM; killed if it does not)."""
        super().stop(seconds)


@pytest.fixture(scope="module")
def virtuoso_server() -> Iterator[Callable[..., VirtuosoServer]]:
    """Factory: start Virtuoso servers (each in a temporary directory); all are stopped and removed at the end."""
    if virtuoso_command() is None:
        pytest.skip("virtuoso-t is not installed (scripts/setup --test installs Debian's virtuoso-opensource)")
    yield from servers_in_temporary_dirs("filmgraph-virtuoso-", VirtuosoServer)


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server: Callable[..., VirtuosoServer]) -> VirtuosoServer:
    """A Virtuoso server holding the shipped dataset in :data:`GRAPH`, loaded with ``filmgraph load``."""
    from filmgraph.cli import main

    server = virtuoso_server()
    assert main(["load", "--into", server.query_url, "--graph-store", server.graph_store_url, "--store-graph", GRAPH]) == 0
    return server
