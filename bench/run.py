"""The benchmark: filmgraph (embedded and remote) against the raw Oxigraph server, measured in the same run.

One command (after `scripts/setup`):

    .venv/bin/python bench/run.py                  # 10^3, 10^4, 10^5 films (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --sizes 1000000  # 10^6 on request (about an hour; ~15 GB of disk while it runs)

For each size: generate the graph (bench/generate.py); build filmgraph's store
(`filmgraph build`: Oxigraph store, consistency rules, site index) and load
Oxigraph's (`oxigraph load`), timing both, and time `oxigraph dump` for
reference; start four servers on loopback: filmgraph on the pre-built store
(with and without its result cache), filmgraph against the Oxigraph server
(`--store-url`), and the Oxigraph server itself (`serve-read-only`), timing
each start; then measure, sequentially, the median latency of each query of
the mix, of a listing page (`/film/?after=...`) and of a label search
(`/search?q=...`) on filmgraph, and of the same done the naive way in SPARQL on
Oxigraph (ORDER BY with OFFSET; FILTER(CONTAINS(LCASE(...)))); then a bounded
concurrent load with wrk (Debian's package, installed when missing and run as
root) for a "repeated" and a "varied" mix, rounds interleaved across servers;
the memory of each server's process tree; and the time of the first
`GET /dumps/filmgraph.nt`. Every figure is a median of repeats on a shared,
noisy machine; the servers are measured in the same run, so ratios are what to
read. Results go to bench/out/results.json and, as Markdown tables, to stdout.
The stores and data of a size are deleted after it is measured (--keep keeps them).
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
from urllib.parse import urlencode

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from pages import measure as measure_pages  # noqa: E402
from pages import table as pages_table  # noqa: E402
from servers import Server, Timer, download_s, du, each_size, ensure_wrk, free_port, page_latency, sparql_latency, wrk_load  # noqa: E402

BASE = "https://w3id.org/filmgraph/"
FG = BASE + "ontology#"
SCHEMA = "https://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PAGE = 50


def query_mix(films: int) -> dict[str, str]:
    """The typical queries: lookups, a filter, an aggregate, joins, a describe."""
    k = films // 2
    return {
        "lookup": f"SELECT ?p ?o WHERE {{ <{BASE}film/r{k}> ?p ?o }}",
        "ask": f"ASK {{ <{BASE}film/r{k + 1}> ?p ?o }}",
        "describe": f"DESCRIBE <{BASE}film/r{k}>",
        "films-of-year": f"SELECT ?f ?t WHERE {{ ?f <{FG}releaseYear> <{BASE}year/1960> ; <{SCHEMA}name> ?t }} LIMIT 100",
        "claims-by-assessment": f"SELECT ?a (COUNT(?c) AS ?n) WHERE {{ ?c <{FG}assessment> ?a }} GROUP BY ?a",
        "same-year": f"SELECT ?f ?m WHERE {{ ?f <{FG}releaseYear> ?y . ?m <{FG}year> ?y }} LIMIT 100",
        "impossible-claims": (
            f"SELECT ?c ?fy ?d WHERE {{ ?c <{FG}claimPredicate> <{FG}releasedAfter> ; <{FG}claimObject> ?o ; <{FG}about> ?f . "
            f"?f <{FG}releaseYear>/<{FG}yearNumber> ?fy . ?o <{SCHEMA}startDate> ?d "
            f"FILTER(<http://www.w3.org/2001/XMLSchema#integer>(SUBSTR(STR(?d), 1, 4)) > ?fy) }} LIMIT 100"
        ),
    }


def varied_mix(films: int) -> dict[str, str]:
    """The same mix with lookups of a random film each time (KEY), so a result cache mostly misses."""
    k = films // 2
    mix = query_mix(films)
    for name in ("lookup", "ask", "describe"):
        mix[name] = mix[name].replace(f"film/r{k + 1}>", "film/rKEY>").replace(f"film/r{k}>", "film/rKEY>")
    return mix


def _even(n: int) -> int:
    return n - n % 2


def listing_paths(films: int) -> list[str]:
    """Listing pages from the middle of the film list: the page after a given film."""
    return [f"/film/?after=r{k}" for k in (films // 2, films // 3, films // 7)]


def search_texts(films: int) -> list[str]:
    """Searches: a Latin and a Cyrillic title of one film each, and two common words (more than a page of hits)."""
    return [f"film {_even(films // 2)}", f"фильм {_even(films // 3)}", "nebula comet"]


def naive_listing(films: int) -> str:
    """The listing page done the naive way: sort every film by label, skip to the middle."""
    offset = (films // 2) // PAGE * PAGE
    return (f"SELECT ?film ?label WHERE {{ VALUES ?type {{ <{FG}FilmRecord> <{FG}Film> }} ?film a ?type ; <{SCHEMA}name> ?label }} "
            f"ORDER BY LCASE(STR(?label)) ?film LIMIT {PAGE} OFFSET {offset}")


def naive_search(text: str) -> str:
    """A label search done the naive way: every label, lower-cased, searched for the text."""
    return (f"SELECT DISTINCT ?thing ?label WHERE {{ ?thing <{SCHEMA}name>|<{SKOS}altLabel>|<{FG}originalTitle> ?label "
            f"FILTER(CONTAINS(LCASE(STR(?label)), {json.dumps(text)})) }} LIMIT {PAGE}")


def bench_size(films: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build, serve and measure one size; return its figures."""
    work = args.workdir
    data = work / f"films-{films}.nt"
    if not data.exists():
        with data.open("w", encoding="utf-8") as out:
            generate(films, out)
    bin_dir = Path(sys.executable).parent
    fg_store, ox_store = work / f"fg-{films}", work / f"ox-{films}"
    built = work / f"built-{films}.json"  # the build's figures, kept with the stores (--keep) for --reuse
    reuse = args.reuse and built.is_file() and fg_store.is_dir() and ox_store.is_dir()
    if not reuse:
        built.unlink(missing_ok=True)
        for d in (fg_store, ox_store):
            shutil.rmtree(d, ignore_errors=True)
    result: dict[str, Any] = json.loads(built.read_text()) if reuse else {"films": films, "triples": sum(1 for _ in data.open(encoding="utf-8"))}
    try:
        if not reuse:
            _build(data, work, films, bin_dir, fg_store, ox_store, result)
            if args.keep:
                built.write_text(json.dumps(result, indent=2))
        else:
            print(f"reusing the stores and build figures of {built}", file=sys.stderr, flush=True)
        result["naive_limit_s"] = args.naive_limit
        _serve_and_measure(films, args, bin_dir, fg_store, ox_store, result)
    finally:
        if not args.keep:
            built.unlink(missing_ok=True)
            for d in (fg_store, ox_store):
                shutil.rmtree(d, ignore_errors=True)
            data.unlink(missing_ok=True)
    if not args.keep:  # the servers' logs stay when a size fails, to say why
        for log in work.glob("*.log"):
            log.unlink()
    return result


def _build(data: Path, work: Path, films: int, bin_dir: Path, fg_store: Path, ox_store: Path, result: dict[str, Any]) -> None:
    with Timer() as fg_build:
        subprocess.run([str(bin_dir / "filmgraph"), "build", str(fg_store), "--data", str(data), "--validate", "false"], check=True, stdout=subprocess.DEVNULL)
    with Timer() as ox_build:
        subprocess.run([str(bin_dir / "oxigraph"), "load", "--location", str(ox_store), "--file", str(data)], check=True, capture_output=True)
    dumped = work / f"ox-dump-{films}.nt"
    with Timer() as ox_dump:
        subprocess.run([str(bin_dir / "oxigraph"), "dump", "--location", str(ox_store), "--file", str(dumped), "--graph", "default"], check=True, capture_output=True)
    dumped.unlink()
    result["build_s"] = {"filmgraph": fg_build.seconds, "oxigraph": ox_build.seconds}
    result["disk_mb"] = {"filmgraph": du(fg_store) / 2**20, "filmgraph index": du(fg_store / "filmgraph-index.sqlite") / 2**20, "oxigraph": du(ox_store) / 2**20}
    result["dump_s"] = {"oxigraph dump": ox_dump.seconds}


def _serve_and_measure(films: int, args: argparse.Namespace, bin_dir: Path, fg_store: Path, ox_store: Path, result: dict[str, Any]) -> None:
    ports = [free_port() for _ in range(4)]
    fg = [str(bin_dir / "filmgraph"), "serve", "--workers", str(args.workers), "--query-workers", str(args.query_workers)]
    ox_url = f"http://127.0.0.1:{ports[3]}/query"
    logs = args.workdir
    oxigraph = Server("oxigraph", [str(bin_dir / "oxigraph"), "serve-read-only", "--location", str(ox_store), "--bind", f"127.0.0.1:{ports[3]}"], ox_url, logs / "oxigraph.log")
    servers = [
        Server("filmgraph", [*fg, "--store-path", str(fg_store), "--port", str(ports[0])], f"http://127.0.0.1:{ports[0]}/sparql", logs / "filmgraph.log"),
        Server("filmgraph-nocache", [*fg, "--store-path", str(fg_store), "--port", str(ports[1]), "--result-cache-mb", "0"], f"http://127.0.0.1:{ports[1]}/sparql", logs / "nocache.log"),
    ]
    if not args.no_remote:
        servers.append(Server("filmgraph-remote", [*fg, "--store-url", ox_url, "--port", str(ports[2])], f"http://127.0.0.1:{ports[2]}/sparql", logs / "remote.log"))
    servers.append(oxigraph)
    sites = [s for s in servers if s.name in ("filmgraph", "filmgraph-remote")]
    mix = query_mix(films)
    try:
        oxigraph.start()  # first: the remote filmgraph reads its site index from it at startup
        for s in servers[:-1]:
            s.start()
        result["start_s"] = {s.name: s.start_s for s in servers}
        for s in servers:
            sparql_latency(s.url, mix, 1)  # warm up every server before measuring any
        result["latency_ms"] = {s.name: sparql_latency(s.url, mix, args.repeats) for s in servers}
        listing = listing_paths(films)
        searches = [f"/search?{urlencode({'q': q})}" for q in search_texts(films)]
        result["pages_ms"] = measure_pages(servers[0].root, films, args.repeats)  # every kind of page, embedded filmgraph
        result["listing_ms"] = {s.name: page_latency(s.root, listing, args.repeats) for s in sites}
        result["search_ms"] = {s.name: page_latency(s.root, searches, args.repeats) for s in sites}
        loads: dict[str, Any] = {}
        for mix_name, load_mix in (("repeated", mix), ("varied", varied_mix(films))):
            rounds: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
            for _ in range(args.rounds):  # interleaved rounds: noise hits every server alike
                for s in servers:
                    rounds[s.name].append(wrk_load(s.url, load_mix, args.seconds, args.connections, args.workdir, films))
            loads[mix_name] = {name: {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p99", "errors", "non2xx")}
                               for name, runs in rounds.items()}
        result["load"] = loads
        result["rss_mb"] = {s.name: s.rss() / 2**20 for s in servers}
        for s in sites:
            seconds, size = download_s(s.root + "/dumps/filmgraph.nt")
            result["dump_s"][s.name] = seconds
            result["dump_mb"] = size / 2**20
        # Last: a naive query that outlasts its limit goes on burning a core of the Oxigraph server.
        print("naive SPARQL on the Oxigraph server", file=sys.stderr, flush=True)
        naive = 1 if films >= 1_000_000 else 3 if films >= 100_000 else args.repeats
        result["search_ms"]["oxigraph (CONTAINS, LCASE)"] = _naive_ms(ox_url, [naive_search(q) for q in search_texts(films)], naive, args.naive_limit)
        result["listing_ms"]["oxigraph (ORDER BY, OFFSET)"] = _naive_ms(ox_url, [naive_listing(films)], naive, args.naive_limit)
    finally:
        for s in servers:
            s.stop()


def _naive_ms(url: str, queries: list[str], repeats: int, limit: float) -> float | None:
    """Median over the queries of their median time, ms; None when one takes longer than ``limit`` seconds."""
    times = []
    for query in queries:
        try:
            times.append(statistics.median(sparql_latency(url, {"q": query}, repeats, timeout=limit).values()))
        except requests.Timeout:
            return None
    return statistics.median(times)


def _naive(value: float | None, r: dict[str, Any]) -> str:
    return _f(value) if value is not None else f"> {r.get('naive_limit_s', 0) * 1000:,.0f}"


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables: cost per size, load per mix with ratios to raw Oxigraph, and latency per query."""
    lines = [
        "| films | triples | build s fg / ox | disk MB fg (index) / ox | start s fg / remote / ox | RSS MB fg / remote / ox "
        "| listing ms fg / remote / ox naive | search ms fg / remote / ox naive | mix median ms fg / nc / remote / ox | dump s fg / remote / ox CLI |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        b, st, m, d, disk = r["build_s"], r["start_s"], r["rss_mb"], r["dump_s"], r["disk_mb"]
        lat = {name: statistics.median(v.values()) for name, v in r["latency_ms"].items()}
        li, se = r["listing_ms"], r["search_ms"]
        naive_l = next((v for k, v in li.items() if k.startswith("oxigraph")), None)
        naive_s = next((v for k, v in se.items() if k.startswith("oxigraph")), None)
        lines.append(
            f"| {r['films']:,} | {r['triples']:,} | {_f(b['filmgraph'])} / {_f(b['oxigraph'])} "
            f"| {_f(disk['filmgraph'], 0)} ({_f(disk['filmgraph index'], 0)}) / {_f(disk['oxigraph'], 0)} "
            f"| {_f(st['filmgraph'])} / {_f(st.get('filmgraph-remote'))} / {_f(st['oxigraph'])} "
            f"| {_f(m['filmgraph'], 0)} / {_f(m.get('filmgraph-remote'), 0)} / {_f(m['oxigraph'], 0)} "
            f"| {_f(li['filmgraph'])} / {_f(li.get('filmgraph-remote'))} / {_naive(naive_l, r)} "
            f"| {_f(se['filmgraph'])} / {_f(se.get('filmgraph-remote'))} / {_naive(naive_s, r)} "
            f"| {_f(lat['filmgraph'])} / {_f(lat['filmgraph-nocache'])} / {_f(lat.get('filmgraph-remote'))} / {_f(lat['oxigraph'])} "
            f"| {_f(d.get('filmgraph'))} / {_f(d.get('filmgraph-remote'))} / {_f(d['oxigraph dump'])} |"
        )
    lines += [
        "",
        "| films | mix | rps fg | rps fg no cache | rps fg remote | rps oxigraph | fg / ox | no cache / ox | remote / ox | p50 ms fg / nc / remote / ox | p99 ms fg / nc / remote / ox |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for mix_name, ld in r["load"].items():
            fg, nc, ox = ld["filmgraph"], ld["filmgraph-nocache"], ld["oxigraph"]
            rm = ld.get("filmgraph-remote")
            lines.append(
                f"| {r['films']:,} | {mix_name} | {fg['rps']:,.0f} | {nc['rps']:,.0f} | {_f(rm and rm['rps'], 0)} | {ox['rps']:,.0f} "
                f"| {fg['rps'] / ox['rps']:.2f}x | {nc['rps'] / ox['rps']:.2f}x | {_f(rm and rm['rps'] / ox['rps'], 2)}x "
                f"| {fg['p50']:.1f} / {nc['p50']:.1f} / {_f(rm and rm['p50'])} / {ox['p50']:.1f} "
                f"| {fg['p99']:.1f} / {nc['p99']:.1f} / {_f(rm and rm['p99'])} / {ox['p99']:.1f} |"
            )
    for r in results:
        if "pages_ms" in r:
            lines += ["", f"Every kind of page, embedded filmgraph, {r['films']:,} films (first answer of a process, then warm median):", "", pages_table(r["pages_ms"])]
    lines += ["", "Median latency per query, sequential, ms (filmgraph without cache / filmgraph remote / oxigraph):", ""]
    for r in results:
        lat = r["latency_ms"]
        cells = ", ".join(f"{q} {lat['filmgraph-nocache'][q]:.1f} / {_f(lat.get('filmgraph-remote', {}).get(q))} / {lat['oxigraph'][q]:.1f}" for q in lat["oxigraph"])
        lines.append(f"- {r['films']:,} films: {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size; print the tables and write the figures as JSON."""
    p = argparse.ArgumentParser(description="filmgraph (embedded, remote) vs raw Oxigraph, same run")
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated numbers of films")
    p.add_argument("--seconds", type=int, default=5, help="length of one wrk load round")
    p.add_argument("--rounds", type=int, default=2, help="load rounds per server and mix (median reported)")
    p.add_argument("--connections", type=int, default=8, help="concurrent connections of the load")
    p.add_argument("--repeats", type=int, default=5, help="sequential runs per query or page for the latency medians")
    p.add_argument("--workers", type=int, default=2, help="filmgraph web workers")
    p.add_argument("--query-workers", type=int, default=2, help="filmgraph query workers per web worker")
    p.add_argument("--no-remote", action="store_true", help="leave out filmgraph against the Oxigraph server")
    p.add_argument("--keep", action="store_true", help="keep the generated data and stores (bench/data) after measuring")
    p.add_argument("--naive-limit", type=float, default=120.0, help="seconds one naive SPARQL listing or search may take on the Oxigraph server (reported as over it)")
    p.add_argument("--reuse", action="store_true", help="with stores kept by an earlier --keep run of the same size, skip the build and reuse its figures")
    p.add_argument("--workdir", type=Path, default=HERE / "data")
    p.add_argument("--output", type=Path, default=HERE / "out" / "results.json")
    args = p.parse_args(argv)
    ensure_wrk()
    return each_size(args, bench_size, report)


if __name__ == "__main__":
    sys.exit(main())
