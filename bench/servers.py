"""Servers of one benchmark run, and what is measured on them over HTTP: readiness, memory, sequential latency, wrk load."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(url: str, proc: subprocess.Popen, timeout: float = 3600) -> float:  # type: ignore[type-arg]
    """Seconds until a SPARQL endpoint answers ``ASK {}`` (the process must stay alive meanwhile)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode} before it answered")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, bytes."""
    try:
        p = psutil.Process(pid)
        return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)])
    except psutil.Error:
        return 0


@dataclass
class Server:
    """One server of the run: its command, its SPARQL URL and its site root."""

    name: str
    cmd: list[str]
    url: str
    log: Path
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]
    start_s: float = 0.0

    @property
    def root(self) -> str:
        """scheme://host:port of the server."""
        parsed = urllib.parse.urlparse(self.url)
        return f"{parsed.scheme}://{parsed.netloc}"

    def start(self) -> None:
        """Start it in its own session and wait until it answers."""
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.start_s = wait_until(self.url, self.proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; its log: {self.log}") from None

    def rss(self) -> int:
        """Its process tree's resident memory, bytes."""
        return tree_rss(self.proc.pid) if self.proc else 0

    def stop(self) -> None:
        """Stop its process group (TERM, then KILL after 20 s)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def median_ms(call: Callable[[], requests.Response], repeats: int, what: str) -> float:
    """Median wall time of a request, ms; a non-2xx answer stops the run."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = call()
        times.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise RuntimeError(f"{what}: {r.status_code} {r.text[:300]}")
    return statistics.median(times) * 1000


def sparql_latency(url: str, mix: dict[str, str], repeats: int, timeout: float = 600) -> dict[str, float]:
    """Median latency of each query of a mix, sequential requests, ms."""
    with requests.Session() as s:
        return {
            name: median_ms(lambda q=q: s.get(url, params={"query": q}, headers={"Accept": ACCEPT}, timeout=timeout), repeats, f"{name} on {url}")
            for name, q in mix.items()
        }


def page_latency(root: str, paths: list[str], repeats: int, accept: str = "text/html") -> float:
    """Median latency over several pages of a site (each fetched ``repeats`` times), ms."""
    times = []
    with requests.Session() as s:
        for path in paths:
            s.get(root + path, headers={"Accept": accept}, timeout=600)  # its first answer may fill caches
            times.append(median_ms(lambda p=path: s.get(root + p, headers={"Accept": accept}, timeout=600), repeats, root + path))
    return statistics.median(times)


def download_s(url: str) -> tuple[float, int]:
    """Seconds to download a URL whole (read and dropped), and its size in bytes."""
    t = time.perf_counter()
    size = 0
    with requests.get(url, stream=True, timeout=3600) as r:
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
        for chunk in r.iter_content(1 << 20):
            size += len(chunk)
    return time.perf_counter() - t, size


LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local films = %d
local i = 0
request = function()
  i = i %% #paths + 1
  local path = string.gsub(paths[i], "KEY", tostring(math.random(0, films - 1)))
  return wrk.format("GET", path, {["Accept"] = "%s"})
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %%d, \\"seconds\\": %%f, \\"errors\\": %%d, \\"non2xx\\": %%d, \\"p50\\": %%f, \\"p99\\": %%f}\\n",
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk_load(url: str, mix: dict[str, str], seconds: int, connections: int, workdir: Path, films: int) -> dict[str, float]:
    """A bounded concurrent load of the mix with wrk (``KEY`` in a query becomes a random film): rps, p50/p99 ms, errors."""
    parsed = urllib.parse.urlparse(url)
    paths = workdir / "paths.txt"
    paths.write_text("".join(f"{parsed.path}?{urllib.parse.urlencode({'query': q})}\n" for q in mix.values()))
    script = workdir / "mix.lua"
    script.write_text(LUA % (paths, films, ACCEPT))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), f"{parsed.scheme}://{parsed.netloc}"],
        capture_output=True, text=True, check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    data: dict[str, float] = json.loads(line[5:])
    data["rps"] = data["requests"] / data["seconds"]
    return data


def ensure_wrk() -> None:
    """wrk must be on the PATH; as root, install Debian's package."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("bench needs wrk: run 'apt-get install wrk' as root")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)


def du(path: Path) -> int:
    """Bytes under a path."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass
class Timer:
    """Wall time of a block, seconds."""

    seconds: float = 0.0
    _start: float = field(default=0.0, repr=False)

    def __enter__(self) -> Timer:
        self._start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self._start


def tree_memory(pid: int) -> dict[str, float]:
    """RSS and PSS of a process and its descendants, MiB (PSS counts a page shared after fork once)."""
    rss = pss = 0
    try:
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                full = p.memory_full_info()
                rss += full.rss
                pss += getattr(full, "pss", full.rss)
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return {"rss_mb": rss / 2**20, "pss_mb": pss / 2**20}


def each_size(args: Any, bench_size: Callable[[int, Any], dict[str, Any]], report: Callable[[list[dict[str, Any]]], str]) -> int:
    """Run one benchmark for each of ``args.sizes``: its table on stderr as each size ends, the figures in
    ``args.output`` after each, all tables on stdout at the end."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for films in (int(x) for x in args.sizes.split(",")):
        print(f"== {films:,} films", file=sys.stderr, flush=True)
        with Timer() as t:
            results.append(bench_size(films, args))
        results[-1]["bench_s"] = t.seconds
        print(report(results[-1:]), file=sys.stderr, flush=True)
        args.output.write_text(json.dumps(results, indent=2))
    print(report(results))
    return 0
