"""Could one process hold the in-memory store for every client query, and renew itself by fork when a query runs away?

pyoxigraph cannot stop a running query, so filmgraph stops a runaway by killing
the process that runs it; and Oxigraph's in-memory engine writes to the pages
it reads (bench/cow.py), so every query process forked from the one that loaded
the store ends up with its own copy. One process with a thread a query would
hold one copy; when a query passes its limit, that process would fork a fresh
one (fork copies the calling thread only: the runaway is not in the child) and
be killed. This tries it: two runaway queries and two threads of ordinary
queries run on the store, the process forks, and the child answers the ordinary
queries (checked against the answers before) alone and on three threads, then
reports its memory once the parent is gone.

    .venv/bin/python bench/fork_renewal.py STORE_DIR        # a store made by `filmgraph build`

Measured at 10^4 films (2026-12-05, two runs): the child answers every query
correctly (fork took 81-130 ms), but it inherits what the runaway queries had
allocated when it was forked: 385-610 MiB private once the old process is gone,
for a store of 110 MiB. A renewal by fork keeps the garbage of every runaway it
renews from, so it is no way to one copy of the store.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pyoxigraph as ox

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FILM = "https://w3id.org/filmgraph/film/r5000"
QUERIES = [
    f"ASK {{ <{FILM}> ?p ?o }}",
    f"CONSTRUCT {{ <{FILM}> ?p ?o . ?s ?q <{FILM}> }} WHERE {{ {{ <{FILM}> ?p ?o }} UNION {{ ?s ?q <{FILM}> }} }}",
    'SELECT ?s ?l WHERE { ?s <https://schema.org/name> ?l FILTER(REGEX(?l, "^film 5", "i")) } LIMIT 20',
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
]


def memory(pid: int) -> dict[str, int]:
    """MiB of a process: RSS, PSS, and its private dirty pages."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Rss", "Pss", "Private_Dirty"):
                out[key] = int(value.split()[0]) // 1024
    return out


def answer(store: ox.Store, query: str) -> object:
    result = store.query(query)
    return bool(result) if isinstance(result, ox.QueryBoolean) else sorted(str(x) for x in result)  # type: ignore[union-attr]


def engine(report: int) -> None:
    """The process holding the store: load it, run runaways and ordinary queries on threads, fork, die."""
    disk = ox.Store.read_only(sys.argv[1])
    store = ox.Store()
    store.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    del disk
    os.write(report, f"loaded: {memory(os.getpid())}\n".encode())
    expected = [answer(store, q) for q in QUERIES]

    def busy() -> None:
        while True:
            for q in QUERIES:
                answer(store, q)

    for target in (lambda: list(store.query(RUNAWAY)), lambda: list(store.query(RUNAWAY)), busy, busy):
        threading.Thread(target=target, daemon=True).start()
    time.sleep(1.0)
    done_r, done_w = os.pipe()
    started = time.monotonic()
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # the renewed process: only this thread exists here
        forked_ms = (time.monotonic() - started) * 1000
        wrong: list[str] = []
        for _ in range(20):
            wrong += [q for q, e in zip(QUERIES, expected) if answer(store, q) != e]

        def check() -> None:
            for _ in range(10):
                wrong.extend(q for q, e in zip(QUERIES, expected) if answer(store, q) != e)

        threads = [threading.Thread(target=check) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        os.write(done_w, b"x")
        while os.getppid() == parent:  # until the old process is gone
            time.sleep(0.05)
        time.sleep(0.5)
        os.write(report, (f"child: forked in {forked_ms:.0f} ms; 80 queries alone and 120 on three threads, wrong answers: "
                          f"{len(wrong)}; its memory once the old process is gone: {memory(os.getpid())}\n").encode())
        os._exit(0)
    os.read(done_r, 1)
    os.write(report, f"old process before it is killed: {memory(os.getpid())}, child: {memory(child)}\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        engine(w)
    os.close(w)
    with os.fdopen(r, "rb") as lines:
        for line in lines:  # until the old process and its child have both closed the pipe
            print(line.decode().rstrip(), flush=True)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
