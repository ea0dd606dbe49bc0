"""``filmgraph serve`` as a subprocess on a free loopback port, and the memory of its process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from .loopback import free_port, port_is_open

ROOT = Path(__file__).resolve().parents[1]


def build_store(where: Path) -> Path:
    """A store made by ``filmgraph build`` (the shipped dataset)."""
    store = where / "store"
    built = subprocess.run([sys.executable, "-m", "filmgraph.cli", "build", str(store)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    return store


@contextmanager
def filmgraph_serve(store: Path, log: Path, *flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve ``store`` with these flags; yield its base URL and process; SIGTERM it (then kill what is left) at the end."""
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "filmgraph.cli", "serve", "--store-path", str(store), "--port", str(port), *flags],
        stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while not port_is_open(port):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process
    finally:
        tree = processes(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        _, alive = psutil.wait_procs(tree[1:], timeout=10)
        for p in alive:  # only processes this server started
            p.kill()
        out.close()


def processes(pid: int) -> list[psutil.Process]:
    """A process and all its descendants."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_by_process(pid: int) -> dict[int, int]:
    """Resident memory of each process of the tree, bytes."""
    out = {}
    for p in processes(pid):
        try:
            out[p.pid] = p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return out


def tree_rss(pid: int) -> int:
    """Resident memory of the whole process tree (children included), bytes."""
    return sum(rss_by_process(pid).values())
