"""A bad setting stops every command before anything starts; no request header moves the site under a prefix.

Each bad value runs the real ``filmgraph`` command as a subprocess: it must exit
2 with one line on stderr naming the setting (flag and variable), the value and
what is allowed, no traceback, and never listen on its port. A ``SCRIPT_NAME``
request header sent to a real ``filmgraph serve`` changes no link of a page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from filmgraph.core import settings as S
from filmgraph.cli import main
from filmgraph.web.server import _Gunicorn
from filmgraph.core.settings import Settings

from ..loopback import free_port, port_is_open

ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).with_name("filmgraph")


def _command() -> list[str]:
    """The installed ``filmgraph`` script, as a user runs it (else the module, the same code)."""
    return [str(COMMAND)] if COMMAND.exists() else [sys.executable, "-m", "filmgraph.cli"]


@dataclass
class Run:
    returncode: int
    stderr: str
    listened: bool


def _run(args: list[str], env: dict[str, str] | None = None, port: int | None = None) -> Run:
    """Run ``filmgraph *args``, watching ``port``: a process that listens is stopped at once (the test then fails)."""
    process = subprocess.Popen(
        [*_command(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})}, start_new_session=True,
    )
    listened = False
    deadline = time.monotonic() + 120  # a bound, not a timing assertion: a started server is stopped below
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if port is not None and port_is_open(port):
                listened = True
                break
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: gunicorn's master and workers
    _, err = process.communicate(timeout=60)
    return Run(process.returncode, err, listened)


def _one_line_naming(err: str, command: str, name: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    flag, env = "--" + name.replace("_", "-"), "FILMGRAPH_" + name.upper()
    assert line.startswith(f"filmgraph {command}: setting {name} ({flag} / {env}) = "), line
    assert "Traceback" not in err
    return line


# (id, flags, environment, the setting named, what the message must say)
BAD = [
    ("workers 0", ["--workers", "0"], {}, "workers", "= 0: must be an integer from 1"),
    ("workers from the environment", [], {"FILMGRAPH_WORKERS": "0"}, "workers", "= 0: must be an integer from 1"),
    ("workers not a number", ["--workers", "two"], {}, "workers", "= two: must be an integer"),
    ("threads 0", ["--threads", "0"], {}, "threads", "must be an integer from 1"),
    ("threads from the environment", [], {"FILMGRAPH_THREADS": "0"}, "threads", "must be an integer from 1"),
    ("query_timeout -1", ["--query-timeout", "-1"], {}, "query_timeout", "= -1: must be a number of seconds above 0"),
    ("query_timeout 0", ["--query-timeout", "0"], {}, "query_timeout", "above 0"),
    ("query_timeout inf", ["--query-timeout", "inf"], {}, "query_timeout", "above 0"),
    ("query_timeout nan", [], {"FILMGRAPH_QUERY_TIMEOUT": "nan"}, "query_timeout", "above 0"),
    ("max_rows 0", ["--max-rows", "0"], {}, "max_rows", "must be an integer from 1"),
    ("max_rows past what one answer can hold", ["--max-rows", "1000000000"], {}, "max_rows", f"to {S.MAX_ROWS}"),
    ("max_body 0", ["--max-body", "0"], {}, "max_body", "must be an integer from 1"),
    ("max_query_length 0", [], {"FILMGRAPH_MAX_QUERY_LENGTH": "0"}, "max_query_length", "must be an integer from 1"),
    ("max_query_length past the worker stack", ["--max-query-length", str(S.MAX_QUERY_LENGTH + 1)], {}, "max_query_length", f"to {S.MAX_QUERY_LENGTH}"),
    ("max_query_nesting 0", ["--max-query-nesting", "0"], {}, "max_query_nesting", "must be an integer from 1"),
    ("max_query_nesting past the engine's stack", ["--max-query-nesting", "100000"], {}, "max_query_nesting", f"to {S.MAX_QUERY_NESTING}"),
    ("result_cache_mb -1", ["--result-cache-mb", "-1"], {}, "result_cache_mb", "from 0 (off)"),
    ("query_budget -1", ["--query-budget", "-1"], {}, "query_budget", "= -1: must be a number of seconds from 0 (off)"),
    ("query_budget_window 0", ["--query-budget-window", "0"], {}, "query_budget_window", "above 0"),
    ("query_queue -1", [], {"FILMGRAPH_QUERY_QUEUE": "-1"}, "query_queue", "must be an integer from 0"),
    ("trusted_proxies a host name", ["--trusted-proxies", "10.0.0.0/8,proxy.example"], {}, "trusted_proxies", "'proxy.example' is not an IP address or network"),
    ("max_result_bytes under a KiB", ["--max-result-bytes", "10"], {}, "max_result_bytes", "must be an integer from 1024"),
    ("server unknown", ["--server", "uwsgi"], {}, "server", "= uwsgi: must be granian or gunicorn"),
    ("header_timeout 0", ["--header-timeout", "0"], {}, "header_timeout", "above 0"),
    ("body_timeout 0", [], {"FILMGRAPH_BODY_TIMEOUT": "0"}, "body_timeout", "above 0"),
    ("memory_engine_mb negative", ["--memory-engine-mb", "-1"], {}, "memory_engine_mb", "from 0 (off)"),
    ("max_client_requests 0", ["--max-client-requests", "0"], {}, "max_client_requests", "from 1"),
    ("query_workers -1", ["--query-workers", "-1"], {}, "query_workers", "must be an integer from 0"),
    ("query_workers 0 without saying it removes the time limit", ["--query-workers", "0"], {}, "query_workers", "no time limit (nor the workers' network sandbox); give --allow-no-time-limit"),
    ("base_iri without a final slash", ["--base-iri", "https://example.org/fg"], {}, "base_iri", "ending in / or #"),
    ("base_iri relative", [], {"FILMGRAPH_BASE_IRI": "/fg/"}, "base_iri", "absolute http(s)"),
    ("base_iri not http", ["--base-iri", "urn:fg:"], {}, "base_iri", "absolute http(s)"),
    ("base_iri with a space", ["--base-iri", "https://example.org/a b/"], {}, "base_iri", "absolute http(s)"),
    ("public_url relative", ["--public-url", "films.example.org"], {}, "public_url", "absolute http(s) URL"),
    ("store_url not http", ["--store-url", "file:///etc/passwd"], {}, "store_url", "absolute http(s) URL"),
    ("store_update_url with a query", ["--store-update-url", "http://127.0.0.1:1/update?x=1"], {}, "store_update_url", "without query"),
    ("store_graph_store_url no host", ["--store-graph-store-url", "http:///store"], {}, "store_graph_store_url", "absolute http(s) URL"),
    ("store_graph with a query", ["--store-graph", "https://example.org/g?x=1"], {}, "store_graph", "absolute http(s) URL"),
    ("service_allow not an IRI", ["--service-allow", "http://a.example/sparql,sparql"], {}, "service_allow", "'sparql' is not an absolute http(s) IRI"),
    ("cors_origins with CR LF", ["--cors-origins", "https://a.example\r\nSet-Cookie: x=1"], {}, "cors_origins", "must not contain control characters (found U+000D)"),
    ("cors_origins with NUL-like C0 from the environment", [], {"FILMGRAPH_CORS_ORIGINS": "https://a.example\x01"}, "cors_origins", "control characters (found U+0001)"),
    ("cors_origins a list", ["--cors-origins", "https://a.example, https://b.example"], {}, "cors_origins", "one origin"),
    ("cors_origins with a path", ["--cors-origins", "https://a.example/app"], {}, "cors_origins", "one origin"),
    ("port 70000", ["--port", "70000"], {}, "port", "= 70000: must be an integer from 1 to 65535"),
    ("port 0", ["--port", "0"], {}, "port", "must be an integer from 1 to 65535"),
    ("host not an address", ["--host", "no such host!"], {}, "host", "IPv4 or IPv6 address"),
    ("host that does not resolve", ["--host", "nothing.invalid"], {}, "host", "does not resolve"),
    ("data file missing", ["--data", "/nonexistent/films.ttl"], {}, "data", "no such data file /nonexistent/films.ttl"),
    ("data empty", ["--data", ""], {}, "data", "no data files"),
    ("ontology file missing", [], {"FILMGRAPH_ONTOLOGY": "/nonexistent/o.ttl"}, "ontology", "no such ontology file"),
    ("shapes file missing", ["--shapes", "/nonexistent/shapes.ttl"], {}, "shapes", "no such shapes file"),
    ("store_path missing", ["--store-path", "/nonexistent/store"], {}, "store_path", "no such directory /nonexistent/store"),
    ("validate not a boolean", ["--validate", "maybe"], {}, "validate", "must be yes or no"),
    ("lean_sparql not a boolean", ["--lean-sparql", "sometimes"], {}, "lean_sparql", "must be yes or no"),
    ("access_log not a boolean", [], {"FILMGRAPH_ACCESS_LOG": "verbose"}, "access_log", "must be yes or no"),
    ("index_rules not a boolean", [], {"FILMGRAPH_INDEX_RULES": "2"}, "index_rules", "must be yes or no"),
]


@pytest.mark.parametrize(("flags", "env", "name", "says"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_serve_refuses_a_bad_setting_in_one_line_and_never_listens(flags: list[str], env: dict[str, str], name: str, says: str) -> None:
    port = free_port()
    port_args = [] if "--port" in flags else ["--port", str(port)]
    done = _run(["serve", *port_args, *flags], env, port)
    assert not done.listened, done.stderr
    assert done.returncode == 2, done.stderr
    line = _one_line_naming(done.stderr, "serve", name)
    assert says in line, line
    assert not port_is_open(port)


def test_every_setting_has_a_bad_value_among_the_cases() -> None:
    covered = {case[3] for case in BAD}
    assert covered >= {name for name, *_ in S.table()} - {"allow_no_time_limit"}  # a switch: any yes/no is fine


@pytest.mark.parametrize("command", ["validate", "check", "export", "query", "build", "load", "link"])
def test_every_command_refuses_a_bad_setting_before_it_opens_a_store(command: str, tmp_path: Path) -> None:
    extra = {"query": ["ASK {}"], "build": [str(tmp_path / "store")], "link": ["--accept", str(tmp_path / "review.json")]}.get(command, [])
    done = _run([command, *extra, "--max-rows", "0"])
    assert done.returncode == 2, done.stderr
    assert "must be an integer from 1" in _one_line_naming(done.stderr, command, "max_rows")
    assert not (tmp_path / "store").exists()


def test_several_bad_settings_give_one_line_each() -> None:
    done = _run(["serve", "--workers", "0", "--port", "70000"], {"FILMGRAPH_MAX_ROWS": "many"})
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 3 and "Traceback" not in done.stderr
    assert {re.match(r"filmgraph serve: setting (\w+) ", line).group(1) for line in lines} == {"workers", "port", "max_rows"}  # type: ignore[union-attr]


def test_a_flag_overrides_a_bad_environment_value(capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILMGRAPH_MAX_ROWS", "0")
    assert main(["query", "--max-rows", "5", "--query-workers", "1", "ASK {}", "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out.decode().splitlines()[-1] == "true"


def test_query_workers_0_runs_when_the_flag_says_it_removes_the_time_limit(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["query", "--query-workers", "0", "--allow-no-time-limit", "--", "ASK {}"]) == 0
    assert b"true" in capsysbinary.readouterr().out


@pytest.mark.parametrize(("name", "value"), [
    ("base_iri", "https://example.org/fg/"), ("base_iri", "http://example.org/fg#"), ("base_iri", "https://example.org:8443/"),
    ("host", "0.0.0.0"), ("host", "::1"), ("host", "localhost"), ("port", 1), ("port", 65535),
    ("public_url", "https://films.example.org/"), ("public_url", ""),
    ("cors_origins", ""), ("cors_origins", "null"), ("cors_origins", "https://a.example:8443"),
    ("query_timeout", 0.001), ("query_timeout", S.MAX_TIMEOUT), ("max_rows", 1), ("max_rows", S.MAX_ROWS),
    ("result_cache_mb", 0), ("service_allow", ("http://a.example/sparql", "https://b.example/q")),
    ("store_url", "http://127.0.0.1:7878/query"), ("max_query_nesting", S.MAX_QUERY_NESTING),
])
def test_values_in_range_are_accepted(name: str, value: object) -> None:
    assert S.problems(Settings().replace(**{name: value})) == []


def test_query_workers_0_is_fine_with_a_remote_store_which_keeps_its_own_time_limit() -> None:
    assert S.problems(Settings(query_workers=0, store_url="http://127.0.0.1:7878/query")) == []
    assert S.problems(Settings(query_workers=0, allow_no_time_limit=True)) == []
    assert S.problems(Settings(query_workers=0)) != []


def test_files_are_checked_when_they_are_read() -> None:
    missing = (Path("/nonexistent/films.ttl"),)
    assert S.problems(Settings(data=missing, store_url="http://127.0.0.1:7878/query")) == []  # serving a remote store
    assert S.problems(Settings(data=missing, store_url="http://127.0.0.1:7878/query"), files=True) != []  # filmgraph load
    assert S.problems(Settings(shapes=Path("/nonexistent/shapes.ttl"), validate=False)) == []
    assert S.problems(Settings(data=missing)) != []


# -- the site is at the root, whatever SCRIPT_NAME a request sends --------------------------------


class _Serve:
    """A real ``filmgraph serve`` on a free loopback port (one worker: a small footprint); ``stop()`` ends its session."""

    def __init__(self, log: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--port", str(self.port), "--workers", "1", "--threads", "4", "--query-workers", "1", *flags]
        with log.open("wb") as out:
            self.process = subprocess.Popen([*_command(), *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 180
        while not port_is_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"filmgraph serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Serve]:
    server = _Serve(tmp_path_factory.mktemp("serve") / "serve.log")
    yield server
    server.stop()


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]*)"', html)


@pytest.mark.parametrize("path", ["/", "/sparql", "/film/star-1962.html"])
def test_a_script_name_header_changes_no_link(served: _Serve, path: str) -> None:
    plain = requests.get(served.url + path, headers={"Accept": "text/html"}, timeout=60)
    forged = requests.get(served.url + path, headers={"Accept": "text/html", "SCRIPT_NAME": "/evil"}, timeout=60)
    assert plain.status_code == forged.status_code == 200
    assert _links(forged.text) == _links(plain.text) and _links(plain.text)
    assert "/evil" not in forged.text


def test_a_script_name_header_does_not_mount_the_site_elsewhere(served: _Serve) -> None:
    forged = requests.get(served.url + "/evil/", headers={"Accept": "text/html", "SCRIPT_NAME": "/evil"}, timeout=60)
    assert forged.status_code == 404
    assert not any(link.startswith("/evil") for link in _links(forged.text))


def test_gunicorn_is_told_to_trust_no_forwarded_path_and_run_no_control_socket() -> None:
    cfg = _Gunicorn(Settings()).cfg
    assert cfg.forwarder_headers == [] and cfg.control_socket_disable is True
    assert _Gunicorn(Settings(host="::1", port=8080)).cfg.bind == ["[::1]:8080"]


def test_serve_runs_no_gunicorn_control_socket(served: _Serve) -> None:
    # gunicorn's default control socket is one path per user: a second instance would take it from the first.
    # gunicorn opens it once its workers are spawned: after an answer, watch the master a few seconds.
    assert requests.get(served.url + "/healthz", timeout=60).ok
    master = psutil.Process(served.process.pid)
    for _ in range(25):
        sockets = [str(c.laddr) for c in master.net_connections(kind="unix")]
        assert not any(path.endswith("gunicorn.ctl") for path in sockets), sockets
        time.sleep(0.2)
