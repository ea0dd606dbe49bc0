"""Remote rows: filmgraph in front of a SPARQL store (the Oxigraph server, Virtuoso), its site index built once.

One command (after `scripts/setup --test`, which installs Virtuoso):

    .venv/bin/python bench/remote.py                    # 10^5 films, both stores (about 15 minutes on 2 cores)
    .venv/bin/python bench/remote.py --sizes 1000000 --store-timeout 1200 --virtuoso-buffers 680000
        --index-rules false                             # 10^6 on request (the index alone: about 35 minutes here)

For each size and store: generate the graph (bench/generate.py); load the store
(Oxigraph: `oxigraph load` into a directory, then `oxigraph serve-read-only
--timeout-s`; Virtuoso: its own ini and data directory, `filmgraph load` through
its authenticated graph store into a named graph, or from 10^6 films its own bulk
loader), timing the load; build the
remote site index once (`filmgraph build DIR --store-url URL`), timing it; then
watch the store's CPU for a while (nothing of the build may still run there);
start `filmgraph serve --store-url URL --store-path DIR` and time its start to
the first answer; watch the store's CPU again; run the query mix of bench/run.py
with wrk (req/s, p50, p99); and read the memory (RSS) of filmgraph's process tree
and of the store. Figures go to bench/out/remote.json and, as a Markdown table,
to stdout. Servers are stopped by their pids; data is kept with --keep.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # the tests' Virtuoso helper writes the ini

from generate import generate  # noqa: E402
from run import query_mix  # noqa: E402
from servers import Server, Timer, each_size, ensure_wrk, free_port, tree_rss, wrk_load  # noqa: E402

from tests.virtuoso_server import GRAPH, PASSWORD, USER, VirtuosoServer  # noqa: E402

CPU_WATCH_S = 10.0
STORES = ("oxigraph", "virtuoso")
BULK_FROM = 1_000_000
"""Films from which Virtuoso is filled by its bulk loader rather than through its graph store (``--virtuoso-load auto``)."""


def cpu_percent(pid: int, seconds: float) -> float:
    """CPU of a process tree over ``seconds``, percent of one core (100 = one core busy all the time)."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    before = sum(sum(p.cpu_times()[:2]) for p in procs)
    time.sleep(seconds)
    after = sum(sum(p.cpu_times()[:2]) for p in procs if p.is_running())
    return 100.0 * (after - before) / seconds


def _filmgraph(bin_dir: Path) -> str:
    return str(bin_dir / "filmgraph")


def _start_store(store: str, films: int, data: Path, work: Path, args: argparse.Namespace, result: dict[str, Any]) -> tuple[Any, str, str, int]:
    """Start (and load, timed) one store: its object, its query URL, its graph, its pid."""
    bin_dir = Path(sys.executable).parent
    if store == "oxigraph":
        location = work / f"ox-{films}"
        if not location.is_dir():
            with Timer() as t:
                subprocess.run([str(bin_dir / "oxigraph"), "load", "--location", str(location), "--file", str(data)], check=True, capture_output=True)
            result["load_s"] = t.seconds
        port = free_port()
        url = f"http://127.0.0.1:{port}/query"
        server = Server("oxigraph", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                                     "--timeout-s", str(args.store_timeout)], url, work / "oxigraph.log")
        server.start()
        assert server.proc is not None
        return server, url, "", server.proc.pid
    location = work / f"virtuoso-{films}"
    fresh = not (location / "virtuoso.db").is_file()
    server = VirtuosoServer(location, timeout_s=args.store_timeout, buffers=args.virtuoso_buffers)
    try:
        if fresh and _bulk(args, films):
            with Timer() as t:
                virtuoso_bulk_load(server, data)
            result["load_s"], result["load_by"] = t.seconds, "bulk loader"
        elif fresh:
            result["load_by"] = "filmgraph load"
            with Timer() as t:
                subprocess.run([_filmgraph(bin_dir), "load", "--into", server.query_url, "--graph-store", server.graph_store_url,
                                "--store-graph", GRAPH, "--data", str(data), "--validate", "false", "--quiet", "--timeout", "7200"], check=True)
            result["load_s"] = t.seconds
    except BaseException:
        server.stop()
        raise
    return server, server.query_url, GRAPH, server.process.pid


def _bulk(args: argparse.Namespace, films: int) -> bool:
    return args.virtuoso_load == "bulk" or (args.virtuoso_load == "auto" and films >= BULK_FROM)


def virtuoso_bulk_load(server: VirtuosoServer, data: Path) -> None:
    """Fill Virtuoso's graph with its own bulk loader, as its documentation advises for large files.

    The same triples as ``filmgraph load --validate false`` sends (the shipped ontology, then the data, as
    written), into the same named graph: ``ld_dir`` registers the files (they must sit in a folder of the
    ini's ``DirsAllowed``: the server's own, hard links), ``rdf_loader_run`` loads them, ``checkpoint``
    makes them durable. A file the loader could not read leaves its error in ``DB.DBA.load_list``: raised."""
    from filmgraph.core.settings import bundled_dir

    folder = server.location / "bulk"
    folder.mkdir(exist_ok=True)
    for source in (bundled_dir("ontology") / "filmgraph.ttl", data):
        target = folder / source.name
        if not target.exists():
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
    isql = shutil.which("isql-vt") or shutil.which("isql")
    if isql is None:
        raise FileNotFoundError("isql-vt is not installed (Debian's virtuoso-opensource gives it)")
    script = (f"ld_dir('{folder}', '*.*', '{GRAPH}');\n"
              "rdf_loader_run();\n"
              "checkpoint;\n"
              "SELECT 'failed', COUNT(*) FROM DB.DBA.load_list WHERE ll_error IS NOT NULL OR ll_state <> 2;\n"
              "SELECT ll_file, ll_state, ll_error FROM DB.DBA.load_list WHERE ll_error IS NOT NULL OR ll_state <> 2;\n")
    out = subprocess.run([isql, f"127.0.0.1:{server.sql_port}", USER, PASSWORD, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF", "ERRORS=STDOUT"],
                         input=script, capture_output=True, text=True, check=True, timeout=4 * 3600)
    failed = re.search(r"^failed\s+(\d+)\s*$", out.stdout, re.MULTILINE)
    if failed is None or int(failed[1]):  # a file with an error or not loaded: the list after the count says which
        raise RuntimeError(f"Virtuoso's bulk loader failed: {out.stdout.strip()[-2000:]}")


def bench_store(store: str, films: int, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Load, build, start and measure filmgraph in front of one store."""
    work = args.workdir
    bin_dir = Path(sys.executable).parent
    result: dict[str, Any] = {"store": store}
    server, url, graph, pid = _start_store(store, films, data, work, args, result)
    site = None
    index = work / f"index-{store}-{films}"
    reuse = args.reuse_index and (index / "filmgraph-remote.json").is_file()
    if not reuse:
        shutil.rmtree(index, ignore_errors=True)
    graph_flag = ["--store-graph", graph] if graph else []
    try:
        if not reuse:
            with Timer() as t:
                subprocess.run([_filmgraph(bin_dir), "build", str(index), "--store-url", url, *graph_flag, "--index-rules", args.index_rules,
                                "--quiet"], check=True)
            result["build_s"] = t.seconds
            result["store_cpu_after_build_pct"] = cpu_percent(pid, CPU_WATCH_S)
        port = free_port()
        site = Server(f"filmgraph-{store}", [_filmgraph(bin_dir), "serve", "--store-url", url, *graph_flag, "--store-path", str(index),
                                            "--port", str(port), "--workers", str(args.workers),
                                            # wrk is one client (one address): the per-client budget and queue would
                                            # measure themselves, not the path (as bench/engine.py); opened, and said so
                                            "--query-budget", "0", "--query-queue", "64"],
                      f"http://127.0.0.1:{port}/sparql", work / f"filmgraph-{store}.log")
        site.start()
        result["start_s"] = site.start_s
        result["store_cpu_after_start_pct"] = cpu_percent(pid, CPU_WATCH_S)
        result["load"] = wrk_load(site.url, query_mix(films), args.seconds, args.connections, work, films)
        result["rss_mb"] = {"filmgraph": site.rss() / 2**20, "store": tree_rss(pid) / 2**20}
    finally:
        if site is not None:
            site.stop()
        server.stop()
        if not args.keep:
            shutil.rmtree(index, ignore_errors=True)
    result["store_timeout_s"] = args.store_timeout
    result["index_rules"] = args.index_rules == "true"
    return result


def bench_size(films: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every store at one size."""
    data = args.workdir / f"films-{films}.nt"
    if not data.exists():
        with data.open("w", encoding="utf-8") as out:
            generate(films, out)
    out: dict[str, Any] = {"films": films, "triples": sum(1 for _ in data.open(encoding="utf-8")), "stores": []}
    for store in args.stores.split(","):
        print(f"-- {store}", file=sys.stderr, flush=True)
        out["stores"].append(bench_store(store, films, data, args))
    return out


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(results: list[dict[str, Any]]) -> str:
    """The remote rows as a Markdown table."""
    lines = ["| films | store | load s | build s | store CPU after build % | start s | store CPU after start % | rps | p50 ms | p99 ms | errors | RSS MB filmgraph / store |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        for s in r["stores"]:
            ld = s.get("load", {})
            lines.append(f"| {r['films']:,} | {s['store']} | {_f(s.get('load_s'))} | {_f(s.get('build_s'))} | {_f(s.get('store_cpu_after_build_pct'))} "
                         f"| {_f(s.get('start_s'), 2)} | {_f(s.get('store_cpu_after_start_pct'))} | {_f(ld.get('rps'), 0)} | {_f(ld.get('p50'))} "
                         f"| {_f(ld.get('p99'))} | {ld.get('errors', 0):.0f}+{ld.get('non2xx', 0):.0f} | {_f(s['rss_mb']['filmgraph'], 0)} / {_f(s['rss_mb']['store'], 0)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the remote rows."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="100000", help="film counts, comma-separated (default 100000; 1000000 on request)")
    p.add_argument("--stores", default=",".join(STORES), help="stores to measure (oxigraph,virtuoso)")
    p.add_argument("--workers", type=int, default=2, help="filmgraph web workers")
    p.add_argument("--seconds", type=int, default=20, help="seconds of wrk load")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--store-timeout", type=int, default=600, help="the store's own time limit, seconds (--timeout-s, MaxQueryExecutionTime): at least the index's 600 s for a build")
    p.add_argument("--index-rules", choices=["true", "false"], default="true", help="run the rules at build (false: the index alone, as for data whose rules are too slow)")
    p.add_argument("--virtuoso-load", choices=["auto", "bulk", "graph-store"], default="auto",
                   help=f"how Virtuoso is filled: its bulk loader (ld_dir, rdf_loader_run), filmgraph load through its graph store, or auto (bulk from {BULK_FROM:,} films)")
    p.add_argument("--virtuoso-buffers", type=int, default=340_000, help="Virtuoso's NumberOfBuffers (8 KiB each)")
    p.add_argument("--workdir", type=Path, default=HERE / "out" / "remote-work", help="where data, stores and logs go")
    p.add_argument("--output", type=Path, default=HERE / "out" / "remote.json", help="figures as JSON")
    p.add_argument("--keep", action="store_true", help="keep generated data, loaded stores and indexes")
    p.add_argument("--reuse-index", action="store_true", help="serve a kept index of an earlier run (no build figures)")
    args = p.parse_args(argv)
    ensure_wrk()
    try:
        return each_size(args, bench_size, report)
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
