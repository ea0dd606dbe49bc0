"""Startup and data faults stop filmgraph with a clear message naming the file; a running server never changes.

A missing, truncated, empty or SHACL-invalid data file, a missing shapes file,
or a corrupt pre-built store (a file deleted or one byte changed, the marker
missing or garbled): ``filmgraph serve`` exits non-zero naming the file (and for
SHACL the node and the rule) and never listens on its port; ``filmgraph
validate`` and ``create_app`` refuse the same way. A running server serves the
same graph from start to end: a slow dump download is whole and identical while
other requests run and the data file changes on disk, and every route refuses
to write (the triple count and the store's files are unchanged afterwards).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from filmgraph.cli import main
from filmgraph.core.errors import InvalidData
from filmgraph.site.services import Services
from filmgraph.core.settings import Settings
from filmgraph.store.embedded import MARKER, EmbeddedStore
from filmgraph.web import create_app

from ..loopback import free_port, port_is_open

ROOT = Path(__file__).resolve().parents[2]
DATA = sorted((ROOT / "data").glob("*.ttl"))
INVALID = """@prefix fg: <https://w3id.org/filmgraph/ontology#> .
<https://w3id.org/filmgraph/film/broken-record> a fg:FilmRecord .
"""


@dataclass
class Fault:
    """A broken setup: the serve arguments, the file the message must name, and what else it must say."""

    args: list[str]
    names: Path
    says: tuple[str, ...] = ()


def _files(tmp: Path) -> dict[str, Fault]:
    """Every broken setup, written under tmp."""
    films = ROOT / "data" / "films.ttl"
    others = [p for p in DATA if p != films]
    text = films.read_text(encoding="utf-8")
    truncated = tmp / "truncated.ttl"
    truncated.write_text(text[: len(text) // 2 - 7], encoding="utf-8")  # mid-statement
    empty = tmp / "empty.ttl"
    empty.write_text("", encoding="utf-8")
    invalid = tmp / "invalid.ttl"
    invalid.write_text(INVALID, encoding="utf-8")
    missing = tmp / "missing.ttl"

    def data(*paths: Path) -> list[str]:
        return ["--data", ":".join(str(p) for p in paths)]

    built = tmp / "built"
    EmbeddedStore.build(Settings(), built).close()
    stores: dict[str, Fault] = {}
    ssts = sorted(p.name for p in built.glob("*.sst"))
    for name, change in (
        ("store-file-deleted", lambda d: (d / ssts[0]).unlink()),
        ("store-file-garbled", lambda d: _flip(d / ssts[-1])),
        ("store-current-deleted", lambda d: (d / "CURRENT").unlink()),
        ("store-marker-missing", lambda d: (d / MARKER).unlink()),
        ("store-marker-garbled", lambda d: (d / MARKER).write_text('{"base_iri": ')),
    ):
        copy = tmp / name
        shutil.copytree(built, copy)
        change(copy)
        named = {"store-file-deleted": copy / ssts[0], "store-file-garbled": copy / ssts[-1], "store-current-deleted": copy / "CURRENT"}.get(name, copy)
        stores[name] = Fault(["--store-path", str(copy)], named)
    return {
        "missing data file": Fault(data(*others, missing), missing, ("no such data file",)),
        "truncated data file": Fault(data(*others, truncated), truncated, ("does not parse", "line")),
        "empty data file": Fault(data(*others, empty), empty, ("no triples",)),
        "invalid data file": Fault(data(*DATA, invalid), invalid, ("node https://w3id.org/filmgraph/film/broken-record", "MinCountConstraintComponent", "schema.org/name")),
        "missing shapes file": Fault(["--shapes", str(tmp / "no-shapes.ttl")], tmp / "no-shapes.ttl"),
        **stores,
    }


def _flip(path: Path) -> None:
    """Change one byte in the middle of a file (a block RocksDB would only check when reading it)."""
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


@dataclass
class Attempt:
    fault: Fault
    port: int
    returncode: int
    stderr: str
    listened: bool


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Fault]:
    """The broken setups."""
    return _files(tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def serve_attempts(faults: dict[str, Fault]) -> dict[str, Attempt]:
    """``filmgraph serve`` started on each broken setup at once, its port watched until it exits."""
    started = {}
    for name, fault in faults.items():
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "filmgraph.cli", "serve", "--port", str(port), *fault.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, text=True,
        )
        started[name] = (fault, port, process)
    listened = {name: False for name in started}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for name, (_, port, process) in started.items():
                if process.poll() is None and port_is_open(port):
                    listened[name] = True
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = {}
    try:
        for name, (fault, port, process) in started.items():
            try:
                _, err = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:  # it started serving: stop it, the test will fail
                process.kill()
                _, err = process.communicate(timeout=30)
            out[name] = Attempt(fault, port, process.returncode, err, listened[name])
    finally:
        stop.set()
        watcher.join(timeout=10)
        for _, _, process in started.values():
            if process.poll() is None:
                process.kill()
    return out


FAULTS = [
    "missing data file", "truncated data file", "empty data file", "invalid data file", "missing shapes file",
    "store-file-deleted", "store-file-garbled", "store-current-deleted", "store-marker-missing", "store-marker-garbled",
]


@pytest.mark.parametrize("name", FAULTS)
def test_serve_stops_on_a_fault_naming_the_file_and_never_listens(serve_attempts: dict[str, Attempt], name: str) -> None:
    attempt = serve_attempts[name]
    assert attempt.returncode not in (0, None), attempt.stderr
    assert str(attempt.fault.names) in attempt.stderr, attempt.stderr
    for phrase in attempt.fault.says:
        assert phrase in attempt.stderr, attempt.stderr
    assert "Traceback" not in attempt.stderr, attempt.stderr
    assert "serving" not in attempt.stderr, attempt.stderr
    assert not attempt.listened and not port_is_open(attempt.port)


@pytest.mark.parametrize("name", [n for n in FAULTS if not n.startswith("store")])
def test_validate_refuses_a_faulty_setup_naming_the_file(faults: dict[str, Fault], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    fault = faults[name]
    assert main(["validate", *fault.args]) != 0
    err = capsys.readouterr().err
    assert str(fault.names) in err
    for phrase in fault.says:
        assert phrase in err


@pytest.mark.parametrize("name", FAULTS)
def test_create_app_refuses_a_faulty_setup_naming_the_file(faults: dict[str, Fault], name: str) -> None:
    fault = faults[name]
    option, value = fault.args[0].removeprefix("--").replace("-", "_"), fault.args[1]
    settings = Settings.from_env({}, **{option: tuple(Path(p) for p in value.split(":")) if option == "data" else (Path(value) if option == "shapes" else value)})
    with pytest.raises(InvalidData) as err:
        create_app(settings)
    assert str(fault.names) in err.value.message


# -- a running server serves one graph, start to end ---------------------------------------------


@pytest.fixture(scope="module")
def own_data_site(tmp_path_factory: pytest.TempPathFactory, serve_app) -> Iterator[tuple[str, Services, list[Path]]]:  # type: ignore[no-untyped-def]
    """The dataset from copies of the data files (which the test then changes), on a socket."""
    folder = tmp_path_factory.mktemp("own-data")
    copies = []
    for p in DATA:
        shutil.copy(p, folder / p.name)
        copies.append(folder / p.name)
    settings = Settings(data=tuple(copies), query_timeout=10)
    services = Services.build(settings)
    server = serve_app(create_app(settings, services))
    yield server.url, services, copies
    services.close()


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _count(url: str) -> int:
    r = requests.get(url + "/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_a_slow_dump_download_is_whole_and_unchanged_while_the_data_file_changes(own_data_site) -> None:  # type: ignore[no-untyped-def]
    url, services, copies = own_data_site
    at_rest = requests.get(url + "/dumps/filmgraph.nt", timeout=60)
    assert at_rest.status_code == 200
    count = _count(url)

    chunks: list[bytes] = []
    etags: list[str] = []

    def slow_reader() -> None:
        with requests.get(url + "/dumps/filmgraph.nt", stream=True, timeout=60) as r:
            etags.append(r.headers["ETag"])
            for chunk in r.iter_content(chunk_size=4096):
                chunks.append(chunk)
                time.sleep(0.01)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    # Meanwhile: the data file changes on disk, and other requests (queries, the other dumps, pages) run.
    films = next(p for p in copies if p.name == "films.ttl")
    films.write_text(films.read_text(encoding="utf-8").replace('"The Silent Star"@en', '"Changed"@en') + "\n<https://w3id.org/filmgraph/film/new> a <https://schema.org/Movie> .\n", encoding="utf-8")
    others = 0
    while reader.is_alive():
        for path in ("/dumps/filmgraph.ttl", "/film/silent-star-1960.ttl", "/dumps/filmgraph.nt.gz"):
            assert requests.get(url + path, timeout=60).status_code == 200
        assert _count(url) == count
        others += 1
    reader.join()

    assert others > 0
    assert b"".join(chunks) == at_rest.content
    assert etags == [at_rest.headers["ETag"]]
    assert b"Changed" not in b"".join(chunks)
    after = requests.get(url + "/dumps/filmgraph.nt", timeout=60)
    assert after.content == at_rest.content and after.headers["ETag"] == at_rest.headers["ETag"]
    assert _count(url) == count


UPDATE = "INSERT DATA { <https://w3id.org/filmgraph/film/intruder> a <https://schema.org/Movie> }"


def _write_attempts(app) -> list[tuple[str, str, dict[str, object]]]:  # type: ignore[no-untyped-def]
    """A write through every route: each rule with each writing method, and SPARQL Update every protocol way."""
    attempts: list[tuple[str, str, dict[str, object]]] = []
    samples = {"kind": "film", "name": "silent-star-1960", "filename": "filmgraph.ttl", "id": "silent-star-1960", "ext": "ttl"}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: samples.get(arg, "film") for arg in rule.arguments}
        path = rule.rule if not rule.arguments else adapter.build(rule.endpoint, values)
        for method in ("PUT", "DELETE", "PATCH", "POST"):
            attempts.append((method, path, {"data": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-update"}}))
            attempts.append((method, path, {"data": b"<https://w3id.org/filmgraph/film/intruder> a <https://schema.org/Movie> .", "headers": {"Content-Type": "text/turtle"}}))
    attempts += [
        ("GET", f"/sparql?update={UPDATE}", {}),
        ("POST", "/sparql", {"data": {"update": UPDATE}}),
        ("POST", "/sparql", {"data": {"query": UPDATE}}),
        ("POST", "/sparql", {"data": UPDATE.encode(), "headers": {"Content-Type": "application/sparql-query"}}),
        ("GET", "/sparql?query=LOAD <https://w3id.org/filmgraph/dataset>", {}),
        ("GET", "/sparql?query=CLEAR ALL", {}),
        ("GET", "/sparql?query=DROP DEFAULT", {}),
        ("PUT", "/sparql?default", {"data": b"", "headers": {"Content-Type": "text/turtle"}}),
        ("DELETE", "/sparql?graph=https://w3id.org/filmgraph/dataset", {}),
    ]
    return attempts


def _store_files(services: Services) -> dict[str, str]:
    folder = Path(services.store.path)  # type: ignore[attr-defined]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file() and not p.name.startswith("LOG")}


def test_every_route_refuses_to_write_and_nothing_changes(app, client, services: Services) -> None:  # type: ignore[no-untyped-def]
    count = _count_client(client)
    files = _store_files(services)
    accepted = []
    for method, path, kwargs in _write_attempts(app):
        resp = client.open(path, method=method, **kwargs)
        resp.close()
        if resp.status_code < 400:
            accepted.append((method, path, resp.status_code))
        assert resp.status_code < 500, (method, path, resp.status_code)
    # The POSTs that are accepted are reads (reconciliation, a query form): they changed nothing either.
    assert all(method == "POST" and path.startswith(("/reconcile", "/sparql")) for method, path, _ in accepted), accepted
    assert _count_client(client) == count
    assert _store_files(services) == files
    assert client.get("/film/intruder").status_code == 404


def _count_client(client) -> int:  # type: ignore[no-untyped-def]
    r = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    return int(r.get_json()["results"]["bindings"][0]["n"]["value"])
