"""Serving a public site under abuse: the figures of issue 13, measured on a real `filmgraph serve`, one command.

    .venv/bin/python bench/abuse.py                 # Granian (the default server) and gunicorn, about 5 minutes
    .venv/bin/python bench/abuse.py --servers granian

For each server, on loopback, over the shipped dataset built with `filmgraph build`:

1. **Idle and half-sent connections**: 200 connections that send nothing and 50
   that send half a request line (`GET / HTTP/1.1\\r\\nHost: x\\r\\n`), held open
   while `/healthz` and a cheap query that no cache holds are asked in turn
   (400 probes each, 10 s timeout): p50, p99, failures.
2. **Runaways**: client A (127.0.0.2) keeps 8 runaway queries going (each
   stopped at the 3 s time limit, then sent again) while client B (127.0.0.3)
   asks uncached ASKs: B's p50, p99 and statuses.
3. **Memory**: 1,500 distinct queries of 60 KB text with `--result-cache-mb 8`
   (every query worker started first): the RSS and the PSS of the whole
   process tree before and after.

Figures go to bench/out/abuse.json and, as Markdown, to stdout. No request
loop is unbounded: every phase has a count and a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from servers import tree_memory  # noqa: E402
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    def __init__(self, store: Path, server: str, log: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [str(Path(sys.executable).parent / "filmgraph"), "serve", "--store-path", str(store), "--port", str(self.port), "--server", server,
               "--query-timeout", "3", *extra]
        self.log = log.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{server} did not start; see {log}")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _timed(session: requests.Session, url: str, timeout: float = 10) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        status = session.get(url, timeout=timeout).status_code
    except requests.RequestException:
        status = 0
    return (time.perf_counter() - started) * 1000, status


def _summary(ms: list[float], statuses: list[int]) -> dict[str, Any]:
    ms = sorted(ms)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p99_ms": round(ms[max(0, int(len(ms) * 0.99) - 1)], 1),
            "failures": sum(1 for s in statuses if s != 200)}


def idle_and_half_sent(srv: Serve, idle: int = 200, half: int = 50, probes: int = 400) -> dict[str, Any]:
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(idle)]
    for _ in range(half):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    time.sleep(1)
    out: dict[str, Any] = {}
    try:
        with requests.Session() as session:
            for name, make in (("healthz", lambda i: "/healthz"), ("uncached query", lambda i: "/sparql?query=" + urllib.parse.quote(f"ASK {{ ?s ?p {i} }}"))):
                ms, statuses = [], []
                deadline = time.monotonic() + 120
                for i in range(probes):
                    if time.monotonic() > deadline:
                        break
                    t, status = _timed(session, srv.url + make(i))
                    ms.append(t)
                    statuses.append(status)
                out[name] = _summary(ms, statuses)
    finally:
        for s in held:
            s.close()
    return out


class _Bound(requests.adapters.HTTPAdapter):
    """Requests from a chosen loopback source address (a client of its own)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def _client(source: str) -> requests.Session:
    s = requests.Session()
    s.mount("http://", _Bound(source))
    return s


def runaways(srv: Serve, seconds: float = 30, runaway_clients: int = 8) -> dict[str, Any]:
    stop = time.monotonic() + seconds
    codes: list[int] = []

    def run_away() -> None:
        with _client("127.0.0.2") as a:
            while time.monotonic() < stop:
                try:
                    codes.append(a.get(srv.url + "/sparql", params={"query": RUNAWAY + f" # {time.monotonic()}"}, timeout=30).status_code)
                except requests.RequestException:
                    codes.append(0)

    threads = [threading.Thread(target=run_away, daemon=True) for _ in range(runaway_clients)]
    for t in threads:
        t.start()
    time.sleep(1)
    ms, statuses = [], []
    with _client("127.0.0.3") as b:
        i = 0
        while time.monotonic() < stop - 1:
            i += 1
            t, status = _timed(b, srv.url + "/sparql?query=" + urllib.parse.quote(f"ASK {{ ?s ?p {i}.{time.time_ns()} }}"), timeout=30)
            ms.append(t)
            statuses.append(status)
            time.sleep(0.05)
    for t in threads:
        t.join(timeout=40)
    return {"B's uncached ASK": _summary(ms, statuses), "A's answers": {str(c): codes.count(c) for c in sorted(set(codes))}}


def memory_soak(srv: Serve, queries: int = 1500, size: int = 60_000) -> dict[str, Any]:
    # Query workers start on a web worker's first query: start them all (fresh connections reach both web
    # workers) before the first measure, so that it is the soak that is measured, not the workers' birth.
    for _ in range(40):
        requests.get(srv.url + "/sparql", params={"query": "ASK {}"}, headers={"Connection": "close"}, timeout=30)
    time.sleep(1)
    before = tree_memory(srv.proc.pid)
    rss_before, pss_before = before["rss_mb"], before["pss_mb"]
    filler = "x" * size
    statuses = []
    with requests.Session() as s:
        for i in range(queries):
            r = s.post(srv.url + "/sparql", data=f"ASK {{}} # {i} {filler}", headers={"Content-Type": "application/sparql-query", "Connection": "close" if i % 2 else "keep-alive"}, timeout=30)
            statuses.append(r.status_code)
    after = tree_memory(srv.proc.pid)
    rss_after, pss_after = after["rss_mb"], after["pss_mb"]
    return {"queries": queries, "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_after, 1), "rss_growth_mb": round(rss_after - rss_before, 1),
            "pss_before_mb": round(pss_before, 1), "pss_after_mb": round(pss_after, 1), "pss_growth_mb": round(pss_after - pss_before, 1),
            "failures": sum(1 for x in statuses if x != 200)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="filmgraph serve under abuse (issue 13's figures)")
    p.add_argument("--servers", default="granian,gunicorn")
    p.add_argument("--only", choices=["connections", "runaways", "memory"], help="one phase only")
    p.add_argument("--workdir", type=Path, default=HERE / "data" / "abuse")
    p.add_argument("--output", type=Path, default=HERE / "out" / "abuse.json")
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    store = args.workdir / "store"
    if not store.exists():
        subprocess.run([str(Path(sys.executable).parent / "filmgraph"), "build", str(store), "--quiet"], check=True)
    results: dict[str, Any] = {}
    for server in args.servers.split(","):
        print(f"== {server}", file=sys.stderr, flush=True)
        r: dict[str, Any] = {}
        if args.only in (None, "connections", "runaways"):
            srv = Serve(store, server, args.workdir / f"{server}.log", "--result-cache-mb", "0")
            try:
                if args.only in (None, "connections"):
                    r["200 idle + 50 half-sent connections"] = idle_and_half_sent(srv)
                if args.only in (None, "runaways"):
                    r["8 runaways from A, B asks"] = runaways(srv)
            finally:
                srv.stop()
        if args.only in (None, "memory"):
            srv = Serve(store, server, args.workdir / f"{server}-soak.log", "--result-cache-mb", "8")
            try:
                r["1,500 distinct 60 KB queries, result_cache_mb 8"] = memory_soak(srv)
            finally:
                srv.stop()
        results[server] = r
        print(json.dumps(r, indent=1), file=sys.stderr, flush=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
