"""What a visitor of a large site waits for: every kind of page of filmgraph, first answer and warm median.

``bench/run.py`` calls :func:`measure` on the embedded filmgraph of each size; run alone, it serves a
store that ``filmgraph build`` (or ``bench/run.py --keep``) made and measures it:

    .venv/bin/python bench/pages.py bench/data/fg-1000000 --films 1000000

The first answer of a page includes what a process computes once (the dataset description's
statistics, the consistency report when the index has none); the warm median is what every later
visitor waits for. Each path is asked on one keep-alive connection, so both web workers may see it
first: the "first" column is the slower of the first two answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from servers import Server, free_port  # noqa: E402


def page_set(films: int) -> dict[str, tuple[str, str, dict[str, str] | None]]:
    """The pages, by name: (method, path, form body or None)."""
    k = films // 2
    batch = {f"q{i}": {"query": f"film {k + i}", "type": "film"} for i in range(10)}
    return {
        "home": ("GET", "/", None),
        "film list, first page": ("GET", "/film/", None),
        "film list, middle page": ("GET", f"/film/?after=r{k}", None),
        "year page": ("GET", "/year/1960", None),
        "theme page (a hub)": ("GET", "/theme/mars", None),
        "curated list page (every record links to it)": ("GET", "/work/curated-list", None),
        "film page (HTML)": ("GET", f"/film/r{k}.html", None),
        "film page (Turtle)": ("GET", f"/film/r{k}.ttl", None),
        "search": ("GET", "/search?" + urlencode({"q": f"film {k}"}), None),
        "reconcile, 10 queries": ("POST", "/reconcile", {"queries": json.dumps(batch)}),
        "reconcile suggest": ("GET", "/reconcile/suggest/entity?" + urlencode({"prefix": f"film {k}"}), None),
        "dataset description": ("GET", "/dataset.html", None),
        "service description": ("GET", "/sparql", None),
        "health": ("GET", "/healthz", None),
    }


def _accept(path: str) -> str:
    if path.startswith(("/reconcile", "/healthz")):
        return "application/json"
    return "text/turtle" if path.startswith("/sparql") or path.endswith(".ttl") else "text/html"


def measure(root: str, films: int, repeats: int, timeout: float = 900) -> dict[str, dict[str, Any]]:
    """For each page: status, first answer (slower of the first two), warm median, ms."""
    out: dict[str, dict[str, Any]] = {}
    with requests.Session() as s:
        for name, (method, path, form) in page_set(films).items():
            times, status = [], 0
            for _ in range(2 + repeats):
                t = time.perf_counter()
                try:
                    r = s.request(method, root + path, data=form, headers={"Accept": _accept(path)}, timeout=timeout)
                    status = r.status_code
                except requests.RequestException as exc:  # a worker killed mid-answer: say so, go on
                    status = f"{type(exc).__name__}"
                times.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    break
            out[name] = {
                "path": path,
                "status": status,
                "first_ms": max(times[:2]),
                "warm_ms": statistics.median(times[2:]) if len(times) > 2 else None,
            }
    return out


def table(pages: dict[str, dict[str, Any]]) -> str:
    """The figures as a markdown table."""
    lines = ["| page | path | status | first ms | warm median ms |", "| --- | --- | --- | --- | --- |"]
    for name, p in pages.items():
        warm = "n/a" if p["warm_ms"] is None else f"{p['warm_ms']:,.1f}"
        lines.append(f"| {name} | `{p['path'][:60]}` | {p['status']} | {p['first_ms']:,.1f} | {warm} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Serve a pre-built store with ``filmgraph serve`` and measure its pages."""
    p = argparse.ArgumentParser(description="every kind of page of filmgraph on a pre-built store: first answer and warm median")
    p.add_argument("store", type=Path, help="a store made by 'filmgraph build'")
    p.add_argument("--films", type=int, required=True, help="how many films bench/generate.py put in it")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--output", type=Path, default=None, help="write the figures as JSON here too")
    args = p.parse_args(argv)
    port = free_port()
    bin_dir = Path(sys.executable).parent
    server = Server("filmgraph", [str(bin_dir / "filmgraph"), "serve", "--store-path", str(args.store), "--port", str(port)],
                    f"http://127.0.0.1:{port}/sparql", args.store.parent / f"pages-{port}.log")
    try:
        server.start()
        pages = measure(server.root, args.films, args.repeats)
        result = {"films": args.films, "start_s": server.start_s, "pages": pages, "rss_mb": server.rss() / 2**20}
    finally:
        server.stop()
    print(f"start {result['start_s']:.1f} s, RSS {result['rss_mb']:,.0f} MB after the pages")
    print(table(pages))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
