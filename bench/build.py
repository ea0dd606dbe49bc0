"""The build benchmark: `filmgraph build` against `oxigraph load` of the same file, in the same run.

One command (after `scripts/setup`):

    .venv/bin/python bench/build.py                    # 10^4 and 10^5 films (about 5 minutes on 2 cores)
    .venv/bin/python bench/build.py --sizes 1000000    # 10^6 on request (about 30 minutes, ~12 GB of disk while it runs)

For each size: generate the graph (bench/generate.py, N-Triples), load it with
`oxigraph load` (Oxigraph's own bulk loader, the reference), then build it with
`filmgraph build` (Oxigraph store, the consistency rules, the site index, the
dataset statistics), timing both and sampling the resident memory of each
command's whole process tree every 0.2 s. The build's phases come from its
progress lines on standard error (`build: PHASE: done, ... in S s`); phases that
run beside others (the rules) overlap the rest, so they do not add up to the
total. The memory is also reported per process (the build, each rule process:
its own peak, and what each held at the tree's peak), every sample in
bench/out/build-memory-N.csv. Disk is what each leaves in its folder: filmgraph's
store and its site index, Oxigraph's store. Results go to bench/out/build.json and, as a Markdown
table, to stdout; the data and stores are deleted after each size unless --keep.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
import psutil  # noqa: E402
from servers import du, each_size  # noqa: E402

PHASE_DONE = re.compile(r"^build: (?P<name>.+?): done, (?:(?P<count>[\d,]+) (?P<unit>\S+) )?in (?P<seconds>[\d.]+) s")
SAMPLE_S = 0.2


def _role(proc: "psutil.Process", root: int) -> str:
    """What a process of the build is: the build itself, one of its rule processes, or another child."""
    if proc.pid == root:
        return "build"
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return "other"
    return "rules" if "_rules_apart" in cmd else "other"


def run_measured(command: list[str], log: Path, timeline: Path | None = None) -> tuple[float, int, str, dict[str, Any]]:
    """Run a command; return its wall time (s), the peak resident memory of its process tree (bytes), its stderr,
    and the memory by process: each process's own peak and what each held at the tree's peak (MB).
    ``timeline``: a CSV of every sample (seconds, pid, role, MB)."""
    peak = 0
    own: dict[int, tuple[str, int]] = {}
    at_peak: dict[int, tuple[str, int]] = {}
    samples: list[str] = []
    with log.open("w+", encoding="utf-8") as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, text=True)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, at_peak
            while not done.wait(SAMPLE_S):
                try:
                    root = psutil.Process(proc.pid)
                    procs = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                now: dict[int, tuple[str, int]] = {}
                for x in procs:
                    try:
                        now[x.pid] = (_role(x, proc.pid), x.memory_info().rss)
                    except psutil.Error:
                        pass
                t = time.monotonic() - started
                for pid, (role, rss) in now.items():
                    if rss > own.get(pid, ("", 0))[1]:
                        own[pid] = (role, rss)
                    samples.append(f"{t:.1f},{pid},{role},{rss / 2**20:.0f}")
                total = sum(rss for _, rss in now.values())
                if total > peak:
                    peak, at_peak = total, now

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
        err.seek(0)
        text = err.read()
    if code != 0:
        raise RuntimeError(f"{command[0]} failed ({code}):\n{text[-3000:]}")
    if timeline is not None:
        timeline.write_text("seconds,pid,role,mb\n" + "\n".join(samples) + "\n")
    by_process = {
        "own_peak_mb": sorted(([role, round(rss / 2**20)] for role, rss in own.values()), key=lambda x: (x[0] != "build", x[0], -x[1])),
        "at_tree_peak_mb": sorted(([role, round(rss / 2**20)] for role, rss in at_peak.values()), key=lambda x: (x[0] != "build", x[0], -x[1])),
    }
    return seconds, peak, text, by_process


def phases(stderr: str) -> dict[str, float]:
    """Seconds per phase, from the build's progress lines."""
    out = {}
    for line in stderr.splitlines():
        m = PHASE_DONE.match(line)
        if m:
            out[m["name"]] = float(m["seconds"])
    return out


def bench_size(films: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, load with Oxigraph, build with filmgraph; return the figures of one size."""
    work: Path = args.workdir
    data = work / f"films-{films}.nt"
    if not data.exists():
        print(f"generating {films:,} films", file=sys.stderr, flush=True)
        with data.open("w", encoding="utf-8") as out:
            generate(films, out)
    bin_dir = Path(sys.executable).parent
    fg_store, ox_store = work / f"build-fg-{films}", work / f"build-ox-{films}"
    for d in (fg_store, ox_store):
        shutil.rmtree(d, ignore_errors=True)
    result: dict[str, Any] = {"films": films, "triples": sum(1 for _ in data.open(encoding="utf-8")), "file_mb": data.stat().st_size / 2**20}
    try:
        print(f"oxigraph load, {films:,} films", file=sys.stderr, flush=True)
        ox_s, ox_rss, _, _ = run_measured([str(bin_dir / "oxigraph"), "load", "--location", str(ox_store), "--file", str(data)], work / "ox-load.log")
        print(f"filmgraph build, {films:,} films", file=sys.stderr, flush=True)
        fg_s, fg_rss, stderr, fg_by_process = run_measured(
            [str(bin_dir / "filmgraph"), "build", str(fg_store), "--data", str(data), "--validate", "false"],
            work / "fg-build.log", args.output.parent / f"build-memory-{films}.csv")
        index = du(fg_store / "filmgraph-index.sqlite")
        result.update({
            "build_s": {"filmgraph": fg_s, "oxigraph": ox_s, "ratio": fg_s / ox_s},
            "phases_s": phases(stderr),
            "disk_mb": {"filmgraph": du(fg_store) / 2**20, "filmgraph store": (du(fg_store) - index) / 2**20, "filmgraph index": index / 2**20,
                        "oxigraph": du(ox_store) / 2**20, "ratio": du(fg_store) / du(ox_store)},
            "peak_rss_mb": {"filmgraph": fg_rss / 2**20, "oxigraph": ox_rss / 2**20},
            "filmgraph_rss_by_process": fg_by_process,
        })
    finally:
        if not args.keep:
            for d in (fg_store, ox_store):
                shutil.rmtree(d, ignore_errors=True)
            data.unlink(missing_ok=True)
    return result


def report(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per size, then the phases of each build."""
    lines = [
        "| films | triples | build s fg / ox | fg / ox | disk MB fg store + index / ox | fg / ox | peak RSS MB fg / ox |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        b, d, m = r["build_s"], r["disk_mb"], r["peak_rss_mb"]
        lines.append(
            f"| {r['films']:,} | {r['triples']:,} | {b['filmgraph']:,.1f} / {b['oxigraph']:,.1f} | {b['ratio']:.2f}x "
            f"| {d['filmgraph store']:,.0f} + {d['filmgraph index']:,.0f} / {d['oxigraph']:,.0f} | {d['ratio']:.2f}x "
            f"| {m['filmgraph']:,.0f} / {m['oxigraph']:,.0f} |"
        )
    lines += ["", "Phases of `filmgraph build`, seconds (the rules run beside the index, so phases overlap):", ""]
    for r in results:
        cells = ", ".join(f"{name} {s:,.1f}" for name, s in r["phases_s"].items())
        lines.append(f"- {r['films']:,} films: {cells}")
    lines += ["", "Resident memory of the build's processes, MB (each one's own peak; what each held at the tree's peak):", ""]
    for r in results:
        m = r["filmgraph_rss_by_process"]
        own = ", ".join(f"{role} {mb:,}" for role, mb in m["own_peak_mb"])
        at = ", ".join(f"{role} {mb:,}" for role, mb in m["at_tree_peak_mb"])
        lines.append(f"- {r['films']:,} films: own peaks {own}; at the tree's peak ({r['peak_rss_mb']['filmgraph']:,.0f}) {at}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the build benchmark for each size; print the table and write the figures as JSON."""
    p = argparse.ArgumentParser(description="filmgraph build vs oxigraph load of the same file, same run")
    p.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of films")
    p.add_argument("--keep", action="store_true", help="keep the generated data and the stores (bench/data) after measuring")
    p.add_argument("--workdir", type=Path, default=HERE / "data")
    p.add_argument("--output", type=Path, default=HERE / "out" / "build.json")
    args = p.parse_args(argv)
    return each_size(args, bench_size, report)


if __name__ == "__main__":
    sys.exit(main())
