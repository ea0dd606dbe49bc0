"""Does reading Oxigraph's in-memory store copy its pages in a forked process? (Why the query workers cost memory.)

    .venv/bin/python bench/generate.py 10000 /tmp/films.nt
    .venv/bin/python bench/cow.py /tmp/films.nt

Loads the N-Triples into ``pyoxigraph.Store()`` (the in-memory engine), freezes
and stops Python's collector (so that only the engine writes), forks, and in the
child prints its private memory (USS) before and after a label search (a REGEX
over every name) and a count of every triple. A page the child only read stays
shared with the parent; a page the engine writes to while it reads is copied.
"""

from __future__ import annotations

import gc
import os
import sys

import psutil
import pyoxigraph as ox

SEARCH = 'SELECT ?s ?l WHERE { ?s <https://schema.org/name> ?l FILTER(REGEX(?l, "^film 5000", "i")) } LIMIT 20'
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def main(path: str) -> int:
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
    gc.collect()
    gc.freeze()
    mib = lambda: psutil.Process().memory_full_info().uss / 2**20  # noqa: E731
    print(f"parent, store loaded: USS {mib():.0f} MiB")
    pid = os.fork()
    if pid == 0:
        gc.disable()
        print(f"child, forked: USS {mib():.0f} MiB")
        for name, query in (("label search", SEARCH), ("label search again", SEARCH), ("count of every triple", COUNT)):
            list(store.query(query))  # type: ignore[call-overload]
            print(f"child, after {name}: USS {mib():.0f} MiB")
        os._exit(0)
    os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
