"""Close to the engine: /sparql of filmgraph against the raw engine at its best, cache off first, in one run.

One command (after `scripts/setup`):

    .venv/bin/python bench/engine.py                     # 10^4 and 10^5 films, about 15 minutes on 2 cores
    .venv/bin/python bench/engine.py --sizes 10000 --seconds 3 --rounds 1   # a quick look

Targets, on loopback, over the same generated graph (bench/generate.py):

- ``ox-mem``: ``oxigraph serve`` in memory, the data loaded from N-Triples (the engine at its best);
- ``ox-ro``: ``oxigraph serve-read-only`` on a byte copy of filmgraph's own built store;
- ``fg-nc``: ``filmgraph serve --store-path`` with ``--result-cache-mb 0`` (every answer computed);
- ``fg``: the same with its result cache (every answer after the first is a cache hit);
- ``fg-gunicorn-nc``: ``--server gunicorn``, cache off (the server choice measured on the same path);
- ``rdflib-endpoint``: the closest Python peer, over rdflib's in-memory graph (when the package is installed).

Queries: films of a year (SELECT), one film's neighbourhood (CONSTRUCT), a label
search (regex) and an ASK, plus the benchmark's usual mix (bench/run.py). Each
is loaded with wrk (8 connections, POST application/sparql-query), in rounds
interleaved across the targets (the machine is shared and noisy: ratios are
per round, then the median); then each query once more at one connection
(wrk -c1), where filmgraph's own time per request is its p50 minus ox-mem's;
and the memory of each target's process tree (RSS, and PSS: pages shared after
fork counted once). Figures go to bench/out/engine.json and, as Markdown, to stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from run import BASE, FG, SCHEMA, query_mix  # noqa: E402
from servers import Server, Timer, each_size, ensure_wrk, free_port, tree_memory  # noqa: E402

LUA = """
local body = io.open("%s"):read("*a")
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/sparql-query"
wrk.headers["Accept"] = "%s"
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %%d, \\"seconds\\": %%f, \\"errors\\": %%d, \\"non2xx\\": %%d, \\"p50\\": %%f, \\"p99\\": %%f}\\n",
    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def queries(films: int) -> dict[str, tuple[str, str]]:
    """The four queries of the issue, then the usual mix: name -> (query, Accept)."""
    k = films // 2
    film = f"<{BASE}film/r{k}>"
    results, graph = "application/sparql-results+json", "application/n-triples"
    four = {
        "year": (f"SELECT ?f ?t WHERE {{ ?f <{FG}releaseYear> <{BASE}year/1960> ; <{SCHEMA}name> ?t }}", results),
        "neighbourhood": (f"CONSTRUCT {{ {film} ?p ?o . ?s ?q {film} }} WHERE {{ {{ {film} ?p ?o }} UNION {{ ?s ?q {film} }} }}", graph),
        "label-search": (f'SELECT ?s ?l WHERE {{ ?s <{SCHEMA}name> ?l FILTER(REGEX(?l, "^film {k}", "i")) }} LIMIT 20', results),
        "ask": (f"ASK {{ {film} ?p ?o }}", results),
    }
    mix = {f"mix:{name}": (q, graph if name == "describe" else results) for name, q in query_mix(films).items()}
    return {**four, **mix}


def wrk_post(url: str, query: str, accept: str, seconds: int, connections: int, workdir: Path) -> dict[str, float]:
    """A bounded load of one query, POSTed: req/s, p50/p99 ms, errors."""
    body = workdir / "query.rq"
    body.write_text(query)
    script = workdir / "post.lua"
    script.write_text(LUA % (body, accept))
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    data: dict[str, float] = json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:])
    data["rps"] = data["requests"] / data["seconds"]
    return data


def targets(films: int, args: argparse.Namespace, bins: Path, data: Path, fg_store: Path, ox_copy: Path) -> list[Server]:
    ports = [free_port() for _ in range(6)]
    logs = args.workdir
    # wrk is one client (one address): filmgraph's per-client protections (a budget of query time, a share of
    # the workers, a bounded queue) would measure themselves, not the path. They are opened here, and said so.
    fg = [str(bins / "filmgraph"), "serve", "--store-path", str(fg_store), *(["--workers", str(args.workers)] if args.workers else []),
          "--query-workers", str(args.query_workers), "--query-budget", "0", "--query-queue", "64"]
    out = [
        Server("ox-mem", [str(bins / "oxigraph"), "serve", "--bind", f"127.0.0.1:{ports[0]}"], f"http://127.0.0.1:{ports[0]}/query", logs / "ox-mem.log"),
        Server("ox-ro", [str(bins / "oxigraph"), "serve-read-only", "--location", str(ox_copy), "--bind", f"127.0.0.1:{ports[1]}"], f"http://127.0.0.1:{ports[1]}/query", logs / "ox-ro.log"),
        Server("fg-nc", [*fg, "--port", str(ports[2]), "--result-cache-mb", "0"], f"http://127.0.0.1:{ports[2]}/sparql", logs / "fg-nc.log"),
        Server("fg", [*fg, "--port", str(ports[3])], f"http://127.0.0.1:{ports[3]}/sparql", logs / "fg.log"),
        Server("fg-gunicorn-nc", [*fg, "--port", str(ports[4]), "--result-cache-mb", "0", "--server", "gunicorn"], f"http://127.0.0.1:{ports[4]}/sparql", logs / "fg-gunicorn.log"),
    ]
    if shutil.which("rdflib-endpoint", path=str(bins)) and films <= args.rdflib_max:
        out.append(Server("rdflib-endpoint", [str(bins / "rdflib-endpoint"), "serve", str(data), "--host", "127.0.0.1", "--port", str(ports[5])],
                          f"http://127.0.0.1:{ports[5]}/", logs / "rdflib.log"))
    return out


def load_ox_mem(server: Server, data: Path) -> None:
    """Fill the in-memory Oxigraph server through its graph store endpoint."""
    store = server.url.rsplit("/", 1)[0] + "/store?default"
    subprocess.run(["curl", "-sf", "-X", "POST", "-H", "Content-Type: application/n-triples", "--data-binary", f"@{data}", store], check=True)


def bench_size(films: int, args: argparse.Namespace) -> dict[str, Any]:
    bins = Path(sys.executable).parent
    work = args.workdir / f"engine-{films}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = work / "films.nt"
    with data.open("w", encoding="utf-8") as out:
        triples = generate(films, out)
    fg_store = work / "fg-store"
    with Timer() as built:
        subprocess.run([str(bins / "filmgraph"), "build", str(fg_store), "--data", str(data), "--validate", "false"], check=True, stdout=subprocess.DEVNULL)
    ox_copy = work / "ox-ro"
    shutil.copytree(fg_store, ox_copy, ignore=shutil.ignore_patterns("filmgraph-*"))
    result: dict[str, Any] = {"films": films, "triples": triples, "build_s": built.seconds}
    servers = targets(films, args, bins, data, fg_store, ox_copy)
    qs = queries(films)
    try:
        for s in servers:
            s.start()
            if s.name == "ox-mem":
                load_ox_mem(s, data)
        result["start_s"] = {s.name: s.start_s for s in servers}
        for s in servers:  # warm every target (and fill filmgraph's cache) before measuring any
            for q, accept in qs.values():
                wrk_post(s.url, q, accept, 1, 1, work)
        load: dict[str, dict[str, list[dict[str, float]]]] = {name: {s.name: [] for s in servers} for name in qs}
        for _ in range(args.rounds):
            for name, (q, accept) in qs.items():
                for s in servers:
                    load[name][s.name].append(wrk_post(s.url, q, accept, args.seconds, args.connections, work))
        result["load"] = load
        result["single"] = {name: {s.name: wrk_post(s.url, q, accept, args.seconds, 1, work) for s in servers} for name, (q, accept) in qs.items()}
        result["memory"] = {s.name: tree_memory(s.proc.pid) if s.proc else {} for s in servers}
    finally:
        for s in servers:
            s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return result


def ratio(runs: list[dict[str, float]], ref: list[dict[str, float]]) -> float:
    """Median over rounds of the per-round req/s ratio."""
    return statistics.median(a["rps"] / b["rps"] for a, b in zip(runs, ref, strict=True) if b["rps"])


def report(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        names = list(r["memory"])
        lines.append(f"\n### {r['films']:,} films ({r['triples']:,} triples)\n")
        lines.append("Load (wrk, POST, median of rounds): req/s, and the ratio to ox-mem per round (median).\n")
        lines.append("| query | " + " | ".join(names) + " | fg-nc / ox-mem | fg / ox-mem |")
        lines.append("| --- | " + " | ".join("---" for _ in names) + " | --- | --- |")
        for q, runs in r["load"].items():
            rps = [statistics.median(x["rps"] for x in runs[n]) for n in names]
            errors = sum(x["errors"] + x["non2xx"] for n in names for x in runs[n])
            lines.append(f"| {q}{' (errors: ' + str(errors) + ')' if errors else ''} | " + " | ".join(f"{v:,.0f}" for v in rps)
                         + f" | {ratio(runs['fg-nc'], runs['ox-mem']):.2f}x | {ratio(runs['fg'], runs['ox-mem']):.2f}x |")
        lines.append("\nOne connection (wrk -c1): p50 ms; filmgraph's own time = its p50 minus ox-mem's.\n")
        lines.append("| query | " + " | ".join(names) + " | fg-nc own ms |")
        lines.append("| --- | " + " | ".join("---" for _ in names) + " | --- |")
        for q, per in r["single"].items():
            lines.append(f"| {q} | " + " | ".join(f"{per[n]['p50']:.2f}" for n in names) + f" | {per['fg-nc']['p50'] - per['ox-mem']['p50']:.2f} |")
        lines.append("\nMemory of each process tree, MiB: RSS / PSS.\n")
        lines.append("| " + " | ".join(names) + " |")
        lines.append("| " + " | ".join("---" for _ in names) + " |")
        lines.append("| " + " | ".join(f"{r['memory'][n].get('rss_mb', 0):,.0f} / {r['memory'][n].get('pss_mb', 0):,.0f}" for n in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="filmgraph's /sparql against the raw engine, cache off and on, same run")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--seconds", type=int, default=5, help="length of one wrk round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=0, help="web workers of filmgraph; default: filmgraph's own (1 on a machine of 1-2 cores)")
    p.add_argument("--query-workers", type=int, default=3, help="per web worker; one client (wrk) may use all but one of them")
    p.add_argument("--rdflib-max", type=int, default=10000, help="largest size rdflib-endpoint is loaded with (it parses into memory)")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--workdir", type=Path, default=HERE / "data")
    p.add_argument("--output", type=Path, default=HERE / "out" / "engine.json")
    args = p.parse_args(argv)
    ensure_wrk()
    return each_size(args, bench_size, report)


if __name__ == "__main__":
    sys.exit(main())
