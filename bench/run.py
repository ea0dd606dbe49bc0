"""The benchmark: filmgraph against the raw Oxigraph server, measured in the same run.

One command (after `scripts/setup`):

    .venv/bin/python bench/run.py                 # 10^3, 10^4, 10^5 films
    .venv/bin/python bench/run.py --sizes 1000000 # 10^6 on request

For each size: generate the graph (bench/generate.py), build both stores,
start both servers on loopback, take the median latency of each query of the
mix (sequential requests), then a bounded concurrent load with wrk (Debian's
package; installed by this script with apt-get when missing and run as root)
for each server, and print throughput, p50/p99 and the ratio. The machine is
shared and noisy: every figure is a median of repeats, and both servers are
measured in the same run so the ratio is what to read.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE = "https://w3id.org/filmgraph/"
FG = BASE + "ontology#"

ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"


def query_mix(films: int) -> dict[str, str]:
    """The typical queries: lookups, a filter, an aggregate, joins, a describe."""
    k = films // 2
    return {
        "lookup": f"SELECT ?p ?o WHERE {{ <{BASE}film/r{k}> ?p ?o }}",
        "ask": f"ASK {{ <{BASE}film/r{k + 1}> ?p ?o }}",
        "describe": f"DESCRIBE <{BASE}film/r{k}>",
        "films-of-year": f"SELECT ?f ?t WHERE {{ ?f <{FG}releaseYear> <{BASE}year/1960> ; <https://schema.org/name> ?t }} LIMIT 100",
        "claims-by-assessment": f"SELECT ?a (COUNT(?c) AS ?n) WHERE {{ ?c <{FG}assessment> ?a }} GROUP BY ?a",
        "same-year": f"SELECT ?f ?m WHERE {{ ?f <{FG}releaseYear> ?y . ?m <{FG}year> ?y }} LIMIT 100",
        "impossible-claims": (
            f"SELECT ?c ?fy ?d WHERE {{ ?c <{FG}claimPredicate> <{FG}releasedAfter> ; <{FG}claimObject> ?o ; <{FG}about> ?f . "
            f"?f <{FG}releaseYear>/<{FG}yearNumber> ?fy . ?o <https://schema.org/startDate> ?d "
            f"FILTER(xsd:integer(SUBSTR(STR(?d), 1, 4)) > ?fy) }} LIMIT 100"
        ).replace("xsd:integer", "<http://www.w3.org/2001/XMLSchema#integer>"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(url: str, timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def tree_rss(pid: int) -> int:
    try:
        p = psutil.Process(pid)
        return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)])
    except psutil.Error:
        return 0


@dataclass
class Server:
    name: str
    cmd: list[str]
    url: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]
    start_s: float = 0.0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.start_s = wait_until(self.url)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def latency(url: str, mix: dict[str, str], repeats: int) -> dict[str, float]:
    out = {}
    with requests.Session() as s:
        for name, q in mix.items():
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                r = s.get(url, params={"query": q}, headers={"Accept": ACCEPT}, timeout=120)
                times.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise RuntimeError(f"{name} on {url}: {r.status_code} {r.text[:200]}")
            out[name] = statistics.median(times) * 1000
    return out


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


def varied_mix(films: int) -> dict[str, str]:
    """The same mix with lookups of a random film each time (KEY), so a result cache mostly misses."""
    k = films // 2
    mix = query_mix(films)
    for name in ("lookup", "ask", "describe"):
        mix[name] = mix[name].replace(f"film/r{k + 1}>", "film/rKEY>").replace(f"film/r{k}>", "film/rKEY>")
    return mix


def load(url: str, mix: dict[str, str], seconds: int, connections: int, workdir: Path, films: int) -> dict[str, float]:
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
    data = json.loads(line[5:])
    data["rps"] = data["requests"] / data["seconds"]
    return data


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("bench needs wrk: run 'apt-get install wrk' as root")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)


def bench_size(films: int, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    from generate import generate

    data = workdir / f"films-{films}.nt"
    if not data.exists():
        with data.open("w") as out:
            generate(films, out)
    bin_dir = Path(sys.executable).parent
    fg_store, ox_store = workdir / f"fg-{films}", workdir / f"ox-{films}"
    for d in (fg_store, ox_store):
        shutil.rmtree(d, ignore_errors=True)
    t = time.monotonic()
    subprocess.run([str(bin_dir / "filmgraph"), "build", str(fg_store), "--data", str(data), "--validate", "false"], check=True, stdout=subprocess.DEVNULL)
    fg_build = time.monotonic() - t
    t = time.monotonic()
    subprocess.run([str(bin_dir / "oxigraph"), "load", "--location", str(ox_store), "--file", str(data)], check=True, capture_output=True)
    ox_build = time.monotonic() - t

    fg_cmd = [str(bin_dir / "filmgraph"), "serve", "--store-path", str(fg_store), "--workers", str(args.workers), "--query-workers", str(args.query_workers)]
    ports = [free_port() for _ in range(3)]
    servers = [
        Server("filmgraph", [*fg_cmd, "--port", str(ports[0])], f"http://127.0.0.1:{ports[0]}/sparql"),
        Server("filmgraph-nocache", [*fg_cmd, "--port", str(ports[1]), "--result-cache-mb", "0"], f"http://127.0.0.1:{ports[1]}/sparql"),
        Server("oxigraph", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(ox_store), "--bind", f"127.0.0.1:{ports[2]}"], f"http://127.0.0.1:{ports[2]}/query"),
    ]
    mix = query_mix(films)
    result: dict[str, object] = {"films": films, "triples": sum(1 for _ in data.open()), "build_s": {"filmgraph": fg_build, "oxigraph": ox_build}}
    try:
        for s in servers:
            s.start()
        result["start_s"] = {s.name: s.start_s for s in servers}
        for s in servers:
            latency(s.url, mix, 2)  # warm up both before measuring either
        result["latency_ms"] = {s.name: latency(s.url, mix, args.repeats) for s in servers}
        loads: dict[str, object] = {}
        for mix_name, load_mix in (("repeated", mix), ("varied", varied_mix(films))):
            rounds: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
            for _ in range(args.rounds):  # interleaved rounds: noise hits every server alike
                for s in servers:
                    rounds[s.name].append(load(s.url, load_mix, args.seconds, args.connections, workdir, films))
            loads[mix_name] = {
                name: {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p99", "errors", "non2xx")}
                for name, runs in rounds.items()
            }
        result["load"] = loads
        result["rss_mb"] = {s.name: tree_rss(s.proc.pid) / 2**20 for s in servers if s.proc}
    finally:
        for s in servers:
            s.stop()
    return result


def report(results: list[dict[str, object]]) -> str:
    """Markdown: load per mix and server with ratios to raw Oxigraph, then sequential latencies."""
    lines = [
        "| films | triples | build s fg / ox | start s fg / ox | RSS MB fg / ox | mix | rps fg | rps fg no cache | rps oxigraph | ratio fg / no cache | p50 ms fg / nc / ox | p99 ms fg / nc / ox |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        b, st, m = r["build_s"], r["start_s"], r["rss_mb"]  # type: ignore[index]
        for mix_name, ld in r["load"].items():  # type: ignore[attr-defined]
            fg, nc, ox = ld["filmgraph"], ld["filmgraph-nocache"], ld["oxigraph"]
            lines.append(
                f"| {r['films']} | {r['triples']} | {b['filmgraph']:.1f} / {b['oxigraph']:.1f} | {st['filmgraph']:.1f} / {st['oxigraph']:.1f} "  # type: ignore[index]
                f"| {m['filmgraph']:.0f} / {m['oxigraph']:.0f} | {mix_name} | {fg['rps']:.0f} | {nc['rps']:.0f} | {ox['rps']:.0f} "  # type: ignore[index]
                f"| {fg['rps'] / ox['rps']:.2f}x / {nc['rps'] / ox['rps']:.2f}x "
                f"| {fg['p50']:.1f} / {nc['p50']:.1f} / {ox['p50']:.1f} | {fg['p99']:.1f} / {nc['p99']:.1f} / {ox['p99']:.1f} |"
            )
    lines += ["", "Median latency per query, sequential, ms (filmgraph without cache / oxigraph):", ""]
    for r in results:
        lat = r["latency_ms"]  # type: ignore[index]
        cells = ", ".join(f"{q} {lat['filmgraph-nocache'][q]:.1f} / {lat['oxigraph'][q]:.1f}" for q in lat["oxigraph"])  # type: ignore[index]
        lines.append(f"- {r['films']} films: {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="filmgraph vs raw Oxigraph, same run")
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated numbers of films")
    p.add_argument("--seconds", type=int, default=8, help="length of one wrk load round")
    p.add_argument("--rounds", type=int, default=3, help="load rounds per server (median reported)")
    p.add_argument("--connections", type=int, default=8, help="concurrent connections of the load")
    p.add_argument("--repeats", type=int, default=7, help="sequential runs per query for the latency median")
    p.add_argument("--workers", type=int, default=2, help="filmgraph web workers")
    p.add_argument("--query-workers", type=int, default=2, help="filmgraph query workers per web worker")
    p.add_argument("--workdir", type=Path, default=HERE / "data")
    p.add_argument("--output", type=Path, default=HERE / "out" / "results.json")
    args = p.parse_args(argv)
    ensure_wrk()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for films in (int(x) for x in args.sizes.split(",")):
        print(f"== {films} films", file=sys.stderr, flush=True)
        results.append(bench_size(films, args, args.workdir))
        print(report(results[-1:]), file=sys.stderr, flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
